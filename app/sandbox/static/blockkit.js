/* Block Kit rendering for the sandbox page: messages and modals, as plain DOM.
 *
 * BK.mrkdwn(text, ctx)          -> HTML for Slack's mrkdwn (mentions, links, *bold*, _italic_, ~strike~, code)
 * BK.blocks(blocks, ctx)        -> a DocumentFragment; interactive elements call ctx.onAction(action, element)
 * BK.state(root)                -> view.state.values as Slack sends it, read from the rendered elements
 *
 * ctx: {users: {id: {name, real_name}}, channels: {id: {name}}, people: [{id, real_name}],
 *       onAction(action, element), draft: {"block/action": value}, errors: {block_id: message}, inModal}
 */
(function () {
  "use strict";

  const EMOJI = {
    "+1": "👍", thumbsup: "👍", "-1": "👎", eyes: "👀", white_check_mark: "✅", heavy_check_mark: "✔️",
    fire: "🔥", rotating_light: "🚨", warning: "⚠️", red_circle: "🔴", large_orange_circle: "🟠",
    orange_circle: "🟠", large_yellow_circle: "🟡", yellow_circle: "🟡", large_blue_circle: "🔵",
    blue_circle: "🔵", white_circle: "⚪", large_green_circle: "🟢", green_circle: "🟢",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", alarm_clock: "⏰", bell: "🔔", pushpin: "📌",
    round_pushpin: "📍", memo: "📝", spiral_note_pad: "🗒️", clipboard: "📋", mega: "📣", loudspeaker: "📢",
    speech_balloon: "💬", mag: "🔍", mag_right: "🔎", hammer_and_wrench: "🛠️", wrench: "🔧", tada: "🎉",
    sos: "🆘", construction: "🚧", checkered_flag: "🏁", no_entry: "⛔", x: "❌", lock: "🔒",
    busts_in_silhouette: "👥", bust_in_silhouette: "👤", point_right: "👉", raised_hand: "✋", ok_hand: "👌",
    zzz: "💤", bulb: "💡", page_facing_up: "📄", link: "🔗", calendar: "📅", clock1: "🕐", stopwatch: "⏱️",
    information_source: "ℹ️", arrows_counterclockwise: "🔄", heavy_plus_sign: "➕", chart_with_upwards_trend: "📈",
    ambulance: "🚑", telephone_receiver: "📞", bookmark: "🔖", scroll: "📜", siren: "🚨", sparkles: "✨",
    repeat: "🔁", arrow_right: "➡️", hourglass_done: "⌛", shield: "🛡️", detective: "🕵️", loud_sound: "🔊",
  };

  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  function unslack(s) {
    return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emoji(html) {
    return html.replace(/:([a-z0-9_+\-]+):/g, (m, name) => (EMOJI[name] ? `<span class="emoji" title=":${name}:">${EMOJI[name]}</span>` : m));
  }

  function userName(id, ctx) {
    const u = ctx.users && ctx.users[id];
    return u ? u.real_name || u.name : id;
  }

  function token(inner, ctx) {
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) return `<span class="mention">@${esc(userName(target.slice(1), ctx))}</span>`;
    if (target.startsWith("#")) {
      const c = ctx.channels && ctx.channels[target.slice(1)];
      return `<a class="mention channel-link" href="#" data-channel="${esc(target.slice(1))}">#${esc(label || (c ? c.name : target.slice(1)))}</a>`;
    }
    if (target.startsWith("!date^")) {
      const seconds = Number(target.split("^")[1]);
      const when = Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : "";
      return `<time datetime="${esc(when)}">${esc(unslack(label || when))}</time>`;
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice(9);
      const handle = (ctx.usergroups && ctx.usergroups[id]) || label || id;
      return `<span class="mention">@${esc(String(handle).replace(/^@/, ""))}</span>`;
    }
    if (target.startsWith("!")) return `<span class="mention">@${esc(label || target.slice(1).split("^")[0])}</span>`;
    const url = unslack(target);
    const text = label ? unslack(label) : url;
    const inChannel = url.match(/\/archives\/([A-Z0-9]+)\/p(\d+)/);
    const channelAttr = inChannel ? ` data-channel="${esc(inChannel[1])}"` : "";
    return `<a href="${esc(url)}" target="_blank" rel="noopener"${channelAttr}>${esc(text)}</a>`;
  }

  /* Slack mrkdwn to HTML. Tokens in <...> are rendered first and kept aside so formatting never breaks them. */
  function mrkdwn(text, ctx) {
    const kept = [];
    const keep = (html) => `\u0000${kept.push(html) - 1}\u0000`;
    let s = String(text ?? "");
    s = s.replace(/```([\s\S]*?)```/g, (m, code) => keep(`<pre>${esc(unslack(code.replace(/^\n/, "")))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (m, code) => keep(`<code>${esc(unslack(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (m, inner) => keep(token(inner, ctx || {})));
    s = esc(unslack(s));
    s = s.replace(/(^|[\s(>\u0000])\*([^*\n]+)\*(?=$|[\s).,!?:;\u0000])/g, "$1<strong>$2</strong>");
    s = s.replace(/(^|[\s(>\u0000])_([^_\n]+)_(?=$|[\s).,!?:;\u0000])/g, "$1<em>$2</em>");
    s = s.replace(/(^|[\s(>\u0000])~([^~\n]+)~(?=$|[\s).,!?:;\u0000])/g, "$1<del>$2</del>");
    s = s.replace(/^&gt; ?(.*)$/gm, '<span class="quote">$1</span>');
    s = emoji(s).replace(/\n/g, "<br>");
    return s.replace(/\u0000(\d+)\u0000/g, (m, i) => kept[Number(i)]);
  }

  function textHtml(obj, ctx) {
    if (!obj) return "";
    if (typeof obj === "string") return mrkdwn(obj, ctx);
    return obj.type === "mrkdwn" ? mrkdwn(obj.text, ctx) : emoji(esc(obj.text)).replace(/\n/g, "<br>");
  }

  function plain(obj) {
    return obj ? (typeof obj === "string" ? obj : obj.text || "") : "";
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "html") node.innerHTML = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of [].concat(children || [])) if (child) node.append(child);
    return node;
  }

  function optionsOf(element) {
    if (element.option_groups) return element.option_groups.flatMap((g) => g.options || []);
    return element.options || [];
  }

  function sameOption(a, b) {
    return a && b && a.value === b.value;
  }

  /* ---------- interactive elements ---------- */

  function confirmThen(element, ctx, go) {
    if (!element.confirm || !ctx.confirm) return go();
    ctx.confirm(element.confirm, go);
  }

  /* An action as the page sends it: ids and a simple value (an option value, a user id, a list, text). */
  function fire(block, element, value, ctx) {
    const action = { action_id: element.action_id, block_id: block.block_id };
    if (value !== undefined) action.value = value;
    confirmThen(element, ctx, () => ctx.onAction && ctx.onAction(action, element));
  }

  function draftOf(block, element, ctx) {
    const key = `${block.block_id}/${element.action_id}`;
    return ctx.draft && key in ctx.draft ? ctx.draft[key] : undefined;
  }

  function stateful(node, block, element) {
    node.dataset.stateful = "1";
    node.dataset.blockId = block.block_id;
    node.dataset.actionId = element.action_id;
    node.dataset.type = element.type;
    node._bk = element;
    return node;
  }

  function dispatches(block, element, ctx) {
    // In messages every select fires at once; in modals only actions/section elements, or inputs with dispatch_action.
    if (!ctx.inModal) return true;
    return block.type !== "input" || Boolean(block.dispatch_action);
  }

  function button(block, element, ctx) {
    const cls = ["btn", element.style || ""].join(" ").trim();
    return el("button", {
      type: "button", class: cls, "data-action-id": element.action_id,
      html: emoji(esc(plain(element.text))),
      onclick: () => fire(block, element, undefined, ctx),
    });
  }

  function selectNode(block, element, ctx, choices, initial) {
    const select = el("select", { class: "select", "aria-label": plain(element.placeholder) || plain(block.label) || element.action_id });
    select.append(el("option", { value: "", text: plain(element.placeholder) || "Choose…" }));
    const draft = draftOf(block, element, ctx);
    const chosen = draft !== undefined ? draft : initial;
    const add = (parent, c) => parent.append(el("option", { value: c.value, text: c.label, selected: c.value === chosen || undefined }));
    for (const c of choices) {
      if (c.group) {
        const group = el("optgroup", { label: c.group });
        c.options.forEach((o) => add(group, o));
        select.append(group);
      } else add(select, c);
    }
    stateful(select, block, element);
    select.addEventListener("change", () => {
      ctx.remember && ctx.remember(block, element, select.value);
      if (dispatches(block, element, ctx) && select.value) fire(block, element, select.value, ctx);
    });
    return select;
  }

  function staticSelect(block, element, ctx) {
    const option = (o) => ({ value: o.value, label: plain(o.text) });
    const choices = element.option_groups
      ? element.option_groups.map((g) => ({ group: plain(g.label), options: (g.options || []).map(option) }))
      : (element.options || []).map(option);
    return selectNode(block, element, ctx, choices, element.initial_option && element.initial_option.value);
  }

  function usersSelect(block, element, ctx) {
    if (element.type === "users_select") {
      const people = (ctx.people || []).map((p) => ({ value: p.id, label: p.real_name }));
      return selectNode(block, element, ctx, people, element.initial_user);
    }
    const channels = Object.entries(ctx.channels || {}).filter(([, c]) => !c.is_dm).map(([id, c]) => ({ value: id, label: `#${c.name}` }));
    return selectNode(block, element, ctx, channels, element.initial_conversation || element.initial_channel);
  }

  function overflow(block, element, ctx) {
    const wrap = el("span", { class: "overflow" });
    const menu = el("div", { class: "overflow-menu", hidden: true });
    for (const option of element.options || []) {
      menu.append(el("button", {
        type: "button", class: "overflow-item", text: plain(option.text),
        onclick: () => { menu.hidden = true; fire(block, element, option.value, ctx); },
      }));
    }
    wrap.append(el("button", { type: "button", class: "btn ghost", "aria-label": "More actions", text: "⋯", onclick: () => { menu.hidden = !menu.hidden; } }), menu);
    return wrap;
  }

  /* Checkboxes, radio buttons, and multi-selects shown as toggle chips (no Ctrl-click needed). */
  function checkable(block, element, ctx, choices) {
    const radio = element.type === "radio_buttons";
    const chips = element.type.startsWith("multi_");
    const box = el("div", { class: chips ? "checks chips" : "checks", role: radio ? "radiogroup" : "group",
      "aria-label": plain(element.placeholder) || plain(block.label) || element.action_id });
    const draft = draftOf(block, element, ctx);
    const initial = draft !== undefined ? draft
      : radio ? (element.initial_option ? [element.initial_option.value] : [])
      : chips && !element.type.includes("static") ? element.initial_users || element.initial_conversations || element.initial_channels || []
      : (element.initial_options || []).map((o) => o.value);
    const name = `${block.block_id}-${element.action_id}`;
    const options = choices || (element.options || optionsOf(element)).map((o) => ({ value: o.value, text: o.text, description: o.description }));
    for (const option of options) {
      const input = el("input", { type: radio ? "radio" : "checkbox", name, value: option.value, checked: (initial || []).includes(option.value) || undefined });
      input.addEventListener("change", () => {
        ctx.remember && ctx.remember(block, element, readValue(box));
        if (dispatches(block, element, ctx)) fire(block, element, simpleValue(box), ctx);
      });
      box.append(el("label", { class: "check" }, [input, el("span", { class: "check-text" }, [
        el("span", { html: textHtml(option.text, ctx) }),
        option.description ? el("span", { class: "muted small", html: textHtml(option.description, ctx) }) : null])]));
    }
    return stateful(box, block, element);
  }

  function textInput(block, element, ctx) {
    const draft = draftOf(block, element, ctx);
    const value = draft !== undefined ? draft : element.initial_value || "";
    const common = {
      class: "input", placeholder: plain(element.placeholder) || undefined,
      maxlength: element.max_length || undefined, "aria-label": element.action_id,
    };
    let node;
    if (element.multiline) {
      node = el("textarea", Object.assign({ rows: 4 }, common));
      node.value = value;
    } else {
      const type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[element.type] || "text";
      node = el("input", Object.assign({ type, value }, common));
    }
    node.addEventListener("input", () => ctx.remember && ctx.remember(block, element, node.value));
    return stateful(node, block, element);
  }

  function picker(block, element, ctx) {
    const kind = element.type === "timepicker" ? "time" : "date";
    const draft = draftOf(block, element, ctx);
    const node = el("input", { class: "input", type: kind, value: draft ?? element.initial_date ?? element.initial_time ?? "" });
    stateful(node, block, element);
    node.addEventListener("change", () => {
      ctx.remember && ctx.remember(block, element, node.value);
      if (dispatches(block, element, ctx)) fire(block, element, simpleValue(node), ctx);
    });
    return node;
  }

  function element(block, element, ctx) {
    switch (element.type) {
      case "button": return button(block, element, ctx);
      case "static_select": case "external_select":
        return staticSelect(block, element, ctx);
      case "multi_static_select": case "multi_external_select":
        return checkable(block, element, ctx);
      case "multi_users_select":
        return checkable(block, element, ctx, (ctx.people || []).map((p) => ({ value: p.id, text: p.real_name })));
      case "multi_conversations_select": case "multi_channels_select":
        return checkable(block, element, ctx, Object.entries(ctx.channels || {}).filter(([, c]) => !c.is_dm)
          .map(([id, c]) => ({ value: id, text: `#${c.name}` })));
      case "users_select": case "conversations_select": case "channels_select":
        return usersSelect(block, element, ctx);
      case "overflow": return overflow(block, element, ctx);
      case "checkboxes": case "radio_buttons": return checkable(block, element, ctx);
      case "plain_text_input": case "number_input": case "email_text_input": case "url_text_input":
        return textInput(block, element, ctx);
      case "datepicker": case "timepicker": return picker(block, element, ctx);
      case "image": return el("img", { class: "inline-image", src: element.image_url, alt: element.alt_text || "" });
      default: return el("span", { class: "muted small", text: `[${element.type}]` });
    }
  }

  /* ---------- reading state ---------- */

  function readValue(node) {
    if (node.tagName === "SELECT") return node.multiple ? [...node.selectedOptions].map((o) => o.value) : node.value;
    if (node.classList.contains("checks")) return [...node.querySelectorAll("input:checked")].map((i) => i.value);
    return node.value;
  }

  /* The value Slack would hold for this element, simply: text, an option value, a user id, or a list. */
  function simpleValue(node) {
    const value = readValue(node);
    if (node._bk.type === "radio_buttons") return value.length ? value[0] : null;
    return value === "" ? null : value;
  }

  /* {block_id: {action_id: simple value}} for every element of a view (or message) that holds state. */
  function state(root) {
    const values = {};
    for (const node of root.querySelectorAll("[data-stateful]")) {
      (values[node.dataset.blockId] ||= {})[node.dataset.actionId] = simpleValue(node);
    }
    return values;
  }

  /* ---------- blocks ---------- */

  function section(block, ctx) {
    const body = el("div", { class: "section-body" });
    if (block.text) body.append(el("div", { class: "section-text", html: textHtml(block.text, ctx) }));
    if (block.fields && block.fields.length) {
      body.append(el("div", { class: "fields" }, block.fields.map((f) => el("div", { class: "field", html: textHtml(f, ctx) }))));
    }
    const node = el("div", { class: "block section" }, [body]);
    if (block.accessory) node.append(el("div", { class: "accessory" }, [element(block, block.accessory, ctx)]));
    return node;
  }

  function context(block, ctx) {
    return el("div", { class: "block context" }, (block.elements || []).map((e) =>
      e.type === "image" ? el("img", { class: "context-image", src: e.image_url, alt: e.alt_text || "" }) : el("span", { html: textHtml(e, ctx) })));
  }

  function input(block, ctx) {
    const error = ctx.errors && ctx.errors[block.block_id];
    const id = `input-${block.block_id}`;
    const control = element(block, block.element, ctx);
    const group = control.tagName === "DIV";
    const label = el(group ? "div" : "label", { class: "input-label", id: `${id}-label`, for: group ? undefined : id }, [
      el("span", { html: emoji(esc(plain(block.label))) }),
      block.optional ? el("span", { class: "muted small", text: " (optional)" }) : null,
    ]);
    control.id = id;
    control.removeAttribute("aria-label");
    if (group) control.setAttribute("aria-labelledby", label.id);
    if (error) control.setAttribute("aria-invalid", "true");
    const node = el("div", { class: "block input-block" + (error ? " has-error" : ""), "data-block": block.block_id }, [
      el("div", { class: "input-wrap" }, [label, control]),
      block.hint ? el("div", { class: "muted small hint-text", html: textHtml(block.hint, ctx) }) : null,
      error ? el("div", { class: "field-error", role: "alert", text: error }) : null,
    ]);
    return node;
  }

  function richText(block, ctx) {
    const parts = [];
    const walk = (items) => (items || []).map((item) => {
      switch (item.type) {
        case "text": {
          let html = esc(item.text).replace(/\n/g, "<br>");
          const s = item.style || {};
          if (s.code) html = `<code>${html}</code>`;
          if (s.bold) html = `<strong>${html}</strong>`;
          if (s.italic) html = `<em>${html}</em>`;
          if (s.strike) html = `<del>${html}</del>`;
          return html;
        }
        case "user": return `<span class="mention">@${esc(userName(item.user_id, ctx))}</span>`;
        case "channel": return token(`#${item.channel_id}`, ctx);
        case "link": return `<a href="${esc(item.url)}" target="_blank" rel="noopener">${esc(item.text || item.url)}</a>`;
        case "emoji": return EMOJI[item.name] || `:${item.name}:`;
        default: return "";
      }
    }).join("");
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") parts.push(`<div>${walk(part.elements)}</div>`);
      else if (part.type === "rich_text_preformatted") parts.push(`<pre>${walk(part.elements)}</pre>`);
      else if (part.type === "rich_text_quote") parts.push(`<span class="quote">${walk(part.elements)}</span>`);
      else if (part.type === "rich_text_list") {
        const tag = part.style === "ordered" ? "ol" : "ul";
        parts.push(`<${tag}>${(part.elements || []).map((i) => `<li>${walk(i.elements)}</li>`).join("")}</${tag}>`);
      }
    }
    return el("div", { class: "block rich-text", html: parts.join("") });
  }

  function block(b, ctx) {
    switch (b.type) {
      case "section": return section(b, ctx);
      case "header": return el("div", { class: "block header", html: emoji(esc(plain(b.text))) });
      case "divider": return el("hr", { class: "block divider" });
      case "context": return context(b, ctx);
      case "actions": return el("div", { class: "block actions" }, (b.elements || []).map((e) => element(b, e, ctx)));
      case "input": return input(b, ctx);
      case "image": return el("figure", { class: "block image" }, [
        el("img", { src: b.image_url, alt: b.alt_text || "" }), b.title ? el("figcaption", { text: plain(b.title) }) : null]);
      case "rich_text": return richText(b, ctx);
      default: return el("div", { class: "block muted small", text: `[${b.type} block]` });
    }
  }

  function blocks(list, ctx) {
    const fragment = document.createDocumentFragment();
    for (const b of list || []) fragment.append(block(b, ctx));
    return fragment;
  }

  window.BK = { mrkdwn, blocks, state, plain, esc, emoji, EMOJI, el };
})();
