"""The Slack platform simulator: the payloads it builds, how it signs them, and what it applies back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from app.sandbox.client import SlackClientSimulator, SubmissionRefused, http_deliver, wsgi_deliver
from app.sandbox.models import View
from app.sandbox.webapi import RunningServer, serve_in_thread
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from tests.sandbox.sandbox_helpers import SIGNING_SECRET

INCIDENTS = INCIDENTS_CHANNEL_ID
JSON_HEADERS = {"Content-Type": "application/json"}


def option(value: str) -> dict:
    return {"text": {"type": "plain_text", "text": value.upper()}, "value": value}


def input_block(block_id: str, element: dict, *, optional: bool = False) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "element": {**element, "action_id": "v"},
        "label": {"type": "plain_text", "text": block_id},
    }


FORM_MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        input_block("title", {"type": "plain_text_input"}),
        input_block("severity", {"type": "static_select", "options": [option("sev1"), option("sev2")]}),
        input_block("services", {"type": "multi_static_select", "options": [option("db"), option("api")]}),
        input_block("lead", {"type": "users_select"}),
        input_block("flags", {"type": "checkboxes", "options": [option("customer-facing")]}, optional=True),
        input_block("started", {"type": "datepicker", "initial_date": "2026-11-21"}),
        input_block("notes", {"type": "plain_text_input", "multiline": True}, optional=True),
    ],
}
ACK_BUTTON = {"type": "button", "action_id": "ack", "value": "inc-1", "text": {"type": "plain_text", "text": "Ack"}}


class Recorder:
    """A `deliver` that keeps each request and answers with `answer`."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")

    def __call__(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((body, headers))
        return self.answer

    def reply_json(self, body: dict) -> None:
        self.answer = (200, JSON_HEADERS, json.dumps(body).encode())

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[-1][0].decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        return json.loads(self.form()["payload"])

    def event_body(self) -> dict[str, Any]:
        return json.loads(self.requests[-1][0])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def slack(workspace: Workspace, recorder: Recorder) -> SlackClientSimulator:
    return SlackClientSimulator(workspace, recorder, signing_secret=SIGNING_SECRET)


def open_modal(workspace: Workspace, body: dict, user: str = "U01ALICE") -> View:
    return workspace.modals.open(workspace.issue_trigger_id(user), body)


def bot_message(workspace: Workspace, *elements: dict) -> str:
    blocks = [{"type": "actions", "block_id": "controls", "elements": list(elements)}]
    return workspace.post_message(INCIDENTS, user="U0BOT", text="Incident 1", blocks=blocks).ts


# signing and slash commands


def test_simulated_requests_are_signed_as_slack_signs_them(slack: SlackClientSimulator, recorder: Recorder) -> None:
    slack.slash_command("U01ALICE", INCIDENTS, text="db down")

    body, headers = recorder.requests[-1]
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert signature.startswith("v0=")
    assert SignatureVerifier(SIGNING_SECRET).is_valid(body=body, timestamp=timestamp, signature=signature)
    assert not SignatureVerifier("another-secret").is_valid(body=body, timestamp=timestamp, signature=signature)


def test_a_slash_command_carries_slacks_fields_and_a_usable_trigger(
    slack: SlackClientSimulator, recorder: Recorder, client: WebClient, server: RunningServer
) -> None:
    slack.slash_command("U01ALICE", INCIDENTS, command="/incident", text="declare db down")

    form = recorder.form()
    assert form.keys() >= {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "response_url",
        "trigger_id",
    }
    assert (form["channel_name"], form["user_name"], form["text"]) == ("incidents", "alice", "declare db down")
    assert form["response_url"].startswith(server.url)
    assert client.views_open(trigger_id=form["trigger_id"], view=FORM_MODAL)["ok"]


def test_a_synchronous_reply_is_shown_only_to_the_user(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    recorder.reply_json({"text": "Declaring…"})

    slack.slash_command("U01ALICE", INCIDENTS)

    assert [e.text for e in workspace.ephemerals_for("U01ALICE", INCIDENTS)] == ["Declaring…"]
    assert workspace.ephemerals_for("U01BOB") == []


def test_an_in_channel_synchronous_reply_is_posted_in_the_channel(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    recorder.reply_json({"response_type": "in_channel", "text": "Incident declared"})

    slack.slash_command("U01ALICE", INCIDENTS)

    assert workspace.messages(INCIDENTS)[-1].text == "Incident declared"


# block actions


def test_a_click_sends_block_actions_built_from_the_stored_message(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    ts = bot_message(workspace, ACK_BUTTON)

    slack.click("U01BOB", INCIDENTS, ts, "ack")

    payload = recorder.payload()
    assert payload["type"] == "block_actions"
    assert payload["container"] == {"type": "message", "message_ts": ts, "channel_id": INCIDENTS, "is_ephemeral": False}
    assert (payload["user"]["id"], payload["channel"]["name"], payload["message"]["ts"]) == ("U01BOB", "incidents", ts)
    action = payload["actions"][0]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value")} == {
        "type": "button",
        "action_id": "ack",
        "block_id": "controls",
        "value": "inc-1",
    }
    assert action["action_ts"] and payload["trigger_id"] and payload["response_url"]


def test_clicking_a_button_that_is_not_there_fails(slack: SlackClientSimulator, workspace: Workspace) -> None:
    ts = bot_message(workspace, ACK_BUTTON)

    with pytest.raises(LookupError):
        slack.click("U01BOB", INCIDENTS, ts, "resolve")


def test_selections_carry_slacks_selected_shapes(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    ts = bot_message(
        workspace,
        {"type": "static_select", "action_id": "severity", "options": [option("sev1"), option("sev2")]},
        {"type": "users_select", "action_id": "lead"},
    )

    slack.select("U01BOB", INCIDENTS, ts, "severity", "sev2")
    assert recorder.payload()["actions"][0]["selected_option"] == option("sev2")
    slack.select("U01BOB", INCIDENTS, ts, "lead", "U01CAROL")
    assert recorder.payload()["actions"][0]["selected_user"] == "U01CAROL"
    with pytest.raises(LookupError):
        slack.select("U01BOB", INCIDENTS, ts, "severity", "sev9")


def test_a_click_in_a_modal_carries_the_view_and_what_was_picked(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    view = open_modal(workspace, FORM_MODAL)

    slack.select_in_view("U01ALICE", view.id, "v", "sev1", block_id="severity")

    payload = recorder.payload()
    assert payload["container"] == {"type": "view", "view_id": view.id}
    assert payload["view"]["state"]["values"]["severity"]["v"]["selected_option"] == option("sev1")


# modal submissions


def test_a_submission_fills_state_values_in_slacks_shapes(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    view = open_modal(workspace, FORM_MODAL)

    slack.submit_view(
        "U01ALICE",
        view.id,
        {
            "title": {"v": "Database down"},
            "severity": {"v": "sev1"},
            "services": {"v": ["db", "api"]},
            "lead": {"v": "U01BOB"},
            "flags": {"v": ["customer-facing"]},
        },
    )

    payload = recorder.payload()
    values = payload["view"]["state"]["values"]
    assert payload["type"] == "view_submission" and payload["view"]["callback_id"] == "declare"
    assert values["title"]["v"] == {"type": "plain_text_input", "value": "Database down"}
    assert values["severity"]["v"] == {"type": "static_select", "selected_option": option("sev1")}
    assert values["services"]["v"]["selected_options"] == [option("db"), option("api")]
    assert values["lead"]["v"] == {"type": "users_select", "selected_user": "U01BOB"}
    assert values["flags"]["v"] == {"type": "checkboxes", "selected_options": [option("customer-facing")]}
    assert values["started"]["v"] == {"type": "datepicker", "selected_date": "2026-11-21"}
    assert values["notes"]["v"] == {"type": "plain_text_input", "value": None}


def test_a_required_input_left_empty_cannot_be_submitted(slack: SlackClientSimulator, workspace: Workspace) -> None:
    view = open_modal(workspace, FORM_MODAL)

    with pytest.raises(SubmissionRefused, match="title"):
        slack.submit_view("U01ALICE", view.id, {"severity": {"v": "sev1"}})


def full_form() -> dict:
    return {"title": {"v": "x"}, "severity": {"v": "sev1"}, "services": {"v": ["db"]}, "lead": {"v": "U01BOB"}}


def test_an_empty_acknowledgement_closes_the_modal(slack: SlackClientSimulator, workspace: Workspace) -> None:
    view = open_modal(workspace, FORM_MODAL)

    slack.submit_view("U01ALICE", view.id, full_form())

    assert workspace.open_views("U01ALICE") == []


def test_errors_keep_the_modal_open_and_are_returned(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    view = open_modal(workspace, FORM_MODAL)
    recorder.reply_json({"response_action": "errors", "errors": {"title": "Too short"}})

    result = slack.submit_view("U01ALICE", view.id, full_form())

    assert result.json["errors"] == {"title": "Too short"}
    assert [v.id for v in workspace.open_views("U01ALICE")] == [view.id]


def test_update_push_and_clear_answers_reshape_the_modal_stack(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    view = open_modal(workspace, FORM_MODAL)
    done = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Done"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Declared"}}],
    }

    recorder.reply_json({"response_action": "update", "view": {**FORM_MODAL, "private_metadata": "step-2"}})
    slack.submit_view("U01ALICE", view.id, full_form())
    assert workspace.open_views("U01ALICE")[0].body["private_metadata"] == "step-2"

    recorder.reply_json({"response_action": "push", "view": done})
    slack.submit_view("U01ALICE", view.id, full_form())
    assert [v.body["title"]["text"] for v in workspace.open_views("U01ALICE")] == ["Declare", "Done"]

    recorder.reply_json({"response_action": "clear"})
    slack.submit_view("U01ALICE", view.id, full_form())
    assert workspace.open_views("U01ALICE") == []


def test_closing_a_modal_notifies_the_app_only_when_asked(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    quiet = open_modal(workspace, FORM_MODAL)
    assert slack.close_view("U01ALICE", quiet.id) is None

    noisy = open_modal(workspace, {**FORM_MODAL, "notify_on_close": True})
    slack.close_view("U01ALICE", noisy.id)
    assert recorder.payload()["type"] == "view_closed"
    assert workspace.open_views("U01ALICE") == []


# shortcuts


def test_shortcuts_carry_their_callback_and_a_trigger(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    ts = workspace.post_user_message("U01BOB", INCIDENTS, "The API returns 500s").ts

    slack.message_shortcut("U01ALICE", INCIDENTS, ts, "declare_from_message")
    payload = recorder.payload()
    assert (payload["type"], payload["callback_id"], payload["message"]["text"]) == (
        "message_action",
        "declare_from_message",
        "The API returns 500s",
    )
    assert payload["response_url"] and payload["trigger_id"]

    slack.global_shortcut("U01ALICE", "declare")
    assert (recorder.payload()["type"], recorder.payload()["callback_id"]) == ("shortcut", "declare")


# Events API


def test_events_have_unique_ids_and_retries_repeat_them(slack: SlackClientSimulator, recorder: Recorder) -> None:
    first = slack.event({"type": "app_home_opened", "user": "U01ALICE", "tab": "home"})
    first_body = recorder.event_body()
    slack.event({"type": "app_home_opened", "user": "U01BOB", "tab": "home"})
    assert recorder.event_body()["event_id"] != first_body["event_id"]

    slack.event({}, retry_num=2, retry_reason="http_error", event_id=first_body["event_id"])

    body, headers = recorder.requests[-1]
    assert json.loads(body) == first_body
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_error")
    assert first.status == 200 and first_body["type"] == "event_callback"
    assert first_body["authorizations"][0]["user_id"] == "U0BOT"


def test_a_reaction_changes_the_message_and_sends_reaction_added(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    ts = bot_message(workspace, ACK_BUTTON)

    slack.react("U01BOB", INCIDENTS, ts, "eyes")

    event = recorder.event_body()["event"]
    assert workspace.message(INCIDENTS, ts).reactions == {"eyes": ["U01BOB"]}
    assert {k: event[k] for k in ("type", "user", "reaction", "item_user", "item")} == {
        "type": "reaction_added",
        "user": "U01BOB",
        "reaction": "eyes",
        "item_user": "U0BOT",
        "item": {"type": "message", "channel": INCIDENTS, "ts": ts},
    }

    slack.unreact("U01BOB", INCIDENTS, ts, "eyes")
    assert recorder.event_body()["event"]["type"] == "reaction_removed"
    assert workspace.message(INCIDENTS, ts).reactions == {}


def test_pinning_sends_pin_added_with_the_message(
    slack: SlackClientSimulator, recorder: Recorder, workspace: Workspace
) -> None:
    ts = workspace.post_user_message("U01BOB", INCIDENTS, "Root cause: expired cert").ts

    slack.pin("U01ALICE", INCIDENTS, ts)
    event = recorder.event_body()["event"]
    assert (event["type"], event["user"], event["channel_id"], event["item_user"]) == (
        "pin_added",
        "U01ALICE",
        INCIDENTS,
        "U01BOB",
    )
    assert event["item"]["message"]["text"] == "Root cause: expired cert"
    assert event["pinned_info"]["pinned_by"] == "U01ALICE"

    slack.unpin("U01ALICE", INCIDENTS, ts)
    event = recorder.event_body()["event"]
    assert (event["type"], event["has_pins"]) == ("pin_removed", False)


def test_a_posted_message_sends_a_message_event(slack: SlackClientSimulator, recorder: Recorder) -> None:
    slack.post("U01CAROL", INCIDENTS, "Is anyone on this?")

    event = recorder.event_body()["event"]
    assert (event["type"], event["user"], event["channel"], event["text"]) == (
        "message",
        "U01CAROL",
        INCIDENTS,
        "Is anyone on this?",
    )


def test_url_verification_sends_the_challenge(slack: SlackClientSimulator, recorder: Recorder) -> None:
    slack.url_verification("abc123")

    assert recorder.event_body() == {
        "token": "sandbox-verification-token",
        "challenge": "abc123",
        "type": "url_verification",
    }


# against a real Bolt app


@pytest.fixture
def bolt_app(client: WebClient) -> App:
    """A tiny incident flow: /incident opens a modal, submitting posts a message, Ack replaces it."""
    app = App(signing_secret=SIGNING_SECRET, client=client, process_before_response=True)

    @app.command("/incident")
    def declare(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=FORM_MODAL)

    @app.view("declare")
    def submitted(ack: Ack, view: dict, client: WebClient) -> None:
        ack()
        title = view["state"]["values"]["title"]["v"]["value"]
        client.chat_postMessage(
            channel=INCIDENTS,
            text=title,
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": title}},
                {"type": "actions", "elements": [ACK_BUTTON]},
            ],
        )

    @app.action("ack")
    def acknowledged(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    return app


@pytest.fixture
def bolt_url(bolt_app: App) -> Iterator[str]:
    running = serve_in_thread(SlackRequestHandler(bolt_app))
    yield f"{running.url}slack/events"
    running.stop()


def test_a_bolt_app_over_http_declares_and_acknowledges(workspace: Workspace, bolt_url: str) -> None:
    slack = SlackClientSimulator(workspace, http_deliver(bolt_url, timeout=10), signing_secret=SIGNING_SECRET)

    assert slack.slash_command("U01ALICE", INCIDENTS).status == 200
    view = workspace.open_views("U01ALICE")[0]
    assert slack.submit_view("U01ALICE", view.id, {**full_form(), "title": {"v": "Database down"}}).status == 200
    message = workspace.messages(INCIDENTS)[-1]
    assert message.text == "Database down"
    assert slack.click("U01BOB", INCIDENTS, message.ts, "ack").in_time

    assert workspace.message(INCIDENTS, message.ts).text == "Acknowledged by <@U01BOB>"
    assert workspace.calls_to("views.open")[0].ok


def test_bolt_rejects_a_request_signed_with_another_secret_or_replayed(workspace: Workspace, bolt_app: App) -> None:
    deliver = wsgi_deliver(SlackRequestHandler(bolt_app))

    forged = SlackClientSimulator(workspace, deliver, signing_secret="not-the-secret")
    replayed = SlackClientSimulator(workspace, deliver, signing_secret=SIGNING_SECRET, clock=lambda: time.time() - 600)

    assert forged.slash_command("U01ALICE", INCIDENTS).status == 401
    assert replayed.slash_command("U01ALICE", INCIDENTS).status == 401


def test_no_answer_before_the_deadline_is_reported(workspace: Workspace) -> None:
    def slow_app(environ: dict, start_response: Callable) -> list[bytes]:
        time.sleep(0.5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    running = serve_in_thread(slow_app)
    try:
        slack = SlackClientSimulator(workspace, http_deliver(running.url, timeout=0.1), signing_secret=SIGNING_SECRET)
        result = slack.event({"type": "app_home_opened", "user": "U01ALICE"})
    finally:
        running.stop()

    assert (result.status, result.in_time) == (0, False)
