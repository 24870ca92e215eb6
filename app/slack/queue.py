"""Slack messages the Slack layer queues in the outbox, already in Slack's words (a direct message whose text a
listener or an effect handler wrote); the outbox delivers them after the transaction commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from incidents import outbox
from incidents.effects import Effect


def direct_message(
    session: Session, *, user_id: str, text: str, key: str, now: datetime, incident_id: int | None = None
) -> None:
    """Queue a direct message (in the caller's transaction); the same key is sent once."""
    outbox.enqueue(
        session,
        kind=Effect.DIRECT_MESSAGE,
        key=key,
        now=now,
        incident_id=incident_id,
        payload={"user_id": user_id, "text": text},
    )
