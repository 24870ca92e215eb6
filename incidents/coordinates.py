"""Where an incident lives in Slack: its channel, its card, its announcement.

The Slack adapter records each coordinate in its own short transaction as soon as Slack returns it, so that a
retried effect resumes where the last attempt stopped instead of creating a second channel or card.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.models import Incident, TimelineEvent
from incidents.queries import get_by_id
from incidents.timeline import EventKind, record, recorded


def attach_channel(session: Session, incident_id: int, channel_id: str, name: str) -> Incident:
    incident = get_by_id(session, incident_id, for_update=True)
    incident.channel_id = channel_id
    incident.channel_name = name
    return incident


def set_card_ts(session: Session, incident_id: int, ts: str | None) -> Incident:
    incident = get_by_id(session, incident_id, for_update=True)
    incident.card_ts = ts
    return incident


def set_announcement(session: Session, incident_id: int, channel_id: str, ts: str) -> Incident:
    incident = get_by_id(session, incident_id, for_update=True)
    incident.announcement_channel_id = channel_id
    incident.announcement_ts = ts
    return incident


def record_slack_problem(session: Session, incident_id: int, *, step: str, text: str, now: datetime) -> bool:
    """Note on the timeline that a Slack step failed, once per step. Returns True the first time."""
    incident = get_by_id(session, incident_id, for_update=True)
    already = session.scalar(
        select(TimelineEvent.id).where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.kind == EventKind.SLACK_PROBLEM.value,
            TimelineEvent.source_key == f"slack_problem:{step}",
        )
    )
    if already is not None:
        return False
    record(
        session,
        incident,
        EventKind.SLACK_PROBLEM,
        text,
        now=now,
        source_key=f"slack_problem:{step}",
        data={"step": step},
    )
    return True


def link_source_message(
    session: Session,
    incident_id: int,
    *,
    channel_id: str,
    ts: str,
    author_id: str | None,
    permalink: str | None,
    by: str,
    now: datetime,
) -> None:
    """The Slack message an incident was declared from, on its timeline at the time it was written (once)."""
    incident = get_by_id(session, incident_id, for_update=True)
    key = f"declared_from:{channel_id}:{ts}"
    if recorded(session, incident, key):
        return
    try:
        written = min(datetime.fromtimestamp(float(ts), UTC), now)
    except ValueError:
        written = now
    record(
        session,
        incident,
        EventKind.MESSAGE,
        "",
        now=now,
        actor_id=by,
        occurred_at=written,
        source=permalink,
        source_key=key,
        data={"channel": channel_id, "ts": ts, "declared_from": True, "author_id": author_id, "permalink": permalink},
    )
