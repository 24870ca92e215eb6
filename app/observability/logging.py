"""structlog, configured once: console lines in development, JSON lines in production.

Context (request id, Slack team and user, incident reference) is bound with contextvars and merged into every
line, including the lines of libraries that use the standard `logging` module (Bolt, slack_sdk, gunicorn's
workers), which go through the same processors. A processor drops secrets and private message bodies before
anything is rendered:

- values of secret-named keys (token, signing_secret, ...), and anything shaped like a Slack token anywhere;
- with `private=True` on the line (bound for a private incident), its bodies (text, summary, title, ...);
- libraries that print whole payloads at DEBUG (slack_sdk, slack_bolt, urllib3) never log below INFO.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
SECRET_KEYS = {"token", "bot_token", "signing_secret", "app_token", "authorization", "password", "secret"}
PRIVATE_KEYS = {"text", "summary", "title", "body", "impact", "next_steps", "note"}
# xoxb- / xoxp- / xoxa- / xoxe- tokens, xapp- app tokens.
TOKEN = re.compile(r"\b(?:xox[abeprs]|xapp)-[A-Za-z0-9-]{6,}")
# Their DEBUG lines carry request and response bodies: message texts, modal contents.
PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt", "urllib3")
_PAYLOAD_SOURCES = tuple(f"{os.sep}{name}{os.sep}" for name in PAYLOAD_LOGGERS)


def redact(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
    if event_dict.get("private"):
        for key in PRIVATE_KEYS & event_dict.keys():
            event_dict[key] = REDACTED
    for key, value in event_dict.items():
        if isinstance(value, str) and ("xox" in value or "xapp" in value):
            event_dict[key] = TOKEN.sub(REDACTED, value)
    return event_dict


class _NoPayloads(logging.Filter):
    """Drops DEBUG lines written by the payload-logging libraries, whatever their logger is called or set to
    (Bolt copies the root level onto the loggers it creates, so a level on `slack_bolt` is not enough)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO or not any(s in record.pathname for s in _PAYLOAD_SOURCES)


def _processors(fmt: str) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info if fmt == "json" else structlog.dev.set_exc_info,
        redact,  # after format_exc_info: a traceback is a string it can scrub
    ]


def configure_logging(*, fmt: str = "console", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Once per process, before anything logs. `stream` defaults to stderr."""
    stream = stream or sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*_processors(fmt), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Libraries that use the standard logging module (slack_bolt, alembic, gunicorn's workers) go to stderr at
    # the same level, rendered like our own lines (JSON in production), with the request's context.
    handler = logging.StreamHandler(stream)
    handler.addFilter(_NoPayloads())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_processors(fmt)],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel("WARNING")
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(floor)
