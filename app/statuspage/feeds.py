"""The stakeholder updates as feeds: JSON Feed 1.1 (https://jsonfeed.org/version/1.1) and Atom (RFC 4287).

One item per stakeholder update, newest first, titled with its incident, the incident's status and severity;
ids are tag: URIs (RFC 4151) built from the update's row id, so they never change. The JSON feed also carries
the incidents shown (`_status_page`, a JSON Feed extension) and a `version` the page polls to reload itself."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from app.statuspage.view import IncidentView, UpdateView, View

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM = "http://www.w3.org/2005/Atom"
NOTHING_YET = datetime(1970, 1, 1, tzinfo=UTC)  # Atom needs an <updated> even when no incident was ever shown


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def title_of(update: UpdateView) -> str:
    incident = update.incident
    return f"{incident.ref}: {incident.title} ({incident.status_words}, {incident.severity})"


def incident_data(incident: IncidentView) -> dict[str, Any]:
    return {
        "ref": incident.ref,
        "title": incident.title,
        "status": incident.status,
        "status_text": incident.status_words,
        "severity": incident.severity,
        "declared_at": rfc3339(incident.declared_at),
        "resolved_at": rfc3339(incident.resolved_at) if incident.resolved_at else None,
        "duration": incident.duration,
        "updates": len(incident.updates),
    }


def version(view: View) -> str:
    """What the page shows, as a short digest: the page and the JSON feed of the same view carry the same one."""
    shown = [
        [incident_data(i), [[u.id, u.text_body] for u in i.updates]] for i in view.incidents
    ]  # every update of every incident, not only the feed's newest
    digest = hashlib.sha256(json.dumps([view.days, shown], sort_keys=True).encode()).hexdigest()
    return digest[:20]


def json_feed(view: View) -> bytes:
    config = view.config
    items = [
        {
            "id": config.tag(f"{u.incident.ref}/update/{u.id}"),
            "url": f"{config.url}/#{u.incident.ref}",
            "title": title_of(u),
            "content_html": str(u.html_body),
            "content_text": u.text_body,
            "date_published": rfc3339(u.posted_at),
            "tags": [u.incident.severity, u.incident.status_words],
            "_incident": {"ref": u.incident.ref, "status": u.incident.status, "severity": u.incident.severity},
        }
        for u in view.updates
    ]
    feed = {
        "version": JSON_FEED_VERSION,
        "title": config.title,
        "home_page_url": f"{config.url}/",
        "feed_url": f"{config.url}/feed.json",
        "description": f"Stakeholder updates on current incidents and those of the last {view.days} days.",
        "language": "en",
        "authors": [{"name": config.title}],
        "items": items,
        "_status_page": {
            "version": version(view),
            "updated": rfc3339(view.changed_at) if view.changed_at else None,
            "days": view.days,
            "incidents": [incident_data(i) for i in view.incidents],
        },
    }
    return json.dumps(feed, ensure_ascii=False, indent=2).encode()


def atom_feed(view: View) -> bytes:
    config = view.config
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", config.tag("status"))
    sub(feed, "title", config.title)
    sub(feed, "subtitle", f"Stakeholder updates on current incidents and those of the last {view.days} days.")
    sub(feed, "updated", rfc3339(view.changed_at or NOTHING_YET))
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{config.url}/feed.atom")
    sub(feed, "link", rel="alternate", type="text/html", href=f"{config.url}/")
    sub(sub(feed, "author"), "name", config.title)
    for update in view.updates:
        entry = sub(feed, "entry")
        sub(entry, "id", config.tag(f"{update.incident.ref}/update/{update.id}"))
        sub(entry, "title", title_of(update))
        sub(entry, "updated", rfc3339(update.posted_at))
        sub(entry, "published", rfc3339(update.posted_at))
        sub(entry, "link", rel="alternate", type="text/html", href=f"{config.url}/#{update.incident.ref}")
        sub(entry, "category", term=update.incident.severity)
        sub(entry, "category", term=update.incident.status_words)
        sub(entry, "summary", update.text_body, type="text")
        sub(entry, "content", str(update.html_body), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
