"""Asking for the post-mortem draft in the incident channel, and remembering that it was uploaded.

The upload itself is a Slack side effect (Effect.UPLOAD_POSTMORTEM, carried out by app/delivery/handlers/postmortem.py).
Recording each uploaded file on the timeline, keyed by the outbox message, makes the upload idempotent: a
retry that finds the record does not upload again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import outbox
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, OutboxStatus, TimelineEvent
from incidents.timeline import EventKind, record


def request_postmortem(session: Session, incident: Incident, *, by: str, now: datetime) -> bool:
    """Queue a fresh draft for the channel. Returns False when one is already on its way (a double click, or a
    second person asking at the same moment), so that the channel gets one file, not two."""
    waiting = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == Effect.UPLOAD_POSTMORTEM.value,
            OutboxMessage.incident_id == incident.id,
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .limit(1)
    )
    if waiting is not None:
        return False
    outbox.enqueue(
        session,
        kind=Effect.UPLOAD_POSTMORTEM,
        key=f"postmortem:{incident.id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident.id,
        payload={"by": by},
    )
    return True


def upload_key(request_id: int) -> str:
    return f"postmortem:{request_id}"


def uploaded_file(session: Session, incident: Incident, request_id: int) -> str | None:
    """The Slack file id of the draft uploaded for this request, if it was."""
    data = session.scalar(
        select(TimelineEvent.data).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.source_key == upload_key(request_id)
        )
    )
    return None if data is None else data.get("file_id")


def record_upload(
    session: Session,
    incident: Incident,
    *,
    request_id: int,
    file_id: str,
    by: str | None,
    now: datetime,
    picture_file_id: str | None = None,
) -> bool:
    """Put the uploaded draft (and the timeline chart sent beside it, if any) on the timeline, once per request.
    Returns False when it was already there."""
    if uploaded_file(session, incident, request_id) is not None:
        return False
    record(
        session,
        incident,
        EventKind.POSTMORTEM_UPLOADED,
        "",
        now=now,
        actor_id=by,
        source_key=upload_key(request_id),
        data={"file_id": file_id, **({"picture_file_id": picture_file_id} if picture_file_id else {})},
    )
    return True
