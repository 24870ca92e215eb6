"""The last resort, in plain words: what a person is told when something failed on our side (never a stack
trace), through the request's response_url or a direct message."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import BoltContext
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

logger = structlog.get_logger("app.slack.apology")

SORRY = (
    "Sorry, something went wrong on my side and I could not do that. "
    "It is logged for the people who run the bot; please try again in a moment."
)


def tell(context: BoltContext, body: Any, text: str = SORRY) -> None:
    """Best effort: through the response_url when there is one, else a direct message."""
    try:
        if context.respond is not None and context.response_url:
            context.respond(text=text, response_type="ephemeral", replace_original=False)
        elif context.user_id and context.client is not None:
            context.client.chat_postMessage(channel=context.user_id, text=text)
    except Exception:  # already failing; the log has the first error
        logger.warning("could_not_tell_user", exc_info=True)


def sorry_view(text: str = SORRY) -> View:
    return View(
        type="modal",
        title="Something went wrong",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )
