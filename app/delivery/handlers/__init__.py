"""The outbox handlers: how each `incidents.effects.Effect` is carried out in Slack.

A feature adds its handlers by listing its module's `handlers` function in `GROUPS`; it returns
`{Effect kind: handler}`, and a handler takes the claimed `OutboxMessage`, is idempotent, and raises
`RetryLater` / `NotReady` / `PermanentFailure` (see `app.slack.errors.slack_step`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from app.delivery.handlers import (
    alerts,
    card,
    changes,
    channel,
    home,
    messages,
    owners,
    pages,
    postmortem,
    reminders,
    review,
    stats,
    tickets,
)
from app.slack.deps import Deps
from incidents.outbox import Handler

GROUPS: tuple[Callable[[Deps], Mapping[str, Handler]], ...] = (
    channel.handlers,
    card.handlers,
    messages.handlers,
    reminders.handlers,
    postmortem.handlers,
    owners.handlers,
    changes.handlers,
    alerts.handlers,
    pages.handlers,
    home.handlers,
    review.handlers,
    stats.handlers,
    tickets.handlers,
)


def build_handlers(deps: Deps) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for group in GROUPS:
        for kind, handler in group(deps).items():
            if str(kind) in handlers:
                raise ValueError(f"two handlers for effect {kind!s} ({group.__module__})")
            handlers[str(kind)] = handler
    return handlers
