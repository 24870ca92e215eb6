"""Requests as they reach the web app: signatures, routing, events, the summary log line, errors."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from app.http.wsgi import make_wsgi_app
from app.sandbox.delivery import signed_headers, wsgi_deliver
from incidents.models import Incident, OutboxMessage
from tests.slack.slack_harness import ALICE, SIGNING_SECRET, Harness


def command_body(text: str, channel: str) -> bytes:
    return urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": ALICE,
            "channel_id": channel,
            "team_id": "T0SANDBOX",
            "trigger_id": "1.2.3",
            "response_url": "http://x/",
        }
    ).encode()


def rows(harness: Harness) -> tuple[int, int]:
    with harness.runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Incident)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
        )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=" + "0" * 64},
        "wrong-secret",
        "stale",
    ],
    ids=["missing", "wrong", "signed-with-another-secret", "five-minutes-old"],
)
def test_requests_without_a_valid_signature_get_401_and_change_nothing(harness: Harness, headers) -> None:  # type: ignore[no-untyped-def]
    incident = harness.declare()
    before = rows(harness)
    body = command_body("resolve", incident.channel_id)
    form = "application/x-www-form-urlencoded"
    now = int(time.time())
    if headers == "wrong-secret":
        headers = signed_headers("not-the-secret", body, timestamp=now, content_type=form)
    elif headers == "stale":
        headers = signed_headers(SIGNING_SECRET, body, timestamp=now - 301, content_type=form)
    else:
        headers = {k: v.format(now=now) for k, v in headers.items()} | {"Content-Type": form}
    status, _, answer = wsgi_deliver(make_wsgi_app(harness.app))(body, headers)
    harness.settle()
    assert status == 401
    assert b"Traceback" not in answer
    assert rows(harness) == before
    assert harness.incident().resolved_at is None


def test_healthz_answers_ok_and_other_paths_404(harness: Harness) -> None:
    wsgi = make_wsgi_app(harness.app)
    answers = {}

    def call(method: str, path: str) -> tuple[str, bytes]:
        def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            answers["status"] = status

        body = b"".join(wsgi({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
        return answers["status"], body

    assert call("GET", "/healthz") == ("200 OK", b"ok")
    assert call("GET", "/nope")[0] == "404 Not Found"
    assert call("GET", "/slack/events")[0] == "405 Method Not Allowed"


def test_url_verification_echoes_the_challenge(harness: Harness) -> None:
    result = harness.slack.url_verification("abc123")
    assert result.status == 200
    assert result.json == {"challenge": "abc123"}


def test_events_nobody_listens_to_are_acknowledged_so_slack_does_not_retry(harness: Harness) -> None:
    incident = harness.declare()
    message = harness.workspace.post_user_message(ALICE, incident.channel_id, "hello")
    result = harness.slack.react(ALICE, incident.channel_id, message.ts, "eyes")
    assert result.status == 200
    again = harness.slack.event(
        harness.slack.sent_events[next(reversed(harness.slack.sent_events))],
        retry_num=1,
        event_id=next(reversed(harness.slack.sent_events)),
    )
    assert again.status == 200


def test_each_request_writes_one_summary_line(harness: Harness) -> None:
    incident = harness.declare()
    with capture_logs() as logs:
        harness.command("ack", channel=incident.channel_id)
    lines = [entry for entry in logs if entry["event"] == "slack_request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["kind"] == "command" and line["subcommand"] == "ack"
    assert line["user"] == ALICE and line["team"] == "T0SANDBOX" and line["incident"] == "INC-1"
    assert line["outcome"] == "ok" and line["status"] == 200
    assert 0 <= line["ack_ms"] <= line["total_ms"]


def test_the_summary_line_says_when_a_request_was_refused(harness: Harness) -> None:
    with capture_logs() as logs:
        harness.command("ack")
        harness.command("sev")
    outcomes = [e["outcome"] for e in logs if e["event"] == "slack_request"]
    assert outcomes == ["refused", "invalid"]


def test_an_unexpected_error_is_logged_and_the_person_gets_a_plain_apology(harness: Harness) -> None:
    incident = harness.declare()
    harness.runtime.engine.dispose()
    broken = harness.runtime.sessions.kw.get("bind")
    harness.runtime.sessions.configure(bind=None)  # every database call now fails
    try:
        with capture_logs() as logs:
            harness.command("status", channel=incident.channel_id, settle=False)
            harness.app.listener_runner.listener_executor.wait_idle()
    finally:
        harness.runtime.sessions.configure(bind=broken)
    assert harness.last_reply().startswith("Sorry, something went wrong on my side")
    [line] = [e for e in logs if e["event"] == "slack_request"]
    assert line["outcome"] == "error"
    assert any(e["event"] == "listener_failed" for e in logs)


def test_a_failing_submission_shows_an_apology_instead_of_a_stack_trace(harness: Harness) -> None:
    harness.command("declare")
    view = harness.open_view(ALICE, "incident_declare")
    broken = harness.runtime.sessions.kw.get("bind")
    harness.runtime.sessions.configure(bind=None)
    try:
        result = harness.submit(view.id, {"declare_title": "x", "declare_severity": "SEV1"}, settle=False)
    finally:
        harness.runtime.sessions.configure(bind=broken)
    assert result.status == 200
    assert result.json["response_action"] == "update"
    assert result.json["view"]["title"]["text"] == "Something went wrong"


def test_a_click_nobody_handles_is_acknowledged_without_an_error(harness: Harness) -> None:
    """A link button (Slack sends its click too), or a card drawn by an older version of the bot."""
    ws = harness.workspace
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "open_runbook",
                    "text": {"type": "plain_text", "text": "Runbook"},
                    "url": "https://runbooks.example.com/checkout",
                },
            ],
        }
    ]
    message = ws.post_message("C0INCIDENTS", user=ws.bot.id, text="Runbook", blocks=blocks)
    with capture_logs() as logs:
        result = harness.slack.click(ALICE, "C0INCIDENTS", message.ts, "open_runbook")
    assert result.status == 200
    assert [e["outcome"] for e in logs if e["event"] == "slack_request"] == ["ignored"]


def test_the_request_thread_sees_the_ack_as_soon_as_the_listener_calls_it() -> None:
    """PromptAck: Bolt's request thread waits for the ack itself instead of sleeping its 10 ms poll; other
    threads read the value at once."""
    import threading

    from app.slack.bolt_app import PromptAck

    ack = PromptAck()
    seen: list[object] = []
    reader = threading.Thread(target=lambda: seen.append(ack.response))
    reader.start()
    reader.join()
    assert seen == [None]
    listener = threading.Thread(target=lambda: ack(text="done"))
    listener.start()
    listener.join()
    assert ack.response is not None and ack.response.status == 200
