"""The status page for stakeholders outside Slack: an HTML page (current incidents and those of the last
STATUS_PAGE_DAYS days), a JSON feed and an Atom feed of the stakeholder updates. Only what stakeholder updates
said, never the channel's chat, and never a private incident.

view.py builds what is shown from `incidents.status_page` (the public query); markup.py makes what people wrote
in Slack safe (escaped, no Slack ids); html.py (Jinja2, autoescape) and feeds.py write it; wsgi.py serves it
with its caching headers and answers bad input. Off unless STATUS_PAGE_ENABLED; served by the bot under
/status, or alone on STATUS_PAGE_PORT (`app.http.wsgi.by_local_port`)."""
