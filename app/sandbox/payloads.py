"""The pieces of Slack's interaction payloads that depend on Block Kit elements: the `actions[]` entry of a
block_actions payload and the `view.state.values` entries, from simple values ("sev1", "U01ALICE", [..])."""

from __future__ import annotations

from typing import Any

from app.sandbox.models import JSON

# element type -> (key in state / action, key of its initial value in the element)
STATE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "rich_text_input": ("rich_text_value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "overflow": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
_OPTION_KEYS = {"selected_option", "selected_options"}
_MULTI_KEYS = {"selected_options", "selected_users", "selected_conversations", "selected_channels"}


def holds_state(element: JSON) -> bool:
    return element.get("type") in STATE_KEYS


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _option(element: JSON, value: Any) -> JSON:
    if isinstance(value, dict):
        return value
    if element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}
    for option in _options(element):
        if option.get("value") == value:
            return option
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def _rich_text(value: Any) -> JSON:
    if isinstance(value, dict):
        return value
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
    return {"type": "rich_text", "elements": [section]}


def selection(element: JSON, value: Any) -> JSON:
    """{state key: value in Slack's shape}, e.g. {"selected_option": {"text": ..., "value": "sev1"}}."""
    key, _ = STATE_KEYS[element["type"]]
    if key in _MULTI_KEYS:
        values = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
        shaped: Any = [_option(element, v) for v in values] if key in _OPTION_KEYS else values
    elif value is None:
        shaped = None
    elif key in _OPTION_KEYS:
        shaped = _option(element, value)
    elif key == "rich_text_value":
        shaped = _rich_text(value)
    elif key == "selected_date_time":
        shaped = int(value)
    else:
        shaped = str(value) if key == "value" else value
    return {key: shaped}


def initial_selection(element: JSON) -> JSON:
    key, initial_key = STATE_KEYS[element["type"]]
    initial = element.get(initial_key)
    if initial is None:
        return {key: [] if key in _MULTI_KEYS else None}
    return selection(element, initial)


def is_empty(entry: JSON) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def state_entry(element: JSON, value: Any) -> JSON:
    return {"type": element["type"], **selection(element, value)}


def action_entry(element: JSON, block_id: str, value: Any, action_ts: str) -> JSON:
    """One `actions[]` item of a block_actions payload."""
    action: JSON = {"type": element["type"], "action_id": element.get("action_id"), "block_id": block_id}
    if element["type"] == "button":
        action["text"] = element.get("text")
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        for optional in ("style", "url"):
            if optional in element:
                action[optional] = element[optional]
    elif holds_state(element):
        action |= selection(element, value)
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    elif value is not None:
        action["value"] = value
    action["action_ts"] = action_ts
    return action
