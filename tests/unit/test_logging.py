"""Logging: context bound once appears on every line; secrets and private bodies are redacted."""

from __future__ import annotations

import json
import logging

import structlog

from app.observability.logging import configure_logging


def test_json_lines_carry_bound_context_and_redact_secrets(capsys):
    configure_logging(fmt="json", level="INFO")
    log = structlog.get_logger()
    structlog.contextvars.bind_contextvars(request_id="req-1", incident="INC-7")
    try:
        log.info("declared", token="xoxb-secret", private=True, text="database password leaked")
        log.info("public", text="checkout slow")
    finally:
        structlog.contextvars.clear_contextvars()
        # capsys's stderr is closed when this test ends: later tests must not log into it.
        structlog.reset_defaults()
        logging.basicConfig(force=True, handlers=[logging.NullHandler()])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert lines[0]["request_id"] == "req-1" and lines[0]["incident"] == "INC-7"
    assert lines[0]["token"] == "[redacted]" and lines[0]["text"] == "[redacted]"
    assert "xoxb-secret" not in json.dumps(lines)
    assert lines[1]["text"] == "checkout slow"
