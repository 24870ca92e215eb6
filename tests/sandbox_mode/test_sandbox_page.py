"""The sandbox page's server: its routes, and that every action reaches the bot as a request signed as Slack
signs it. The bot here is a small stand-in WSGI app that checks signatures and answers like a Bolt app."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

from app.sandbox.client import SlackClientSimulator, wsgi_deliver
from app.sandbox.clock import DrillClock
from app.sandbox.server import RunningServer, serve_in_thread
from app.sandbox.ui import REQUIRED, SandboxUI
from app.sandbox.ui_state import PageFacts
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace

SECRET = "page-test-secret"
ALICE, BOB = "U01ALICE", "U01BOB"
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "sev",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "SEV1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "SEV2"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "lead",
            "optional": True,
            "label": {"type": "plain_text", "text": "Lead"},
            "element": {"type": "users_select", "action_id": "lead"},
        },
    ],
}


class StandInBot:
    """Verifies each request's signature like Bolt; a slash command opens MODAL and answers ephemerally, a
    submission whose title is "bad" gets field errors."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.verifier = SignatureVerifier(SECRET)
        self.received: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
        }
        if not self.verifier.is_valid_request(body, headers):
            start_response("401 Unauthorized", [])
            return [b""]
        if environ.get("CONTENT_TYPE", "").startswith("application/json"):
            payload = json.loads(body)
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            payload = json.loads(form["payload"]) if "payload" in form else form
        self.received.append(payload)
        answer = self._answer(payload)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode() if answer else b""]

    def _answer(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        if "command" in payload:
            self.workspace.modals.open(payload["trigger_id"], MODAL)
            return {"response_type": "ephemeral", "text": f"Opening the form for {payload['text'] or 'you'}"}
        if payload.get("type") == "view_submission":
            title = payload["view"]["state"]["values"]["title"]["title"]["value"]
            if title == "bad":
                return {"response_action": "errors", "errors": {"title": "Say what is broken"}}
        return None


@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace().seed_default()
    ws.post_message(INCIDENTS_CHANNEL_ID, user=BOB, text="Checkout is throwing 500s")
    return ws


@pytest.fixture
def bot(workspace: Workspace) -> StandInBot:
    return StandInBot(workspace)


@pytest.fixture
def skips() -> list[timedelta]:
    return []


@pytest.fixture
def page(workspace: Workspace, bot: StandInBot, skips: list[timedelta]) -> Iterator[RunningServer]:
    clock = DrillClock()
    simulator = SlackClientSimulator(workspace, wsgi_deliver(bot), signing_secret=SECRET)
    ui = SandboxUI(
        workspace,
        simulator,
        clock,
        PageFacts(shortcuts=[{"callback_id": "from_message", "name": "Declare"}]),
        after_skip=lambda: skips.append(clock.offset),
        postmortem=lambda ref: (f"{ref}-postmortem.md", f"# {ref} post-mortem\n") if ref == "INC-1" else None,
    )
    running = serve_in_thread(ui)
    yield running
    running.stop()


def get(page: RunningServer, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(page.url.rstrip("/") + path, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers.items()), exc.read()


def post(page: RunningServer, path: str, body: dict[str, Any], content_type: str = "application/json") -> Any:
    request = urllib.request.Request(
        page.url.rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": content_type},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return {"status": exc.code, **json.loads(exc.read() or b"{}")}


def state(page: RunningServer, who: str = ALICE) -> dict[str, Any]:
    return json.loads(get(page, f"/sandbox/api/state?as={who}")[2])


def test_the_page_and_its_assets_are_served(page):
    status, headers, body = get(page, "/sandbox")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/sandbox/static/sandbox.js" in body
    for asset, kind in (
        ("sandbox.js", "text/javascript"),
        ("blockkit.js", "text/javascript"),
        ("sandbox.css", "text/css"),
    ):
        status, headers, _ = get(page, f"/sandbox/static/{asset}")
        assert (status, headers["Content-Type"].split(";")[0]) == (200, kind)


@pytest.mark.parametrize(
    "path",
    [
        "/sandbox/static/../ui.py",
        "/sandbox/static/ui.py",
        "/sandbox/static/nope.js",
        "/sandbox/api/nothing",
        "/elsewhere",
    ],
)
def test_nothing_else_is_served(page, path):
    assert get(page, path)[0] == 404


def test_state_shows_people_channels_and_messages(page):
    seen = state(page)
    assert [p["real_name"] for p in seen["people"]] == ["Alice Adams", "Bob Brown", "Carol Chen", "Dan Diaz"]
    incidents = next(c for c in seen["channels"] if c["name"] == "incidents")
    assert [m["text"] for m in seen["messages"][incidents["id"]]] == ["Checkout is throwing 500s"]
    assert seen["clock"]["offset_minutes"] == 0


def test_an_unchanged_state_is_not_sent_again(page):
    version = state(page)["version"]
    again = json.loads(get(page, f"/sandbox/api/state?as={ALICE}&since={version}")[2])
    assert again == {"unchanged": True, "version": version}


def test_a_slash_command_reaches_the_bot_signed_and_its_answer_is_shown_to_that_person_only(page, bot):
    answer = post(
        page,
        "/sandbox/api/command",
        {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "/incident declare Checkout down"},
    )
    assert answer == {"ok": True}
    assert bot.received[0]["command"] == "/incident" and bot.received[0]["text"] == "declare Checkout down"
    assert bot.received[0]["user_id"] == ALICE
    shown = state(page)["ephemerals"][INCIDENTS_CHANNEL_ID]
    assert [e["text"] for e in shown] == ["Opening the form for declare Checkout down"]
    assert state(page, BOB)["ephemerals"] == {}


def test_an_unknown_slash_command_is_not_sent(page, bot):
    answer = post(page, "/sandbox/api/command", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "/deploy"})
    assert answer["ok"] is False and "/incident help" in answer["error"]
    assert bot.received == []


def test_the_modal_the_bot_opens_is_shown_and_submitted_with_typed_values(page, bot):
    post(page, "/sandbox/api/command", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "/incident"})
    [view] = state(page)["views"]
    assert view["title"]["text"] == "Declare an incident"
    answer = post(
        page,
        "/sandbox/api/submit",
        {
            "as": ALICE,
            "view_id": view["id"],
            "values": {"title": {"title": "Checkout down"}, "sev": {"sev": "SEV1"}, "lead": {"lead": BOB}},
        },
    )
    assert answer == {"ok": True}
    values = bot.received[-1]["view"]["state"]["values"]
    assert values["sev"]["sev"] == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "SEV1"}, "value": "SEV1"},
    }
    assert values["lead"]["lead"] == {"type": "users_select", "selected_user": BOB}
    assert state(page)["views"] == []


def test_required_fields_left_empty_are_marked_without_asking_the_bot(page, bot):
    post(page, "/sandbox/api/command", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "/incident"})
    view_id = state(page)["views"][0]["id"]
    answer = post(
        page,
        "/sandbox/api/submit",
        {"as": ALICE, "view_id": view_id, "values": {"title": {"title": ""}, "sev": {"sev": None}}},
    )
    assert answer == {"ok": True, "errors": {"title": REQUIRED, "sev": REQUIRED}}
    assert [p.get("type") for p in bot.received] == [None]  # the slash command only
    assert state(page)["views"][0]["errors"] == {"title": REQUIRED, "sev": REQUIRED}


def test_errors_from_the_bot_are_shown_next_to_the_field_and_the_modal_stays(page):
    post(page, "/sandbox/api/command", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "/incident"})
    view_id = state(page)["views"][0]["id"]
    answer = post(
        page,
        "/sandbox/api/submit",
        {"as": ALICE, "view_id": view_id, "values": {"title": {"title": "bad"}, "sev": {"sev": "SEV2"}}},
    )
    assert answer == {"ok": True, "errors": {"title": "Say what is broken"}}
    [view] = state(page)["views"]
    assert view["errors"] == {"title": "Say what is broken"}


def test_reactions_and_pins_become_events(page, bot, workspace):
    ts = workspace.history(INCIDENTS_CHANNEL_ID)[0].ts
    assert post(
        page, "/sandbox/api/reaction", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "ts": ts, "name": "eyes"}
    ) == {"ok": True}
    assert post(page, "/sandbox/api/pin", {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "ts": ts}) == {"ok": True}
    assert [p["event"]["type"] for p in bot.received] == ["reaction_added", "pin_added"]
    [message] = state(page)["messages"][INCIDENTS_CHANNEL_ID]
    assert message["pinned"] and message["reactions"] == [{"name": "eyes", "count": 1, "users": [ALICE], "mine": True}]


def test_a_message_shortcut_sends_the_message_along(page, bot, workspace):
    ts = workspace.history(INCIDENTS_CHANNEL_ID)[0].ts
    post(
        page,
        "/sandbox/api/shortcut",
        {"as": BOB, "channel": INCIDENTS_CHANNEL_ID, "ts": ts, "callback_id": "from_message"},
    )
    assert bot.received[-1]["type"] == "message_action"
    assert bot.received[-1]["message"]["text"] == "Checkout is throwing 500s"


def test_skipping_ahead_moves_the_clock_then_runs_the_scheduler(page, skips):
    assert post(page, "/sandbox/api/clock/skip", {"minutes": 30}) == {"ok": True, "offset_minutes": 30}
    assert skips == [timedelta(minutes=30)]
    assert state(page)["clock"]["offset_minutes"] == 30
    assert post(page, "/sandbox/api/clock/skip", {"minutes": -30})["status"] == 400


def test_a_person_who_is_not_in_the_workspace_cannot_act(page, bot):
    answer = post(page, "/sandbox/api/message", {"as": "U0NOBODY", "channel": INCIDENTS_CHANNEL_ID, "text": "hi"})
    assert answer["status"] == 400 and bot.received == []


def test_actions_need_a_json_body(page, bot):
    """A plain form post from another web site cannot drive the sandbox (JSON needs a CORS preflight)."""
    answer = post(
        page,
        "/sandbox/api/message",
        {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "text": "hi"},
        content_type="text/plain",
    )
    assert answer["status"] == 415 and bot.received == []


def test_the_post_mortem_and_files_download(page, workspace):
    status, headers, body = get(page, "/sandbox/api/incidents/INC-1/postmortem.md")
    assert status == 200 and body == b"# INC-1 post-mortem\n"
    assert headers["Content-Disposition"].startswith('attachment; filename="INC-1-postmortem.md"')
    assert get(page, "/sandbox/api/incidents/INC-9/postmortem.md")[0] == 404
    file = workspace.files.reserve("notes.md", 5, workspace.bot.id)
    workspace.files.receive(file.id, b"hello")
    workspace.files.complete(file.id, "Notes")
    workspace.post_message(INCIDENTS_CHANNEL_ID, user=workspace.bot.id, files=[file.id])
    file.channels.append(INCIDENTS_CHANNEL_ID)
    [listed] = state(page)["files"]
    assert get(page, listed["url"])[2] == b"hello"


def test_a_click_on_something_the_message_does_not_have_is_refused(page, bot, workspace):
    ts = workspace.history(INCIDENTS_CHANNEL_ID)[0].ts
    answer = post(
        page,
        "/sandbox/api/action",
        {"as": ALICE, "channel": INCIDENTS_CHANNEL_ID, "ts": ts, "action": {"action_id": "nothing_here"}},
    )
    assert answer["status"] == 400 and "nothing_here" in answer["error"]
    assert bot.received == []
