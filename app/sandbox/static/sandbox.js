/* The sandbox page: polls /sandbox/api/state, renders channels, messages, threads and modals, and turns every
 * click into a call to /sandbox/api/..., which sends the real bot the request Slack would send. */
(function () {
  "use strict";
  const { el, esc, mrkdwn, blocks, state: readState, plain } = window.BK;
  const REACTIONS = ["eyes", "white_check_mark", "fire", "+1", "rotating_light"];
  const POLL_MS = 800;

  const ui = {
    me: localStorage.getItem("sandbox.me") || "",
    channel: localStorage.getItem("sandbox.channel") || "",
    thread: null,              // ts of the open thread's parent
    data: null,
    version: null,
    viewKey: null,             // what the modal layer shows now
    drafts: {},                // view id -> {"block/action": value}
    seen: JSON.parse(localStorage.getItem("sandbox.seen") || "{}"),  // channel -> last seen ts
    dismissed: new Set(),      // ephemeral ts the person dismissed
  };

  const $ = (id) => document.getElementById(id);

  /* ---------- talking to the server ---------- */

  async function call(path, body) {
    const response = await fetch(`/sandbox/api/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ as: ui.me, ...body }),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = { ok: false, error: `HTTP ${response.status}` }; }
    if (!response.ok || answer.ok === false) toast(answer.error || `HTTP ${response.status}`, "error");
    refresh();
    return answer;
  }

  let polling = null;
  async function refresh() {
    clearTimeout(polling);
    try {
      const query = new URLSearchParams({ as: ui.me, since: ui.version || "" });
      const response = await fetch(`/sandbox/api/state?${query}`);
      const data = await response.json();
      document.body.classList.remove("offline");
      if (!data.unchanged) render(data);
    } catch (e) {
      document.body.classList.add("offline");
    }
    polling = setTimeout(refresh, POLL_MS);
  }

  function toast(text, kind) {
    const node = el("div", { class: `toast ${kind || ""}`, role: kind === "error" ? "alert" : "status", text });
    $("toasts").append(node);
    setTimeout(() => node.remove(), kind === "error" ? 6000 : 3000);
  }

  /* ---------- rendering ---------- */

  function context(extra) {
    const d = ui.data;
    const channels = Object.fromEntries(d.channels.map((c) => [c.id, c]));
    return Object.assign({
      users: d.users, usergroups: d.usergroups, channels, people: d.people,
      confirm: showConfirm,
    }, extra);
  }

  function render(data) {
    ui.data = data;
    ui.version = data.version;
    if (!data.people.some((p) => p.id === ui.me)) ui.me = data.people[0] ? data.people[0].id : "";
    if (!data.channels.some((c) => c.id === ui.channel)) {
      const home = data.channels.find((c) => c.name === data.announcements) || data.channels[0];
      ui.channel = home ? home.id : "";
    }
    renderTopbar();
    renderSidebar();
    renderConversation();
    renderThread();
    renderModal();
  }

  function renderTopbar() {
    const d = ui.data;
    const select = $("me");
    const wanted = d.people.map((p) => `${p.id}:${p.real_name}`).join("|");
    if (select.dataset.people !== wanted) {
      select.replaceChildren(...d.people.map((p) => el("option", { value: p.id, text: p.real_name })));
      select.dataset.people = wanted;
    }
    select.value = ui.me;
    $("clock-now").textContent = d.clock.label;
    $("clock-offset").textContent = d.clock.offset_minutes ? `(+${d.clock.offset_minutes} min)` : "(real time)";
  }

  function unread(channel) {
    const messages = ui.data.messages[channel.id] || [];
    const last = messages.length ? messages[messages.length - 1].ts : null;
    return channel.id !== ui.channel && last && (!ui.seen[channel.id] || last > ui.seen[channel.id]);
  }

  function navItem(channel, label) {
    const classes = ["nav-item", channel.id === ui.channel ? "active" : "", unread(channel) ? "unread" : "",
      channel.is_member ? "" : "not-member"].join(" ");
    return el("li", {}, [el("a", {
      href: "#", class: classes, "data-channel": channel.id,
      onclick: (e) => { e.preventDefault(); openChannel(channel.id); },
    }, [el("span", { class: "nav-label", html: label }), unread(channel) ? el("span", { class: "dot", "aria-label": "new messages" }) : null])]);
  }

  function renderSidebar() {
    const d = ui.data;
    $("channels").replaceChildren(...d.channels.filter((c) => !c.is_dm).map((c) =>
      navItem(c, `<span class="hash">${c.is_private ? "🔒" : "#"}</span>${esc(c.name)}`)));
    const dms = d.channels.filter((c) => c.is_dm);
    $("dms").replaceChildren(...(dms.length ? dms.map((c) => navItem(c, `<span class="hash">●</span>${esc(c.name)}`))
      : [el("li", { class: "muted small empty", text: "None yet" })]));
    $("incidents").replaceChildren(...(d.incidents.length ? d.incidents.map((i) => el("li", {}, [
      el("a", { class: "nav-item", href: i.postmortem_url, download: `${i.ref}-postmortem.md`, title: `Download the post-mortem of ${i.ref}` },
        [el("span", { class: "nav-label", html: `📄 ${esc(i.ref)} <span class="muted">${esc(i.status)}</span>` })])]))
      : [el("li", { class: "muted small empty", text: "No incidents yet" })]));
    $("files").replaceChildren(...(d.files.length ? d.files.map((f) => el("li", {}, [
      el("a", { class: "nav-item", href: f.url, download: f.name }, [el("span", { class: "nav-label", text: `📎 ${f.title || f.name}` })])]))
      : [el("li", { class: "muted small empty", text: "No files yet" })]));
  }

  function currentChannel() {
    return ui.data.channels.find((c) => c.id === ui.channel);
  }

  function stickToBottom(box, draw) {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    draw();
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function renderConversation() {
    const channel = currentChannel();
    if (!channel) return;
    $("channel-title").innerHTML = channel.is_dm ? esc(channel.name) : `${channel.is_private ? "🔒 " : "#"}${esc(channel.name)}`;
    $("channel-topic").innerHTML = channel.topic ? mrkdwn(channel.topic, context()) : "";
    const meta = [`${channel.member_count} member${channel.member_count === 1 ? "" : "s"}`];
    if (channel.pins.length) meta.push(`📌 ${channel.pins.length} pinned`);
    if (!channel.is_member) meta.push("you are not a member (posting joins)");
    $("channel-meta").textContent = meta.join(" · ");
    $("composer-input").placeholder = channel.is_dm
      ? `Message ${channel.name}`
      : `Message #${channel.name}, or type ${ui.data.command} help`;
    const items = [...(ui.data.messages[channel.id] || []),
      ...(ui.data.ephemerals[channel.id] || []).filter((e) => !ui.dismissed.has(e.ts) && !e.thread_ts)]
      .sort((a, b) => (a.ts < b.ts ? -1 : 1));
    const box = $("messages");
    stickToBottom(box, () => {
      box.replaceChildren(...(items.length ? items.map((m) => message(m, channel, false))
        : [el("div", { class: "empty-channel muted", text: "No messages yet." })]));
    });
    const last = (ui.data.messages[channel.id] || []).slice(-1)[0];
    if (last && ui.seen[channel.id] !== last.ts) {
      ui.seen[channel.id] = last.ts;
      localStorage.setItem("sandbox.seen", JSON.stringify(ui.seen));
    }
  }

  function renderThread() {
    const pane = $("thread");
    const channel = currentChannel();
    const parent = channel && ui.thread && (ui.data.messages[channel.id] || []).find((m) => m.ts === ui.thread);
    if (!parent) { pane.hidden = true; ui.thread = null; return; }
    pane.hidden = false;
    const ephemeral = (ui.data.ephemerals[channel.id] || []).filter((e) => e.thread_ts === parent.ts && !ui.dismissed.has(e.ts));
    const items = [...parent.replies, ...ephemeral].sort((a, b) => (a.ts < b.ts ? -1 : 1));
    const box = $("thread-messages");
    stickToBottom(box, () => box.replaceChildren(message(parent, channel, true), el("div", { class: "thread-rule muted small", text: `${parent.replies.length} repl${parent.replies.length === 1 ? "y" : "ies"}` }),
      ...items.map((m) => message(m, channel, true))));
  }

  function message(m, channel, inThread) {
    const author = ui.data.users[m.user] || { real_name: m.user || "Slack", is_bot: false };
    const ctx = context({
      onAction: (action) => call("action", { channel: channel.id, ts: m.ts, action }),
    });
    const body = el("div", { class: "message-body" });
    if (m.blocks && m.blocks.length) body.append(blocks(m.blocks, ctx));
    else body.append(el("div", { class: "message-text", html: mrkdwn(m.text, ctx) }));
    for (const f of m.files) {
      body.append(el("a", { class: "file-card", href: f.url, download: f.name }, [
        el("span", { class: "file-icon", text: "📄" }),
        el("span", {}, [el("strong", { text: f.title || f.name }), el("span", { class: "muted small", text: ` ${f.name} · ${f.size}` })]),
        el("span", { class: "btn small", text: "Download" })]));
    }
    if (m.reactions.length) {
      body.append(el("div", { class: "reactions" }, m.reactions.map((r) => el("button", {
        type: "button", class: `reaction ${r.mine ? "mine" : ""}`, title: r.users.map((u) => (ui.data.users[u] || {}).real_name || u).join(", "),
        onclick: () => call("reaction", { channel: channel.id, ts: m.ts, name: r.name, remove: r.mine }),
        html: `${window.BK.EMOJI[r.name] || `:${esc(r.name)}:`} <span>${r.count}</span>`,
      }))));
    }
    if (!inThread && m.reply_count) {
      body.append(el("a", { href: "#", class: "thread-link", onclick: (e) => { e.preventDefault(); openThread(m.ts); },
        text: `💬 ${m.reply_count} repl${m.reply_count === 1 ? "y" : "ies"}` }));
    }
    const head = el("div", { class: "message-head" }, [
      el("strong", { class: "author", text: author.real_name || author.name }),
      author.is_bot ? el("span", { class: "tag", text: "APP" }) : null,
      el("time", { class: "muted small", datetime: m.iso, text: m.time }),
      m.edited ? el("span", { class: "muted small", text: "(edited)" }) : null,
      m.pinned ? el("span", { class: "pin-flag small", text: "📌 pinned" }) : null,
      m.ephemeral ? el("span", { class: "ephemeral-flag small", text: "Only visible to you" }) : null,
    ]);
    return el("article", {
      class: `message ${m.ephemeral ? "ephemeral" : ""} ${author.is_bot ? "from-bot" : ""}`, "data-ts": m.ts,
    }, [el("div", { class: "avatar", text: initials(author), style: `background:${colour(m.user || "")}` }),
      el("div", { class: "message-main" }, [head, body]), toolbar(m, channel, inThread)]);
  }

  function toolbar(m, channel, inThread) {
    if (m.ephemeral) {
      return el("div", { class: "toolbar" }, [el("button", { type: "button", class: "tool", title: "Dismiss", text: "✕",
        onclick: () => { ui.dismissed.add(m.ts); render(ui.data); } })]);
    }
    const tools = REACTIONS.map((name) => el("button", {
      type: "button", class: "tool", title: `React with :${name}:`, "aria-label": `React ${name}`, text: window.BK.EMOJI[name],
      onclick: () => call("reaction", { channel: channel.id, ts: m.ts, name }),
    }));
    tools.push(el("button", { type: "button", class: "tool", title: m.pinned ? "Unpin" : "Pin to channel", "aria-label": m.pinned ? "Unpin" : "Pin",
      text: "📌", onclick: () => call("pin", { channel: channel.id, ts: m.ts, remove: m.pinned }) }));
    if (!inThread) tools.push(el("button", { type: "button", class: "tool", title: "Reply in thread", "aria-label": "Reply in thread", text: "💬", onclick: () => openThread(m.ts) }));
    for (const s of ui.data.shortcuts) {
      tools.push(el("button", { type: "button", class: "tool wide", title: s.name, text: s.name,
        onclick: () => call("shortcut", { channel: channel.id, ts: m.ts, callback_id: s.callback_id }) }));
    }
    return el("div", { class: "toolbar" }, tools);
  }

  function initials(user) {
    return (user.real_name || user.name || "?").split(/\s+/).map((w) => w[0]).slice(0, 2).join("").toUpperCase();
  }

  function colour(seed) {
    let h = 0;
    for (const c of seed) h = (h * 31 + c.charCodeAt(0)) % 360;
    return `hsl(${h} 45% 45%)`;
  }

  /* ---------- modals ---------- */

  function renderModal() {
    const layer = $("modal-layer");
    const views = ui.data.views;
    const top = views[views.length - 1];
    const key = top ? `${top.id}:${top.hash}:${JSON.stringify(top.errors)}:${views.length}` : null;
    if (key === ui.viewKey) return;
    ui.viewKey = key;
    if (!top) { layer.hidden = true; layer.replaceChildren(); return; }
    const draft = (ui.drafts[top.id] ||= {});
    const form = el("form", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": plain(top.title), novalidate: true });
    const ctx = context({
      inModal: true, draft, errors: top.errors,
      remember: (block, element, value) => { draft[`${block.block_id}/${element.action_id}`] = value; },
      onAction: (action) => call("action", { view_id: top.id, action, state: readState(form) }),
    });
    const general = top.errors && top.errors[""];
    form.append(
      el("div", { class: "modal-head" }, [
        views.length > 1 ? el("span", { class: "muted small", text: `${views.length} / ${views.length}` }) : null,
        el("h2", { html: window.BK.emoji(esc(plain(top.title))) }),
        el("button", { type: "button", class: "btn ghost", "aria-label": "Close", text: "✕", onclick: () => closeView(top) }),
      ]),
      el("div", { class: "modal-body" }, [blocks(top.blocks, ctx), general ? el("div", { class: "field-error", role: "alert", text: general }) : null]),
      el("div", { class: "modal-foot" }, [
        el("button", { type: "button", class: "btn", text: plain(top.close) || (views.length > 1 ? "Back" : "Cancel"), onclick: () => closeView(top) }),
        top.submit ? el("button", { type: "submit", class: "btn primary", text: plain(top.submit) }) : null,
      ]),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      await call("submit", { view_id: top.id, values: readState(form) });
      if (button) button.disabled = false;
    });
    layer.replaceChildren(form);
    layer.hidden = false;
    const first = form.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function closeView(view) {
    ui.viewKey = "stale";  // whatever the next state shows is drawn afresh
    call("close", { view_id: view.id });
  }

  function showConfirm(confirm, go) {
    const layer = $("confirm-layer");
    const done = () => { layer.hidden = true; layer.replaceChildren(); };
    const dialog = el("div", { class: "modal confirm", role: "alertdialog", "aria-modal": "true", "aria-label": plain(confirm.title) || "Are you sure?" }, [
      el("div", { class: "modal-head" }, [el("h2", { text: plain(confirm.title) || "Are you sure?" })]),
      el("div", { class: "modal-body", html: mrkdwn(plain(confirm.text), context()) }),
      el("div", { class: "modal-foot" }, [
        el("button", { type: "button", class: "btn", text: plain(confirm.deny) || "Cancel", onclick: done }),
        el("button", { type: "button", class: `btn ${confirm.style || "primary"}`, text: plain(confirm.confirm) || "Yes",
          onclick: () => { done(); go(); } }),
      ]),
    ]);
    layer.replaceChildren(dialog);
    layer.hidden = false;
    dialog.querySelector(".modal-foot .btn:last-child").focus();
  }

  /* ---------- navigation and input ---------- */

  function openChannel(id) {
    ui.channel = id;
    ui.thread = null;
    localStorage.setItem("sandbox.channel", id);
    if (ui.data) render(ui.data);
  }

  function openThread(ts) {
    ui.thread = ts;
    renderThread();
    $("thread-input").focus();
  }

  $("me").addEventListener("change", (e) => {
    ui.me = e.target.value;
    localStorage.setItem("sandbox.me", ui.me);
    ui.version = null;
    ui.viewKey = "stale";
    refresh();
  });

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (text.startsWith("/")) call("command", { channel: ui.channel, text });
    else call("message", { channel: ui.channel, text });
  });

  $("thread-composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("thread-input");
    const text = input.value.trim();
    if (!text || !ui.thread) return;
    input.value = "";
    call("message", { channel: ui.channel, text, thread_ts: ui.thread });
  });

  $("thread-close").addEventListener("click", () => { ui.thread = null; renderThread(); });

  for (const button of document.querySelectorAll(".skip")) {
    button.addEventListener("click", async () => {
      const minutes = Number(button.dataset.minutes);
      const answer = await call("clock/skip", { minutes });
      if (answer.ok) toast(`Skipped ahead ${minutes} minutes`);
    });
  }

  $("fire-alert").addEventListener("click", async () => {
    const answer = await call("drill/alert", {});
    if (answer.ok) toast(answer.said || "Alert sent");
  });

  $("record-deploy").addEventListener("click", async () => {
    const answer = await call("drill/deploy", {});
    if (answer.ok) toast(answer.said || "Deploy recorded");
  });

  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-channel]");
    if (!link || !ui.data || !ui.data.channels.some((c) => c.id === link.dataset.channel)) return;
    e.preventDefault();
    openChannel(link.dataset.channel);
  });

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (!$("confirm-layer").hidden) { $("confirm-layer").hidden = true; return; }
    const views = ui.data ? ui.data.views : [];
    if (views.length) closeView(views[views.length - 1]);
  });

  refresh();
})();
