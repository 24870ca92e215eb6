"""What the logs carry: every line of a request names the request, the Slack team and user, and the incident
when there is one; one summary line per request; tokens, the signing secret and the bodies of private
incidents never appear (JSON output at DEBUG level, the most talkative configuration, libraries included)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from app.observability.logging import configure_logging
from tests.slack.slack_harness import ALICE, BOB, BOT_TOKEN, SIGNING_SECRET, Harness

SECRETS = {
    "title": "Payroll export leaked to Mallory",
    "impact": "Salaries of the Zebra team visible",
    "update": "Rotating the kiwi-credentials now",
    "note": "Backdoor found in cron on host walrus",
    "modal update": "Blast radius is the octopus bucket",
}


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every line the bot and its libraries log during the test, as JSON at DEBUG level."""
    stream = io.StringIO()
    configure_logging(fmt="json", level="DEBUG", stream=stream)
    yield stream
    structlog.reset_defaults()
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(raw) for raw in stream.getvalue().splitlines()]  # a line that is not JSON fails here


def run_private_incident(h: Harness) -> int:
    """A private incident through its life, with Slack failing on the way; returns how many requests were sent."""
    sent = len(h.sent)
    h.workspace.faults.fail("conversations.setTopic", http_status=503, times=2)  # retried by the outbox
    h.workspace.faults.fail("views.open", error="internal_error")  # a request whose Slack call fails
    h.command("declare", user=BOB)
    incident = h.declare(SECRETS["title"], "SEV1", private=True, impact=SECRETS["impact"])
    h.later(600)
    channel = h.incident(incident.number).channel_id
    h.command(f"update {SECRETS['update']}", channel=channel)
    h.command(f"note {SECRETS['note']}", channel=channel)
    h.command("update", channel=channel)  # opens the modal
    [view] = [v for v in h.workspace.open_views(ALICE) if "update" in str(v.body.get("callback_id"))]
    h.submit(view.id, {"update_text": SECRETS["modal update"]})
    h.command("sev SEV2", channel=channel, user=BOB)
    h.command("resolve", channel=channel)
    h.command("ack", channel=channel, user=BOB)  # refused: resolved
    return len(h.sent) - sent


def test_no_token_secret_or_private_body_reaches_the_logs(harness: Harness, json_logs: io.StringIO) -> None:
    run_private_incident(harness)
    text = json_logs.getvalue()
    assert "outbox.retry_scheduled" in text, "the failures were logged"
    for secret in [BOT_TOKEN, SIGNING_SECRET, *SECRETS.values()]:
        assert secret not in text, f"{secret!r} is in the logs"


def test_every_request_has_one_summary_line_and_its_lines_name_team_user_and_incident(
    harness: Harness, json_logs: io.StringIO
) -> None:
    requests = run_private_incident(harness)
    logged = lines(json_logs)
    summaries = [line for line in logged if line["event"] == "slack_request"]
    assert len(summaries) == requests
    assert len({line["request_id"] for line in summaries}) == requests
    for line in summaries:
        assert {"request_id", "team", "user", "kind", "outcome", "ack_ms", "total_ms"} <= line.keys(), line
    in_channel = [line for line in summaries if line.get("channel", "").startswith("C0SB")]
    assert in_channel and all(line["incident"] == "INC-1" for line in in_channel)
    assert {line["outcome"] for line in summaries} >= {"ok", "slack_error", "refused"}
    for line in logged:
        if "request_id" in line:
            assert line.get("team") and line.get("user"), line
        if line["event"].startswith("outbox."):
            assert line.get("outbox_id") and line.get("incident_id"), line


def test_database_errors_do_not_print_the_values_they_were_given(engine, now) -> None:
    """SQLAlchemy puts bound parameters in its error messages (and so in tracebacks) unless told not to."""
    from sqlalchemy.exc import IntegrityError

    from incidents.models import Incident

    row = {"number": 1, "severity": "SEV1", "reporter_id": "U1", "declared_at": now, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(Incident.__table__.insert(), {**row, "title": "first"})
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(Incident.__table__.insert(), {**row, "title": SECRETS["title"]})
    assert SECRETS["title"] not in str(caught.value)


def test_whatever_is_logged_while_handling_a_private_incident_has_its_bodies_redacted(
    harness: Harness, json_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request context says whether its incident is private: a line with a body (here one logged by a use
    case) is redacted for a private incident, and kept for a public one."""
    from incidents import service

    original = service.post_status_update

    def logging_update(session, incident, *, text, **kwargs):  # type: ignore[no-untyped-def]
        structlog.get_logger("test").info("update_received", text=text, title=incident.title)
        return original(session, incident, text=text, **kwargs)

    monkeypatch.setattr(service, "post_status_update", logging_update)
    private = harness.declare(SECRETS["title"], "SEV1", private=True, impact=SECRETS["impact"])
    public = harness.declare("Search is slow", "SEV3", user=BOB)
    harness.command(f"update {SECRETS['update']}", channel=private.channel_id)
    harness.command("update", channel=private.channel_id)
    [view] = [v for v in harness.workspace.open_views(ALICE) if "update" in str(v.body.get("callback_id"))]
    harness.submit(view.id, {"update_text": SECRETS["modal update"]})
    harness.command("update Reindexing", channel=public.channel_id, user=BOB)
    text = json_logs.getvalue()
    for secret in SECRETS.values():
        assert secret not in text, f"{secret!r} is in the logs"
    received = [line for line in lines(json_logs) if line["event"] == "update_received"]
    assert [(line["text"], line["title"], line["private"]) for line in received] == [
        ("[redacted]", "[redacted]", True),
        ("[redacted]", "[redacted]", True),
        ("Reindexing", "Search is slow", False),
    ]
    summaries = [line for line in lines(json_logs) if line["event"] == "slack_request" and line.get("incident")]
    assert {line["incident"]: line["private"] for line in summaries if "private" in line} == {
        "INC-1": True,
        "INC-2": False,
    }
