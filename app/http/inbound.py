"""What a request to /slack/events must look like before Bolt parses it.

Bolt indexes into payloads as Slack builds them (`body["actions"][0]`, `body["view"]["callback_id"]`, `"id" in
user`); a body Slack would never send (not UTF-8, not JSON, a list, a `user` that is a number, no actions) makes
it raise, which the server would answer with a 500. `check()` reads the body first and rejects such requests
with a 400 and a short reason. Only the fields Bolt and the bot read are checked, and only their types: Slack
adds fields over time, and those pass untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; this only bounds what a stranger can make us parse


class Malformed(Exception):
    """Not a request Slack would send; the message says what is wrong (no payload content)."""


Spec = Callable[[Any, str], None]


def _type(*types: type, optional: bool = True) -> Spec:
    def check(value: Any, where: str) -> None:
        if value is None and optional:
            return
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            names = " or ".join(t.__name__ for t in types)
            raise Malformed(f"{where} must be {names}")

    return check


def obj(
    fields: Mapping[str, Spec],
    *,
    required: tuple[str, ...] = (),
    optional: bool = True,
    not_null: tuple[str, ...] = (),
) -> Spec:
    """An object whose `fields` have these specs when present; `required` ones must be there and not null,
    `not_null` ones may be absent but not null (Bolt tests for the key, then reads into the value)."""

    def check(value: Any, where: str) -> None:
        if value is None and optional:
            return
        if not isinstance(value, dict):
            raise Malformed(f"{where} must be an object")
        for name in required:
            if value.get(name) is None:
                raise Malformed(f"{where}.{name} is missing")
        for name in not_null:
            if name in value and value[name] is None:
                raise Malformed(f"{where}.{name} is null")
        for name, spec in fields.items():
            if name in value:
                spec(value[name], f"{where}.{name}")

    return check


def list_of(spec: Spec, *, at_least: int = 0) -> Spec:
    def check(value: Any, where: str) -> None:
        if value is None and not at_least:
            return
        if not isinstance(value, list) or len(value) < at_least:
            raise Malformed(f"{where} must be a list" + (f" of at least {at_least}" if at_least else ""))
        for i, item in enumerate(value):
            spec(item, f"{where}[{i}]")

    return check


def map_of(spec: Spec) -> Spec:
    def check(value: Any, where: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise Malformed(f"{where} must be an object")
        for key, item in value.items():
            spec(item, f"{where}.{key}")

    return check


def one_of(*specs: Spec) -> Spec:
    def check(value: Any, where: str) -> None:
        problems = []
        for spec in specs:
            try:
                spec(value, where)
                return
            except Malformed as exc:
                problems.append(str(exc))
        raise Malformed(problems[0])

    return check


text = _type(str)


def _url(value: Any, where: str) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith(("https://", "http://"))):
        raise Malformed(f"{where} must be a URL")


flag = _type(bool, str)
number = _type(int, float, str)
ident = obj({"id": text, "team_id": text, "enterprise_id": text, "name": text}, required=("id",))
person = one_of(text, ident)  # events name the person by id
option = obj({"value": text, "text": obj({"text": text})})
element_state = obj(
    {
        "type": text,
        "value": text,
        "selected_option": option,
        "selected_options": list_of(option),
        "selected_user": text,
        "selected_users": list_of(_type(str, optional=False)),
        "selected_conversation": text,
        "selected_channel": text,
        "selected_date": text,
        "selected_time": text,
    },
    optional=False,
)
view = obj(
    {
        "id": text,
        "type": text,
        "callback_id": text,
        "private_metadata": text,
        "hash": text,
        "root_view_id": text,
        "previous_view_id": text,
        "team_id": text,
        "app_installed_team_id": text,
        "blocks": list_of(_type(dict, optional=False)),
        "state": obj({"values": map_of(map_of(element_state))}),
    },
    required=("type", "callback_id"),  # Bolt reads both from any view
)
action = obj(
    {
        "action_id": text,
        "block_id": text,
        "type": text,
        "value": text,
        "action_ts": text,
        "selected_option": option,
        "selected_options": list_of(option),
        "selected_user": text,
        "selected_users": list_of(_type(str, optional=False)),
    },
    required=("action_id",),
    optional=False,
)
authorizations = list_of(obj({"team_id": text, "enterprise_id": text, "user_id": text, "is_enterprise_install": flag}))
common = {
    "type": _type(str, optional=False),
    "user": ident,  # interactions always carry the person as an object
    "team": obj({"id": text, "enterprise_id": text, "domain": text}),  # an object, or null (org-wide installs)
    "enterprise": one_of(text, obj({"id": text})),
    "is_enterprise_install": flag,
    "authorizations": authorizations,
    "api_app_id": text,
    "token": text,
    "trigger_id": text,
    "response_url": _url,
    "callback_id": text,
    "channel": one_of(text, obj({"id": text, "name": text})),
    "container": obj({"type": text, "message_ts": text, "channel_id": text, "view_id": text, "is_ephemeral": flag}),
    "message": obj({"ts": text, "text": text, "user": text, "thread_ts": text, "bot_id": text}),
    "view": view,
    "actions": list_of(action),
    "action_id": text,
    "block_id": text,
    "value": text,
    "state": obj({"values": map_of(map_of(element_state))}),
    "response_urls": list_of(obj({"response_url": text, "channel_id": text, "block_id": text, "action_id": text})),
}
STRUCTURE = ("user", "view", "actions", "container", "message", "channel", "state")
INTERACTIONS: dict[str, Spec] = {
    "block_actions": obj(
        common | {"actions": list_of(action, at_least=1)}, required=("user", "trigger_id"), not_null=STRUCTURE
    ),
    "view_submission": obj(common, required=("user", "view", "trigger_id"), not_null=STRUCTURE),
    "view_closed": obj(common, required=("user", "view"), not_null=STRUCTURE),
    "shortcut": obj(common, required=("user", "callback_id", "trigger_id"), not_null=STRUCTURE),
    "message_action": obj(common, required=("user", "callback_id", "trigger_id"), not_null=STRUCTURE),
    "block_suggestion": obj(common, required=("user", "action_id"), not_null=STRUCTURE),
}
ANY_INTERACTION = obj(common, not_null=STRUCTURE)
event = obj(
    {
        "type": _type(str, optional=False),
        "user": person,
        "channel": one_of(text, obj({"id": text})),
        "channel_type": text,
        "text": text,
        "ts": text,
        "event_ts": text,
        "thread_ts": text,
        "subtype": text,
        "bot_id": text,
        "team": text,
        "user_team": text,
        "reaction": text,
        "item_user": text,
        "item": obj({"type": text, "channel": text, "ts": text, "message": obj({"ts": text, "text": text})}),
        "message": obj({"ts": text, "text": text, "user": text, "thread_ts": text}),
        "previous_message": obj({"ts": text, "text": text, "user": text}),
        "tab": text,
    },
    optional=False,
)
envelope = {
    "type": text,
    "event": event,
    "event_id": text,
    "event_time": number,
    "team_id": text,
    "enterprise_id": text,
    "api_app_id": text,
    "authorizations": authorizations,
    "is_ext_shared_channel": flag,
    "challenge": text,
}
EVENTS: dict[str, Spec] = {
    "event_callback": obj(envelope, required=("event",)),
    "url_verification": obj(envelope, required=("challenge",), not_null=("event",)),
}
ANY_EVENT = obj(envelope, not_null=("event",))


# What Slack always sends with a slash command, and what answering it needs.
COMMAND_FIELDS = ("command", "user_id", "channel_id", "team_id", "trigger_id", "response_url")


def check(body: bytes, content_type: str | None) -> None:
    """Raise `Malformed` when `body` is not something Slack would send to /slack/events."""
    if len(body) > MAX_BODY:
        raise Malformed("the body is too large")
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if not raw:
        raise Malformed("the body is empty")
    kind = (content_type or "").split(";")[0].strip().lower()
    # Bolt reads anything starting with "{" as JSON, whatever its content type says.
    if kind == "application/json" or raw.startswith("{"):
        _check_json(raw)
        return
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form:
        _check_interaction(_load(form["payload"], "payload"))
    elif "command" in form:
        missing = [name for name in COMMAND_FIELDS if not form.get(name)]
        if missing:
            raise Malformed(f"the slash command has no {', '.join(missing)}")
        _url(form["response_url"], "response_url")


def _load(raw: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise Malformed(f"the {what} is not JSON") from None


def _check_json(raw: str) -> None:
    body = _load(raw, "body")
    if not isinstance(body, dict):
        raise Malformed("the body must be a JSON object")
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("body.type must be str")
    if kind in INTERACTIONS:
        INTERACTIONS[kind](body, "body")  # Bolt routes these by type, whatever the transport
        return
    EVENTS.get(kind, ANY_EVENT)(body, "body")


def _check_interaction(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise Malformed("the payload must be a JSON object")
    kind = payload.get("type")
    spec = INTERACTIONS.get(kind, ANY_INTERACTION) if isinstance(kind, str) else ANY_INTERACTION
    spec(payload, "payload")
    if kind == "block_actions" and not payload.get("response_url") and not payload.get("view"):
        # A click on a message comes with its response_url, a click in a modal with the view.
        raise Malformed("a block action needs a response_url or a view")
