"""The Slack platform's side toward the bot: slash commands, clicks, selections, modal submissions, shortcuts
and Events API callbacks, built as Slack builds them from the workspace's state and signed as Slack signs them.
Whatever Slack would do with the bot's answer (a synchronous reply, a `response_action`) is applied to the
workspace."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from app.sandbox.blockkit import check_response_payload, check_view, find_element, iter_elements
from app.sandbox.delivery import Deliver, Result, http_deliver, signed_headers, wsgi_deliver
from app.sandbox.errors import ApiError
from app.sandbox.events import envelope, message_event, pin_event, reaction_event
from app.sandbox.models import JSON, View
from app.sandbox.payloads import action_entry, holds_state, initial_selection, is_empty, state_entry
from app.sandbox.shapes import message_json, view_json
from app.sandbox.workspace import Workspace

__all__ = ["Result", "SlackClientSimulator", "SubmissionRefused", "http_deliver", "wsgi_deliver"]

FORM = "application/x-www-form-urlencoded"
JSON_BODY = "application/json"
RETRY_NUM_HEADER = "X-Slack-Retry-Num"
RETRY_REASON_HEADER = "X-Slack-Retry-Reason"


class SubmissionRefused(ValueError):
    """Slack's client would not send this submission (a required input is empty)."""


class SlackClientSimulator:
    def __init__(
        self,
        workspace: Workspace,
        deliver: Deliver,
        *,
        signing_secret: str,
        verification_token: str = "sandbox-verification-token",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace = workspace
        self.deliver = deliver
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        self.clock = clock
        self.sent_events: dict[str, JSON] = {}
        self._event_ids = itertools.count(1)

    # slash commands and shortcuts

    def slash_command(self, user_id: str, channel_id: str, command: str = "/incident", text: str = "") -> Result:
        ws = self.workspace
        user, channel = ws.user(user_id), ws.channel(channel_id)
        fields = {
            "token": self.verification_token,
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": ws.app_id,
            "is_enterprise_install": "false",
            "response_url": ws.new_response_url(channel.id, user.id),
            "trigger_id": ws.issue_trigger_id(user.id),
        }
        result = self._send(urlencode(fields).encode(), FORM)
        if result.status == 200 and result.body.strip():
            reply = result.json if isinstance(result.json, dict) else {"text": result.text}
            ws.apply_response(channel.id, user.id, check_response_payload(reply))
        return result

    def global_shortcut(self, user_id: str, callback_id: str) -> Result:
        return self._interaction(
            {**self._common("shortcut", user_id), "callback_id": callback_id, "action_ts": self._action_ts()}
        )

    def message_shortcut(self, user_id: str, channel_id: str, message_ts: str, callback_id: str) -> Result:
        ws = self.workspace
        channel, message = ws.channel(channel_id), ws.message(channel_id, message_ts)
        return self._interaction(
            {
                **self._common("message_action", user_id),
                "callback_id": callback_id,
                "action_ts": self._action_ts(),
                "channel": {"id": channel.id, "name": channel.name},
                "message_ts": message.ts,
                "message": message_json(ws, message),
                "response_url": ws.new_response_url(channel.id, user_id, message_ts=message.ts),
            }
        )

    # block actions

    def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: Any = None,
        block_id: str | None = None,
    ) -> Result:
        """Press a button (or any element) of a message the user sees, ephemeral ones included."""
        return self._act_on_message(user_id, channel_id, message_ts, action_id, value, block_id)

    def select(
        self, user_id: str, channel_id: str, message_ts: str, action_id: str, value: Any, block_id: str | None = None
    ) -> Result:
        """Pick in a select / datepicker / checkboxes of a message: `value` is an option value, a user id..."""
        return self._act_on_message(user_id, channel_id, message_ts, action_id, value, block_id)

    def click_in_view(
        self, user_id: str, view_id: str, action_id: str, value: Any = None, block_id: str | None = None
    ) -> Result:
        return self._act_in_view(user_id, view_id, action_id, value, block_id)

    def select_in_view(
        self, user_id: str, view_id: str, action_id: str, value: Any, block_id: str | None = None
    ) -> Result:
        return self._act_in_view(user_id, view_id, action_id, value, block_id)

    def _act_on_message(
        self, user_id: str, channel_id: str, ts: str, action_id: str, value: Any, block_id: str | None
    ) -> Result:
        ws = self.workspace
        channel = ws.channel(channel_id)
        ephemeral = ws.find_ephemeral(channel.id, user_id, ts)
        source = ephemeral or ws.message(channel.id, ts)
        block, element = find_element(source.blocks, action_id, block_id)
        container: JSON = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel.id,
            "is_ephemeral": ephemeral is not None,
        }
        if source.thread_ts:
            container["thread_ts"] = source.thread_ts
        payload = {
            **self._common("block_actions", user_id),
            "container": container,
            "channel": {"id": channel.id, "name": channel.name},
            "state": {"values": {}},
            "response_url": ws.new_response_url(channel.id, user_id, message_ts=ts),
            "actions": [action_entry(element, block["block_id"], value, self._action_ts())],
        }
        if ephemeral is None:
            payload["message"] = message_json(ws, ws.message(channel.id, ts))
        return self._interaction(payload)

    def _act_in_view(self, user_id: str, view_id: str, action_id: str, value: Any, block_id: str | None) -> Result:
        view = self._view_of(user_id, view_id)
        block, element = find_element(view.body.get("blocks") or [], action_id, block_id)
        if holds_state(element):
            view.state.setdefault(block["block_id"], {})[element["action_id"]] = state_entry(element, value)
        return self._interaction(
            {
                **self._common("block_actions", user_id),
                "container": {"type": "view", "view_id": view.id},
                "view": view_json(self.workspace, view),
                "actions": [action_entry(element, block["block_id"], value, self._action_ts())],
            }
        )

    # modals

    def submit_view(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]] | None = None) -> Result:
        """Submit with `values[block_id][action_id]` as simple values, typed from the stored view's elements.
        The answer's `response_action` (errors / update / push / clear) is applied; an empty 200 closes it."""
        view = self._view_of(user_id, view_id)
        view.state = self._submitted_state(view, values or {})
        result = self._interaction(
            {
                **self._common("view_submission", user_id),
                "view": view_json(self.workspace, view),
                "response_urls": [],
            }
        )
        if result.status == 200:
            self._apply_view_answer(view, result.json if isinstance(result.json, dict) else {})
        return result

    def close_view(self, user_id: str, view_id: str) -> Result | None:
        """The user closes the modal: `view_closed` is sent only if the view asked (`notify_on_close`)."""
        view = self._view_of(user_id, view_id)
        result = None
        if view.body.get("notify_on_close"):
            result = self._interaction(
                {**self._common("view_closed", user_id), "view": view_json(self.workspace, view), "is_cleared": False}
            )
        self.workspace.modals.close(view.id)
        return result

    def _view_of(self, user_id: str, view_id: str) -> View:
        modals = self.workspace.modals
        view = modals.view(view_id)
        if view.user != user_id:
            raise LookupError(f"view {view_id} is not shown to {user_id}")
        return view

    def _submitted_state(self, view: View, values: dict[str, dict[str, Any]]) -> dict[str, dict[str, JSON]]:
        pending = {(b, a): v for b, actions in values.items() for a, v in actions.items()}
        state: dict[str, dict[str, JSON]] = {}
        for block, element in iter_elements(view.body.get("blocks") or []):
            if not holds_state(element):
                continue
            key = (block["block_id"], element["action_id"])
            if key in pending:
                entry = state_entry(element, pending.pop(key))
            else:
                entry = view.state.get(key[0], {}).get(key[1]) or {
                    "type": element["type"],
                    **initial_selection(element),
                }
            if block.get("type") == "input" and not block.get("optional") and is_empty(entry):
                raise SubmissionRefused(f"required input {key[0]}/{key[1]} is empty")
            state.setdefault(key[0], {})[key[1]] = entry
        if pending:
            raise LookupError(f"the view has no input for {sorted(pending)}")
        return state

    def _apply_view_answer(self, view: View, answer: JSON) -> None:
        modals = self.workspace.modals
        action = answer.get("response_action")
        if action is None:
            modals.close(view.id)
        elif action == "errors":
            inputs = {b.get("block_id") for b in view.body.get("blocks") or [] if b.get("type") == "input"}
            if unknown := set(answer.get("errors") or {}) - inputs:
                raise ApiError.invalid_arguments(f"errors name blocks that are not inputs: {sorted(unknown)}")
        elif action == "update":
            modals.update(view_id=view.id, external_id=None, body=check_view(answer.get("view")), hash=None)
        elif action == "push":
            modals.push_for(view.user, check_view(answer.get("view")))
        elif action == "clear":
            modals.clear(view.user)
        else:
            raise ApiError.invalid_arguments(f"unknown response_action: {action}")

    # Events API

    def event(
        self,
        event: JSON,
        retry_num: int | None = None,
        *,
        retry_reason: str = "http_timeout",
        event_id: str | None = None,
    ) -> Result:
        """An `event_callback`; pass a previous `event_id` with `retry_num` (1..3) to redeliver it as Slack's
        retries do, with `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`."""
        if event_id is not None and event_id in self.sent_events:
            body = self.sent_events[event_id]
        else:
            event_id = event_id or f"Ev0SB{next(self._event_ids):06d}"
            body = envelope(
                self.workspace, event, event_id=event_id, event_time=int(self.clock()), token=self.verification_token
            )
            self.sent_events[event_id] = body
        headers = {RETRY_NUM_HEADER: str(retry_num), RETRY_REASON_HEADER: retry_reason} if retry_num else {}
        return self._send(json.dumps(body).encode(), JSON_BODY, headers)

    def url_verification(self, challenge: str = "sandbox-challenge") -> Result:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self._send(json.dumps(body).encode(), JSON_BODY)

    def post(self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None) -> Result:
        """A person writes a message; the `message` event follows."""
        message = self.workspace.post_user_message(user_id, channel_id, text, thread_ts)
        return self.event(message_event(self.workspace, message))

    def react(self, user_id: str, channel_id: str, ts: str, name: str) -> Result:
        message = self.workspace.add_reaction(channel_id, ts, name, user_id)
        return self.event(
            reaction_event(
                self.workspace, "reaction_added", user=user_id, message=message, name=name, event_ts=self._event_ts()
            )
        )

    def unreact(self, user_id: str, channel_id: str, ts: str, name: str) -> Result:
        message = self.workspace.remove_reaction(channel_id, ts, name, user_id)
        return self.event(
            reaction_event(
                self.workspace, "reaction_removed", user=user_id, message=message, name=name, event_ts=self._event_ts()
            )
        )

    def pin(self, user_id: str, channel_id: str, ts: str) -> Result:
        pin = self.workspace.pin(channel_id, ts, user_id)
        message = self.workspace.message(channel_id, ts)
        return self.event(
            pin_event(self.workspace, "pin_added", user=user_id, message=message, pin=pin, event_ts=self._event_ts())
        )

    def unpin(self, user_id: str, channel_id: str, ts: str) -> Result:
        pin = self.workspace.unpin(channel_id, ts)
        message = self.workspace.message(channel_id, ts)
        return self.event(
            pin_event(self.workspace, "pin_removed", user=user_id, message=message, pin=pin, event_ts=self._event_ts())
        )

    # transport

    def _common(self, kind: str, user_id: str) -> JSON:
        ws = self.workspace
        user = ws.user(user_id)
        return {
            "type": kind,
            "token": self.verification_token,
            "team": {"id": ws.team_id, "domain": ws.domain},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id},
            "api_app_id": ws.app_id,
            "trigger_id": ws.issue_trigger_id(user.id),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _interaction(self, payload: JSON) -> Result:
        return self._send(urlencode({"payload": json.dumps(payload)}).encode(), FORM)

    def _send(self, body: bytes, content_type: str, extra_headers: dict[str, str] | None = None) -> Result:
        headers = signed_headers(self.signing_secret, body, timestamp=int(self.clock()), content_type=content_type)
        started = time.monotonic()
        status, answer_headers, answer = self.deliver(body, {**headers, **(extra_headers or {})})
        return Result.of(status, answer_headers, answer, time.monotonic() - started)

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    def _event_ts(self) -> str:
        return self.workspace.ids.ts()
