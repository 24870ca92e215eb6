"""Rendering a `PostmortemData`: Markdown through a Jinja2 template (the default ships in
incidents/templates/postmortem.md.j2; a team may point POSTMORTEM_TEMPLATE at its own), and JSON in the
versioned shape documented in docs/postmortem-json.md.

The template sees `pm` (the PostmortemData, each timeline event's `text` being its sentence in Slack mrkdwn, as
in the JSON) and these functions, all in the export's time zone: `time` (14:05), `datetime` (2026-11-21 14:05),
`when` (`time`, or `datetime` when the incident spans days), `day` (Saturday 21 November 2026), `duration`
(1h 05m), `who` (a Slack user id as @name), `event` (a timeline event's sentence in Markdown, written from its
facts), `md` (Slack mrkdwn as Markdown: mentions, channels and links), `cell` (safe inside a Markdown table
cell); and the values `multi_day`, `zone` (the time zone as shown, with the UTC offsets the incident's own times
had) and `dates` (the incident's day, or first and last days).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from app.postmortem.markup import slack_to_markdown
from app.slack.blocks.facts import event_mrkdwn
from app.words.events import Style, sentence
from incidents.durations import humanize
from incidents.errors import IncidentError
from incidents.incident_picture import IncidentPicture, picture_of
from incidents.postmortem import PostmortemData
from incidents.timeline_view import Entry

SCHEMA_VERSION = 1
DEFAULT_TEMPLATE = "postmortem.md.j2"


class TemplateProblem(IncidentError):
    """The post-mortem template cannot be read or rendered; the message says which file and where."""


# --- Markdown -----------------------------------------------------------------------------------------------


def render_markdown(
    data: PostmortemData, *, template_path: Path | str | None = None, picture: str | None = None
) -> str:
    """`picture`: the file name (or address) of the timeline chart sent beside the draft, which the draft links;
    None when there is none."""
    template = _template(str(template_path) if template_path else None, _mtime(template_path))
    try:
        return template.render(pm=worded(data), picture=picture, **_helpers(data))
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"The post-mortem template {_where(template_path)} failed: {exc}") from None


def _where(template_path: Path | str | None) -> str:
    return str(template_path) if template_path else f"(built-in {DEFAULT_TEMPLATE})"


def _mtime(template_path: Path | str | None) -> float:
    try:
        return Path(template_path).stat().st_mtime if template_path else 0.0
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _template(template_path: str | None, mtime: float) -> jinja2.Template:
    """The default from the package, or a team's own file; compiled once, again when the file changes."""
    env = jinja2.Environment(
        autoescape=False,  # Markdown, not HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    try:
        if template_path is None:
            source = (resources.files("incidents") / "templates" / DEFAULT_TEMPLATE).read_text(encoding="utf-8")
        else:
            source = Path(template_path).read_text(encoding="utf-8")
        return env.from_string(source)
    except OSError as exc:
        raise TemplateProblem(f"Cannot read the post-mortem template {template_path}: {exc.strerror}.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"The post-mortem template {_where(template_path)} has an error on line {exc.lineno}: {exc.message}"
        ) from None


def _helpers(data: PostmortemData) -> dict[str, Any]:
    """Functions and values bound to this export's time zone and people, passed to the template."""
    tz, multi_day, people = data.tz, data.spans_days, data.people

    def time(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%H:%M") if moment else "—"

    def datetime_(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"

    def when(moment: datetime | None) -> str:
        return datetime_(moment) if multi_day else time(moment)

    def day(moment: datetime) -> str:
        local = moment.astimezone(tz)
        return f"{local:%A} {local.day} {local:%B %Y}"

    def who(user_id: str | None) -> str:
        """`@name` for a Slack user id (the id when no name is known); an email is shown as it is."""
        if not user_id:
            return "nobody"
        return user_id if "@" in user_id else "@" + people.get(user_id, user_id)

    def md(text: str | None) -> str:
        return slack_to_markdown(text or "", people)

    markdown = Style(person=who, text=md)
    facts = {e.id: e for e in data.timeline}

    def event(entry: Entry) -> str:
        """The event's sentence in Markdown, from its facts (`pm.timeline` carries the mrkdwn one in `text`)."""
        return sentence(facts.get(entry.id, entry), ref=data.ref, style=markdown)

    def duration(delta: timedelta | None) -> str:
        return humanize(delta)

    def cell(text: str | None) -> str:
        return " ".join((text or "").split()).replace("|", "\\|")

    return {
        "time": time,
        "datetime": datetime_,
        "when": when,
        "day": day,
        "who": who,
        "md": md,
        "event": event,
        "duration": duration,
        "cell": cell,
        "multi_day": multi_day,
        "zone": _zone_label(data),
        "dates": _dates(data, day),
    }


def _dates(data: PostmortemData, day: Any) -> str:
    """The day of the incident, or its first and last days: from declaration to resolution (or now)."""
    first = data.milestones[0].at or data.generated_at
    last = next((m.at for m in data.milestones if m.name == "resolved" and m.at), data.generated_at)
    start, end = day(first), day(last)
    return start if start == end else f"{start} to {end}"


def _zone_label(data: PostmortemData) -> str:
    """`Europe/Paris (UTC+01:00)`: the offset the incident's own times had, not the export day's. When the clocks
    changed during the incident, every offset it saw, in order."""
    if data.timezone == "UTC":
        return data.timezone
    tz = data.tz
    moments = sorted([m.at for m in data.milestones if m.at] + [e.occurred_at for e in data.timeline])
    offsets = list(dict.fromkeys(_utc_offset(m.astimezone(tz).utcoffset()) for m in moments or [data.generated_at]))
    if len(offsets) == 1:
        return f"{data.timezone} ({offsets[0]})"
    return f"{data.timezone} ({', then '.join(offsets)}: the clocks changed during the incident)"


def _utc_offset(delta: timedelta | None) -> str:
    total = int((delta or timedelta(0)).total_seconds()) // 60
    hours, minutes = divmod(abs(total), 60)
    return f"UTC{'-' if total < 0 else '+'}{hours:02d}:{minutes:02d}"


def worded(data: PostmortemData) -> PostmortemData:
    """The data with each timeline event's `text` its sentence in Slack mrkdwn: what the JSON export and a team's
    template read (`md(e.text)` gives the Markdown)."""
    timeline = tuple(dataclasses.replace(e, text=event_mrkdwn(e, ref=data.ref)) for e in data.timeline)
    return dataclasses.replace(data, timeline=timeline)


# --- JSON ---------------------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(delta: timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds())


def to_json(data: PostmortemData) -> dict[str, Any]:
    """The export as plain JSON values; every time is ISO 8601 in UTC (`Z`); texts in Slack mrkdwn."""
    gap_texts = [event_mrkdwn(g.missed, ref=data.ref) for g in data.gaps]
    data = worded(data)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(data.generated_at),
        "timezone": data.timezone,
        "incident": {
            "ref": data.ref,
            "number": data.number,
            "title": data.title,
            "summary": data.summary,
            "severity": data.severity,
            "severity_meaning": data.severity_meaning,
            "declared_severity": data.declared_severity,
            "status": data.status,
            "private": data.private,
            "reporter_id": data.reporter_id,
            "channel": {"id": data.channel_id, "name": data.channel_name},
        },
        "owners_known": data.owners_known,
        "services": [
            {
                "name": s.name,
                "owner": None
                if s.owner is None
                else {
                    "team": s.owner.team,
                    "contacts": list(s.owner.contacts),
                    "channel": s.owner.channel,
                    "runbook": s.owner.runbook,
                },
            }
            for s in data.services
        ],
        "changes_before": {
            "services": list(data.changes_services),
            "changes": [
                {
                    "service": c.service,
                    "kind": c.kind,
                    "summary": c.summary,
                    "who": c.who,
                    "version": c.version,
                    "link": c.link,
                    "occurred_at": _iso(c.occurred_at),
                    "seconds_before_declared": _seconds(c.before_declared),
                }
                for c in data.changes
            ],
        },
        "pages": [
            {
                "team": p.team,
                "pager": p.pager,
                "status": p.status,
                "requested_by": p.requested_by,
                "requested_at": _iso(p.requested_at),
                "message": p.message,
                "sent_at": _iso(p.sent_at),
                "acknowledged_at": _iso(p.acknowledged_at),
                "resolved_at": _iso(p.resolved_at),
                "answer": p.answer,
                "failures": list(p.failures),
                "last_error": p.last_error,
            }
            for p in data.pages
        ],
        "key_times": {f"{m.name}_at": _iso(m.at) for m in data.milestones},
        "durations": {
            "to_acknowledge_seconds": _seconds(data.durations.to_acknowledge),
            "to_mitigate_seconds": _seconds(data.durations.to_mitigate),
            "to_resolve_seconds": _seconds(data.durations.to_resolve),
        },
        "roles": [
            {
                "role": r.role,
                "title": r.title,
                "user_id": r.user_id,
                "assigned_by": r.assigned_by,
                "started_at": _iso(r.started_at),
                "ended_at": _iso(r.ended_at),
            }
            for r in data.roles
        ],
        "updates": [
            {
                "posted_at": _iso(u.posted_at),
                "author_id": u.author_id,
                "text": u.text,
                "impact": u.impact,
                "next_steps": u.next_steps,
                "eta": u.eta,
            }
            for u in data.updates
        ],
        "communication_gaps": [
            {
                "started_at": _iso(g.started_at),
                "due_at": _iso(g.due_at),
                "ended_at": _iso(g.ended_at),
                "seconds": _seconds(g.length),
                "text": text,
            }
            for g, text in zip(data.gaps, gap_texts, strict=True)
        ],
        "timeline": [
            {
                "id": e.id,
                "kind": e.kind,
                "occurred_at": _iso(e.occurred_at),
                "recorded_at": _iso(e.recorded_at),
                "actor_id": e.actor_id,
                "text": e.text,
                "link": e.link,
                "data": e.data,
            }
            for e in data.timeline
        ],
        "followups": [
            {
                "id": a.id,
                "text": a.text,
                "owner_id": a.owner_id,
                "created_by": a.created_by,
                "created_at": _iso(a.created_at),
                "done": a.done,
                "done_at": _iso(a.done_at),
                # its ticket, only when one was asked for (incidents.tickets)
                **(
                    {
                        "ticket": {
                            "key": a.ticket_key,
                            "url": a.ticket_url,
                            "status": a.ticket_status,
                            "state": a.ticket_state,
                        }
                    }
                    if a.ticket_state
                    else {}
                ),
            }
            for a in data.followups
        ],
        "people": dict(sorted(data.people.items())),
        "picture": picture_json(picture_of(data)),
    }


def picture_json(picture: IncidentPicture) -> dict[str, Any]:
    """The data the timeline chart is drawn from (incidents/incident_picture.py)."""
    return {
        "starts_at": _iso(picture.starts_at),
        "ends_at": _iso(picture.ends_at),
        "still_open": picture.still_open,
        "bands": [
            {"phase": b.phase, "started_at": _iso(b.started_at), "ended_at": _iso(b.ended_at), "open": b.open}
            for b in picture.bands
        ],
        "update_ticks": [{"at": _iso(t.at), "author_id": t.author_id} for t in picture.ticks],
        "missed_updates": [
            {"started_at": _iso(m.started_at), "due_at": _iso(m.due_at), "ended_at": _iso(m.ended_at), "open": m.open}
            for m in picture.missed
        ],
        "points": [
            {
                "kind": p.kind,
                "at": _iso(p.at),
                "event_id": p.event_id,
                "actor_id": p.actor_id,
                "role": p.role,
                "user_id": p.user_id,
                "from_user_id": p.from_user_id,
            }
            for p in picture.points
        ],
    }


def render_json(data: PostmortemData) -> str:
    return json.dumps(to_json(data), indent=2, ensure_ascii=False) + "\n"
