"""Block Kit checks and walks: what Slack rejects (via slack_sdk's models, which know the limits), the
ids Slack fills in, and finding interactive elements in stored blocks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from app.sandbox.errors import ApiError, Err
from app.sandbox.models import JSON

MESSAGE_MAX_BLOCKS = 50
MESSAGE_MAX_TEXT = 40_000
VIEW_TYPES = ("modal", "home")
INPUT_ELEMENT_KEYS = ("element", "accessory")


def _has_hole(value: Any) -> bool:
    """slack_sdk turns an element it does not know into None instead of failing."""
    if isinstance(value, dict):
        return any(_has_hole(v) for v in value.values())
    if isinstance(value, list):
        return any(v is None or _has_hole(v) for v in value)
    return False


_MODEL_ERRORS = (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError)


def _block_problem(pointer: str, block: Any) -> str | None:
    if not isinstance(block, dict):
        return f"must be an object [json-pointer:{pointer}]"
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return f"unsupported type: {block.get('type')} [json-pointer:{pointer}/type]"
        rendered = parsed.to_dict()
    except _MODEL_ERRORS as exc:
        return f"{exc} [json-pointer:{pointer}]"
    if _has_hole(rendered):
        return f"unsupported element type [json-pointer:{pointer}]"
    return None


def _blocks_problems(blocks: list[Any], pointer: str) -> list[str]:
    return [p for i, b in enumerate(blocks) if (p := _block_problem(f"{pointer}/{i}", b))]


def check_message_blocks(blocks: Any) -> list[JSON]:
    """The blocks of chat.postMessage / chat.update, or `invalid_blocks` / `invalid_blocks_format`."""
    if not isinstance(blocks, list):
        raise ApiError(Err.INVALID_BLOCKS_FORMAT)
    problems = []
    if len(blocks) > MESSAGE_MAX_BLOCKS:
        problems.append(f"must be less than {MESSAGE_MAX_BLOCKS + 1} items [json-pointer:/blocks]")
    problems += _blocks_problems(blocks, "/blocks")
    if problems:
        raise ApiError(Err.INVALID_BLOCKS, errors=problems, response_metadata={"messages": problems})
    return blocks


def check_response_payload(payload: JSON) -> JSON:
    """A response_url post or a synchronous reply: needs text or blocks unless it deletes the original."""
    if payload.get("delete_original"):
        return payload
    text, blocks = payload.get("text"), payload.get("blocks")
    if blocks is not None:
        check_message_blocks(blocks)
    if not text and not blocks:
        raise ApiError(Err.NO_TEXT)
    if isinstance(text, str) and len(text) > MESSAGE_MAX_TEXT:
        raise ApiError(Err.MSG_TOO_LONG)
    return payload


def check_view(view: Any) -> JSON:
    """A view for views.open / push / update / publish, or `invalid_arguments` with Slack-style messages."""
    if not isinstance(view, dict):
        raise ApiError.invalid_arguments("view must be an object [json-pointer:/view]")
    kind = view.get("type")
    if kind not in VIEW_TYPES:
        raise ApiError.invalid_arguments(f"unsupported view type: {kind} [json-pointer:/view/type]")
    problems = []
    if kind == "modal" and not view.get("title"):
        problems.append("missing required field: title [json-pointer:/view]")
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
    if kind == "modal" and has_input and not view.get("submit"):
        problems.append("submit is required when an input block is present [json-pointer:/view]")
    blocks = view.get("blocks")
    problems += _blocks_problems(blocks, "/view/blocks") if isinstance(blocks, list) else []
    if not problems:
        try:
            View(**view).to_dict()
        except _MODEL_ERRORS as exc:
            problems.append(f"{exc} [json-pointer:/view]")
    if problems:
        raise ApiError.invalid_arguments(*problems)
    return view


def with_generated_ids(blocks: list[JSON], new_id: Callable[[], str]) -> list[JSON]:
    """A copy where every block has a `block_id` and every interactive element an `action_id`, as Slack does."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        block.setdefault("block_id", new_id())
        for element in _elements_of(block):
            if _is_interactive(element):
                element.setdefault("action_id", new_id())
    return filled


def _is_interactive(element: JSON) -> bool:
    return element.get("type") not in (None, "plain_text", "mrkdwn", "image")


def _elements_of(block: JSON) -> Iterator[JSON]:
    for key in INPUT_ELEMENT_KEYS:
        if isinstance(block.get(key), dict):
            yield block[key]
    if block.get("type") in ("actions", "context_actions"):
        yield from (e for e in block.get("elements") or [] if isinstance(e, dict))


def iter_elements(blocks: list[JSON]) -> Iterator[tuple[JSON, JSON]]:
    """(block, interactive element) pairs, in display order."""
    for block in blocks:
        for element in _elements_of(block):
            if _is_interactive(element):
                yield block, element


def find_element(blocks: list[JSON], action_id: str, block_id: str | None = None) -> tuple[JSON, JSON]:
    for block, element in iter_elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    where = f" in block {block_id!r}" if block_id else ""
    raise LookupError(f"no element with action_id {action_id!r}{where}")
