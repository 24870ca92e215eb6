"""The one parse of a request to /slack/events, after its signature is verified and before Bolt sees it.

The body is decoded once (UTF-8), its form or JSON parsed once (`pydantic_core.from_json`, which also refuses
text that is not valid Unicode), and validated once against Slack's payload shapes (`app.slack.payloads`). A
body Slack would never send (not UTF-8, not JSON, a list, a `user` that is a number, no actions) raises
`Malformed`, which the edge answers 400 with the reason; Bolt then gets the parsed body, never the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pydantic_core import from_json

from app.slack.payloads import Malformed, Payload, validate

__all__ = ["MAX_BODY", "Malformed", "Parsed", "read"]

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; this only bounds what a stranger can make us parse
MAX_FIELDS = 100  # a slash command has about 15 fields


@dataclass(frozen=True, slots=True)
class Parsed:
    text: str  # the body as sent (Bolt keeps it as `raw_body`)
    body: dict[str, Any]  # what Bolt and the listeners read: the form, or the JSON payload
    payload: Payload  # the same, validated and typed


def read(raw: bytes, content_type: str | None) -> Parsed:
    """Parse and validate a signed body; `Malformed` when it is not something Slack would send."""
    if len(raw) > MAX_BODY:
        raise Malformed("the body is too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if not text:
        raise Malformed("the body is empty")
    kind = (content_type or "").split(";")[0].strip().lower()
    # Slack sends JSON only to the Events API; as Bolt does, anything starting with "{" is read as JSON.
    if kind == "application/json" or text.startswith("{"):
        body = _json(text, "body")
        return Parsed(text, body, validate(body, where="body"))
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS))
    except UnicodeDecodeError:
        raise Malformed("the form is not UTF-8") from None
    except ValueError:
        raise Malformed(f"the form has more than {MAX_FIELDS} fields") from None
    if "payload" in form:  # an interaction: its JSON in one form field
        body = _json(form["payload"], "payload")
        return Parsed(text, body, validate(body, where="payload"))
    return Parsed(text, form, validate(form, where="form", form=True))


def _json(text: str, what: str) -> Any:
    try:
        return from_json(text)
    except ValueError:
        raise Malformed(f"the {what} is not JSON") from None
