"""REFRESH_CARD: redraw the incident card, and the announcement with it, from the incident as it is now."""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from app.blocks.announcement import announcement_blocks, announcement_text
from app.blocks.card import card_blocks, card_text
from app.deps import Deps
from app.effects.channel import blocks_json, pin, post_card
from app.effects.common import load, require_card
from app.effects.slack_errors import is_error, slack_step
from incidents import coordinates
from incidents.db import transaction
from incidents.effects import Effect
from incidents.models import OutboxMessage
from incidents.outbox import Handler

logger = structlog.get_logger("app.effects")
GONE = ("message_not_found", "cant_update_message")


def handlers(deps: Deps) -> dict[str, Handler]:
    def refresh_card(message: OutboxMessage) -> dict[str, Any]:
        incident = load(deps.runtime.sessions, message)
        channel_id, ts = require_card(deps.runtime.sessions, incident)
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
                with transaction(deps.runtime.sessions) as session:
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
        return {"card_ts": ts}

    return {Effect.REFRESH_CARD: refresh_card}
