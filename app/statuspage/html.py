"""The status page as HTML: current incidents, then those resolved within the window, each with its stakeholder
updates (newest first). Jinja2 with autoescape: titles and what people wrote are escaped (their Slack markup
made safe by `markup`). A small script polls the JSON feed's `version` and reloads the page when it changed, so
an update shows without anyone reloading; without JavaScript the page still reads (and reloads itself less
often with a meta refresh)."""

from __future__ import annotations

import jinja2

from app.statuspage.feeds import rfc3339, version
from app.statuspage.view import View, when

POLL_MIN_SECONDS = 5
NO_SCRIPT_REFRESH_SECONDS = 120

TEMPLATE = """{% macro show(incident) %}
<article class="incident" id="{{ incident.ref }}" aria-labelledby="{{ incident.ref }}-title"
         data-status="{{ incident.status }}" data-severity="{{ incident.severity }}">
  <h3 id="{{ incident.ref }}-title">{{ incident.ref }}: {{ incident.title }}</h3>
  <p class="meta">
    <span class="badge status">{{ incident.status_words }}</span>
    <span class="badge severity" title="{{ meanings.get(incident.severity, '') }}">{{ incident.severity }}</span>
    Declared <time datetime="{{ rfc3339(incident.declared_at) }}">{{ incident.declared }}</time>
    {%- if incident.resolved %}, resolved
    <time datetime="{{ rfc3339(incident.resolved_at) }}">{{ incident.resolved }}</time>,
    <span class="duration">lasted {{ incident.duration }}</span>{% endif %}.
  </p>
  {% if incident.updates %}
  <ol class="updates">
  {% for update in incident.updates %}
    <li class="update" id="update-{{ update.id }}">
      <p class="meta"><time datetime="{{ rfc3339(update.posted_at) }}">{{ update.posted }}</time></p>
      <p class="text">{{ update.html }}</p>
      {% for label, value, _ in update.fields %}
      <p class="text"><strong>{{ label }}:</strong> {{ value }}</p>
      {% endfor %}
    </li>
  {% endfor %}
  </ol>
  {% else %}
  <p class="meta">No update has been posted yet.</p>
  {% endif %}
</article>
{%- endmacro %}
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ config.title }}</title>
<noscript><meta http-equiv="refresh" content="{{ no_script_refresh }}"></noscript>
<link rel="alternate" type="application/feed+json" title="{{ config.title }} (JSON Feed)" href="{{ feed_json }}">
<link rel="alternate" type="application/atom+xml" title="{{ config.title }} (Atom)" href="{{ feed_atom }}">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 50rem; padding: 1rem; color: #1b1f24; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  .summary { padding: .8rem 1rem; border-radius: .4rem; margin: 1rem 0; font-weight: 600; }
  .summary.ok { background: #e6f4ea; } .summary.down { background: #fdecea; }
  article.incident { border: 1px solid #d0d7de; border-radius: .4rem; padding: .6rem 1rem; margin: 1rem 0; }
  article.incident h3 { margin: .2rem 0; font-size: 1.1rem; }
  .meta { color: #57606a; font-size: .9rem; }
  .badge { display: inline-block; padding: 0 .4rem; border-radius: .3rem; background: #eaeef2; font-size: .85rem; }
  ol.updates { list-style: none; padding: 0; }
  ol.updates li { border-top: 1px solid #eaeef2; padding: .5rem 0; }
  .text { white-space: pre-line; }
  footer { color: #57606a; font-size: .85rem; margin-top: 2rem; }
</style>
</head>
<body data-version="{{ version }}" data-feed="{{ feed_json }}" data-poll-seconds="{{ poll_seconds }}">
<header>
  <h1>{{ config.title }}</h1>
  {% if view.current %}
  {% set count = view.current|length %}
  <p class="summary down" role="status">{{ count }} current incident{{ "s" if count != 1 }}</p>
  {% else %}
  <p class="summary ok" role="status">No current incidents</p>
  {% endif %}
</header>
<main>
<section id="current" aria-labelledby="current-title">
  <h2 id="current-title">Current incidents</h2>
  {% for incident in view.current %}{{ show(incident) }}{% else %}<p>Nothing is going on right now.</p>{% endfor %}
</section>
<section id="past" aria-labelledby="past-title">
  <h2 id="past-title">Past incidents (last {{ view.days }} days)</h2>
  {% for incident in view.past %}{{ show(incident) }}
  {% else %}<p>No incidents in the last {{ view.days }} days.</p>{% endfor %}
</section>
</main>
<footer>
  Last change:
  {% if view.changed_at %}<time datetime="{{ changed }}">{{ changed_words }}</time>{% else %}none{% endif %}.
  Follow the updates: <a href="{{ feed_atom }}">Atom feed</a>, <a href="{{ feed_json }}">JSON feed</a>.
</footer>
<script>
(function () {
  var body = document.body, every = Number(body.dataset.pollSeconds) * 1000;
  function look() {
    fetch(body.dataset.feed, {cache: "no-cache", headers: {Accept: "application/feed+json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (feed) {
        if (feed && feed._status_page && feed._status_page.version !== body.dataset.version) {
          window.location.reload();
        } else { setTimeout(look, every); }
      })
      .catch(function () { setTimeout(look, every); });
  }
  setTimeout(look, every);
})();
</script>
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_PAGE = _ENV.from_string(TEMPLATE)


def page(view: View, *, base: str, query: str, meanings: dict[str, str]) -> bytes:
    """`base`: the page's own path prefix as requested ("" on its own port, "/status" on the bot's), so the feed
    links work behind any proxy; `query`: the page's own query (`?days=7`), given to the feed it polls."""
    config = view.config
    changed = view.changed_at
    return _PAGE.render(
        view=view,
        config=config,
        version=version(view),
        feed_json=f"{base}/feed.json{query}",
        feed_atom=f"{base}/feed.atom{query}",
        poll_seconds=max(config.max_age, POLL_MIN_SECONDS),
        no_script_refresh=max(config.max_age, NO_SCRIPT_REFRESH_SECONDS),
        changed=rfc3339(changed) if changed else "",
        changed_words=when(changed, config.tz) if changed else "",
        rfc3339=rfc3339,
        meanings=meanings,
    ).encode()
