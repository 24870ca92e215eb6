"""The outbox handlers: how each `incidents.effects.Effect` is carried out in Slack.

A feature adds its handlers by listing its module in `HANDLER_MODULES`; the module has
`handlers(deps) -> {Effect kind: handler}`, and a handler takes the claimed `OutboxMessage`, is idempotent, and
raises `RetryLater` / `NotReady` / `PermanentFailure` (see `app.slack.errors.slack_step`).
"""

from __future__ import annotations

import importlib

from app.bootstrap import Deps
from incidents.outbox import Handler

HANDLER_MODULES: list[str] = [
    "app.delivery.handlers.channel",
    "app.delivery.handlers.card",
    "app.delivery.handlers.messages",
    "app.delivery.handlers.reminders",
    "app.delivery.handlers.postmortem",
    "app.delivery.handlers.owners",
]


def build_handlers(deps: Deps) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for name in HANDLER_MODULES:
        for kind, handler in importlib.import_module(name).handlers(deps).items():
            if str(kind) in handlers:
                raise ValueError(f"two handlers for effect {kind!s} ({name})")
            handlers[str(kind)] = handler
    return handlers
