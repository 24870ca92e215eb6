"""REFRESH_CARD: redraw the incident card, and the announcement with it, from the incident as it is now.

Two redraws of one incident never run at once (the outbox has several delivery threads, and replicas): a redraw
that meets an older one under way waits for it (`NotReady`, woken when it finishes), and one that meets a newer
one under way leaves the work to it. Each redraw renders from the database when it sends, and after Slack
answered reads the incident again: if it changed while Slack was drawing (a snapshot could otherwise land last),
it draws again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.delivery.handlers.channel import blocks_json, pin, post_card
from app.delivery.handlers.common import load, require_card
from app.slack.blocks.announcement import announcement_blocks, announcement_text
from app.slack.blocks.card import card_blocks, card_text
from app.slack.deps import Deps
from app.slack.errors import is_error, slack_step
from incidents import coordinates
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, OutboxStatus
from incidents.outbox import Handler, NotReady
from incidents.process import Process

logger = structlog.get_logger("app.delivery.handlers")
GONE = ("message_not_found", "cant_update_message")
REDRAWS = 3  # per delivery; a change after the last one has queued a redraw of its own
SUPERSEDED = "superseded: a newer redraw of this incident was under way"


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    process = deps.runtime.process

    def refresh_card(message: OutboxMessage) -> dict[str, Any]:
        incident = load(sessions, message)
        other = redraw_under_way(sessions, message, now=deps.now())
        if other is not None and other < message.id:
            raise NotReady(f"{incident.ref}: an earlier redraw of its card is under way")
        if other is not None:
            return {"skipped": SUPERSEDED}
        channel_id, ts = require_card(sessions, incident)
        for _ in range(REDRAWS):
            drawn = drawing(incident, process)
            ts = draw(deps, incident, channel_id, ts)
            incident = load(sessions, message)
            if drawing(incident, process) == drawn:
                break
            logger.info("card_changed_while_drawn", incident=incident.ref)
        return {"card_ts": ts}

    return {Effect.REFRESH_CARD: refresh_card}


def redraw_under_way(sessions: sessionmaker[Session], message: OutboxMessage, *, now: datetime) -> int | None:
    """The id of another redraw of the same incident that another delivery holds (leased) right now."""
    with sessions() as session:
        return session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == Effect.REFRESH_CARD.value,
                OutboxMessage.incident_id == message.incident_id,
                OutboxMessage.id != message.id,
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.locked_until > now,
                OutboxMessage.claim_token != message.claim_token,
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )


def drawing(incident: Incident, process: Process) -> tuple[Any, ...]:
    """Everything a redraw sends: equal drawings need no second redraw."""
    return (
        card_text(incident),
        blocks_json(card_blocks(incident, process)),
        incident.announcement_channel_id,
        incident.announcement_ts,
        announcement_text(incident),
        blocks_json(announcement_blocks(incident)),
    )


def draw(deps: Deps, incident: Incident, channel_id: str, ts: str) -> str:
    """chat.update the card (posting it again if it was deleted) and the announcement; returns the card's ts."""
    with slack_step("update the incident card"):
        try:
            deps.client.chat_update(
                channel=channel_id,
                ts=ts,
                text=card_text(incident),
                blocks=blocks_json(card_blocks(incident, deps.runtime.process)),
            )
        except SlackApiError as exc:
            if not is_error(exc, *GONE):
                raise
            # Someone deleted the card: post it again, pinned, and keep the new one current from now on.
            ts = post_card(deps, incident)
            with deps.runtime.sessions.begin() as session:
                coordinates.set_card_ts(session, incident.id, ts)
            pin(deps.client, channel_id, ts)
    if incident.announcement_ts and incident.announcement_channel_id:
        with slack_step("update the announcement"):
            try:
                deps.client.chat_update(
                    channel=incident.announcement_channel_id,
                    ts=incident.announcement_ts,
                    text=announcement_text(incident),
                    blocks=blocks_json(announcement_blocks(incident)),
                )
            except SlackApiError as exc:
                if not is_error(exc, *GONE):
                    raise
                logger.info("announcement_gone", incident=incident.ref)
    return ts
