"""REFRESH_HOME: publish one person's Home tab (`views.publish`), drawn from the database when it is sent.

Queued when the person opens the Home and, coalesced per person and window, when something it shows changes
(`incidents.home`). After Slack answered, the Home is read again: if what it shows changed while Slack was
publishing (another delivery's older drawing could otherwise land last), it is published again. A person Slack
does not know (any more), or a workspace where the Home tab is off, is given up at once: there is no one to tell.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from app.slack.blocks.home import home_view
from app.slack.deps import Deps
from app.slack.errors import error_code, slack_step
from incidents import home
from incidents.effects import Effect
from incidents.models import OutboxMessage
from incidents.outbox import Handler, PermanentFailure

logger = structlog.get_logger("app.delivery.handlers.home")
REDRAWS = 3
GIVE_UP = {"user_not_found", "user_not_visible", "not_enabled", "account_inactive_user"}


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    process = deps.runtime.process
    command = deps.settings.slash_command

    def facts(user_id: str) -> home.Home:
        with sessions() as session:
            return home.build(session, user_id=user_id, now=deps.now(), process=process)

    def refresh_home(message: OutboxMessage) -> dict[str, Any]:
        user_id = message.payload.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise PermanentFailure("REFRESH_HOME names nobody (payload.user_id)")
        shown = facts(user_id)
        for _ in range(REDRAWS):
            publish(user_id, shown)
            latest = facts(user_id)
            if _same(latest, shown):
                break
            logger.info("home_changed_while_published", user_id=user_id)
            shown = latest
        return {"user_id": user_id, "incidents": len(shown.open), "duties": len(shown.duties)}

    def publish(user_id: str, shown: home.Home) -> None:
        try:
            with slack_step("publish the Home tab"):
                deps.client.views_publish(user_id=user_id, view=home_view(shown, command=command))
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, SlackApiError) else exc
            if isinstance(cause, SlackApiError) and error_code(cause) in GIVE_UP:
                raise PermanentFailure(f"publish the Home tab: Slack answered {error_code(cause)}") from exc
            raise

    return {Effect.REFRESH_HOME: refresh_home}


def _same(a: home.Home, b: home.Home) -> bool:
    """Equal but for the moment each was read (a Home drawn a second later is the same Home)."""
    return dataclasses.replace(a, now=b.now) == b and all(
        x.overdue(a.now) == y.overdue(b.now) for x, y in zip(a.duties, b.duties, strict=True)
    )
