"""timeline events are facts: their sentences leave the text column

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Until 0001 the domain wrote each timeline event's sentence, in Slack mrkdwn, into `text` ("Acknowledged by
<@U02BOB>"). From now on an event is its kind, its actor and its fields in `data`; `text` keeps only what a
person wrote (a note, a message, an update, a follow-up, the title at declaration) and the sentences are written
by the renderers. The upgrade reads the old sentences once and keeps their facts; the downgrade writes them back.

Why a migration rather than a reader that tells old rows from new ones: an old row and a new one cannot be told
apart reliably (a title may read like a sentence), and with one format the renderers stay simple. Frozen: this
file knows the sentences of 0001 as they were, and imports nothing from `incidents`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

events = sa.table(
    "timeline_events",
    sa.column("id", sa.Integer),
    sa.column("incident_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("actor_id", sa.String),
    sa.column("text", sa.Text),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("source", sa.String),
    sa.column("source_key", sa.String),
    sa.column("data", sa.JSON),
)
incidents = sa.table("incidents", sa.column("id", sa.Integer), sa.column("number", sa.Integer))

# Kinds whose 0001 sentence is made of facts already in the row (actor_id, data): the text goes.
WORDS_ONLY = {
    "acknowledged",
    "resolved",
    "reopened",
    "severity_changed",
    "role_assigned",
    "role_handover",
    "milestones_filled",
    "reminder_snoozed",
    "update_missed",
    "escalated",
    "owners_engaged",
    "postmortem_uploaded",
}
ASKING = ", asking someone to take the communicate role"
_DECLARED = re.compile(r"^INC-\d+ declared as [^:]*: ")
_TARGET_ROLE = re.compile(r"\((\w+)\)" + re.escape(ASKING))
_AUTHOR = re.compile(r"by <@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
FOLLOWUP_ADDED, FOLLOWUP_DONE = "Follow-up added: ", "Follow-up done: "


def _declared_from(row: Any) -> bool:
    return row.kind == "message" and (row.source_key or "").startswith("declared_from:")


def _facts(row: Any) -> tuple[str, dict[str, Any]]:
    """The 0002 text and data of a 0001 row."""
    text, data = row.text or "", dict(row.data or {})
    if row.kind in WORDS_ONLY:
        return "", data
    if row.kind == "declared":
        match = _DECLARED.match(text)
        return (text[match.end() :] if match else text), data
    if row.kind == "mitigated":
        return "", data | ({"again": True} if text.startswith("Mitigated again") else {})
    if row.kind == "reminder_sent":
        if ASKING in text:
            match = _TARGET_ROLE.search(text)
            data |= {"needs_communicator": True, "target_role": match.group(1) if match else None}
        return "", data
    if row.kind == "followup_added":
        text = text.removeprefix(FOLLOWUP_ADDED)
        if data.get("owner_id"):
            text = text.removesuffix(f" (owner <@{data['owner_id']}>)")
        return text, data
    if row.kind == "followup_done":
        return text.removeprefix(FOLLOWUP_DONE), data
    if _declared_from(row):
        match = _AUTHOR.search(text)
        author = match.group(1) if match else None
        return "", data | {"declared_from": True, "author_id": author, "permalink": row.source}
    return text, data


def _humanize(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def _gap(row: Any, d: dict[str, Any]) -> str:
    since = datetime.fromisoformat(d["since"])
    occurred = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=since.tzinfo)
    windows = int(d.get("windows") or 1)
    missed = f" ({windows} update windows missed)" if windows > 1 else ""
    return f"Communication gap: no stakeholder update for {_humanize(occurred - since)}{missed}"


def _reminder(row: Any, d: dict[str, Any]) -> str:
    ask = ASKING if d.get("needs_communicator") else ""
    if d.get("target_id"):
        return f"Stakeholder-update reminder sent to <@{d['target_id']}> ({d.get('target_role') or 'communicate'}){ask}"
    return f"Stakeholder-update reminder sent to the channel{ask}"


def _engaged(row: Any, d: dict[str, Any]) -> str:
    services, team = d.get("services") or [], d.get("team")
    subject = f"Owners of {', '.join(services)} (team {team})" if services else f"Team {team}"
    people = lambda ids: ", ".join(f"<@{i}>" for i in ids)  # noqa: E731
    parts = [f"invited {people(d['invited'])}" if d.get("invited") else "nobody new invited"]
    if d.get("present"):
        parts.append(f"already in the channel: {people(d['present'])}")
    if d.get("missed"):
        parts.append("could not invite " + ", ".join(f"{m['contact']} ({m['reason']})" for m in d["missed"]))
    return f"{subject} brought in" + (f" by <@{row.actor_id}>" if row.actor_id else "") + f": {'; '.join(parts)}"


def _assigned(row: Any, d: dict[str, Any]) -> str:
    by = "" if row.actor_id == d.get("to") else f" (assigned by <@{row.actor_id}>)"
    return f"<@{d.get('to')}> took the {d.get('role')} role{by}"


SENTENCES_0001: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "acknowledged": lambda r, d: f"Acknowledged by <@{r.actor_id}>",
    "resolved": lambda r, d: f"Resolved per <@{r.actor_id}>",
    "reopened": lambda r, d: f"Reopened by <@{r.actor_id}>",
    "mitigated": lambda r, d: f"Mitigated {'again ' if d.get('again') else ''}(service restored) per <@{r.actor_id}>",
    "severity_changed": lambda r, d: f"Severity changed from {d.get('from')} to {d.get('to')} by <@{r.actor_id}>",
    "role_assigned": _assigned,
    "role_handover": lambda r, d: (
        f"{d.get('role')} handed over from <@{d.get('from')}> to <@{d.get('to')}> by <@{r.actor_id}>"
    ),
    "milestones_filled": lambda r, d: (
        f"Skipped ahead: {' and '.join(d.get('filled') or [])} recorded at the same instant"
    ),
    "reminder_snoozed": lambda r, d: (
        f"<@{r.actor_id}> snoozed the stakeholder-update reminder for {d.get('minutes')} minutes"
    ),
    "reminder_sent": _reminder,
    "update_missed": _gap,
    "escalated": lambda r, d: (
        "Stakeholder update overdue: escalated to every role holder and the announcements channel"
    ),
    "owners_engaged": _engaged,
    "postmortem_uploaded": lambda r, d: (
        "Post-mortem draft uploaded to the channel" + (f" (asked for by <@{r.actor_id}>)" if r.actor_id else "")
    ),
    "followup_done": lambda r, d: FOLLOWUP_DONE + (r.text or ""),
    "followup_added": lambda r, d: (
        FOLLOWUP_ADDED + (r.text or "") + (f" (owner <@{d['owner_id']}>)" if d.get("owner_id") else "")
    ),
}


def _words(row: Any, ref: str) -> tuple[str, dict[str, Any]]:
    """The 0001 text and data of a 0002 row."""
    data = dict(row.data or {})
    if row.kind == "declared":
        return f"{ref} declared as {data.get('severity')}: {row.text or ''}", data
    if _declared_from(row):
        author, link = data.pop("author_id", None), data.pop("permalink", None)
        data.pop("declared_from", None)
        who = f"<@{author}>" if author else "someone"
        return f"Declared from a message by {who}" + (f": {link}" if link else ""), data
    write = SENTENCES_0001.get(row.kind)
    if write is None:
        return row.text or "", data
    text = write(row, data)
    if row.kind == "mitigated":
        data.pop("again", None)
    if row.kind == "reminder_sent":
        data.pop("needs_communicator", None)
        data.pop("target_role", None)
    return text, data


def _rewrite(change: Callable[[Any, str], tuple[str, dict[str, Any]]]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(events, incidents.c.number).join(incidents, incidents.c.id == events.c.incident_id)
    ).all()
    for row in rows:
        text, data = change(row, f"INC-{row.number}")
        if text != (row.text or "") or data != (row.data or {}):
            bind.execute(events.update().where(events.c.id == row.id).values(text=text, data=data))


def upgrade() -> None:
    _rewrite(lambda row, ref: _facts(row))


def downgrade() -> None:
    _rewrite(_words)
