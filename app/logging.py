"""structlog, configured once: console lines in development, JSON lines in production.

Context (request id, Slack team and user, incident reference) is bound with contextvars and merged into every
line. A processor drops secrets and private message bodies before anything is rendered."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

REDACTED = "[redacted]"
SECRET_KEYS = {"token", "bot_token", "signing_secret", "app_token", "authorization", "password", "secret"}
PRIVATE_KEYS = {"text", "summary", "title", "body"}


def redact(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
    if event_dict.get("private"):
        for key in PRIVATE_KEYS & event_dict.keys():
            event_dict[key] = REDACTED
    return event_dict


def configure_logging(*, fmt: str = "console", level: str = "INFO") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info if fmt == "json" else structlog.dev.set_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries that use the standard logging module (slack_bolt, alembic) go to stderr at the same level.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s", force=True)
    logging.getLogger("alembic").setLevel("WARNING")
