"""Signed but mutated Slack requests, for the fuzz benchmark (`benchmarks/fuzz_inbound.py`) and the fuzz test
(`tests/slack/test_fuzz_inbound.py`).

`seeds()` plays a short session through the simulator (a declare, commands, card clicks, modal submissions, a
message shortcut, events) and keeps every request it sent: valid bodies as Slack builds them. `mutate()` takes
one and changes it the way a buggy or hostile sender might: a field removed, nulled, of another type, a list
emptied, a string too long or with a lone surrogate, an unknown field, or the bytes themselves cut or made
non-UTF-8. The result is signed again with the real secret, so it gets past the signature check and tests
everything behind it.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from app.sandbox.client import SlackClientSimulator
from app.sandbox.delivery import Deliver
from app.sandbox.workspace import Workspace

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str


def signed(secret: str, request: Request, *, timestamp: int) -> dict[str, str]:
    """The headers Slack sends, signed over the raw bytes (slack_sdk's helper only signs UTF-8 text)."""
    base = b"v0:" + str(timestamp).encode() + b":" + request.body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": request.content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
    }


def recording(slack: SlackClientSimulator) -> list[Request]:
    """From now on, every request `slack` sends is also kept in the returned list."""
    sent: list[Request] = []
    deliver: Deliver = slack.deliver

    def record(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        sent.append(Request(body, headers.get("Content-Type", FORM)))
        return deliver(body, headers)

    slack.deliver = record
    return sent


def seeds(
    slack: SlackClientSimulator,
    workspace: Workspace,
    *,
    user: str,
    channel: str,
    settle: Callable[[], None] = lambda: None,
) -> list[Request]:
    """Valid requests of every kind the bot answers, sent once each (`settle()` lets the bot finish its work
    between steps). A step whose precondition did not come true (no modal opened) is skipped."""
    sent = recording(slack)

    def step(action: Callable[[], Any]) -> None:
        with contextlib.suppress(LookupError, ValueError):  # the session went another way: keep what was sent
            action()
        settle()

    def submit_latest(values: dict[str, dict[str, Any]]) -> None:
        views = workspace.open_views(user)
        if views:
            slack.submit_view(user, views[-1].id, values)

    step(lambda: slack.slash_command(user, channel, "/incident", "declare"))
    step(
        lambda: submit_latest(
            {"declare_title": {"declare_title": "Fuzzed checkout"}, "declare_severity": {"declare_severity": "SEV2"}}
        )
    )
    incident = next((c for c in workspace.channels.values() if c.name.startswith("inc-")), None)
    if incident is not None:
        where = incident.id
        for text in ("status", "note the fuzzer was here", "ack", "sev SEV1", "roles", "timeline", "help"):
            step(lambda text=text: slack.slash_command(user, where, "/incident", text))
        step(lambda: slack.slash_command(user, where, "/incident", "update"))
        step(lambda: submit_latest({"update_text": {"update_text": "Still fuzzing"}}))
        step(lambda: slack.slash_command(user, where, "/incident", "roles"))
        step(lambda: submit_latest({}))
        card = incident.pins[0].ts if incident.pins else None
        if card:
            step(lambda: slack.click(user, where, card, "incident_acknowledge"))
            step(lambda: slack.click(user, where, card, "incident_change_severity", "INC-1:SEV3"))
            step(lambda: slack.click(user, where, card, "incident_post_update"))
        message = workspace.post_user_message(user, where, "the fuzzer posts")
        step(lambda: slack.post(user, where, "a message in the channel"))
        step(lambda: slack.react(user, where, message.ts, "eyes"))
        step(lambda: slack.pin(user, where, message.ts))
        step(lambda: slack.unreact(user, where, message.ts, "eyes"))
        step(lambda: slack.message_shortcut(user, where, message.ts, "declare_incident_from_message"))
    step(lambda: slack.url_verification("fuzz"))
    return list(sent)


# --- mutations -------------------------------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**70,
    1.5,
    True,
    False,
    "",
    " ",
    "x",
    "INC-1",
    "U0NOBODY",
    "http://127.0.0.1:9/nowhere",  # a URL where nothing answers
    "\u202e\u0000",
    "\ud800",  # a lone surrogate: json.dumps writes it as an escape, which is not valid Unicode
    "é" * 3000,
    [],
    [None],
    [1, 2],
    {},
    {"id": None},
    {"id": 3},
    {"type": "modal"},
    [[[[[]]]]],
]


def _odd(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(ODD_VALUES))  # a fresh one: the next mutation may change it in place


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        root = root[part]
    return root


def _mutate_value(root: Any, rng: random.Random) -> None:
    paths = _paths(root)
    if not paths:
        return
    path = rng.choice(paths)
    parent, key = _parent(root, path), path[-1]
    op = rng.randrange(8)
    if op == 0:
        del parent[key]
    elif op == 1:
        parent[key] = None
    elif op == 2:
        parent[key] = _odd(rng)
    elif op == 3:
        parent[key] = [parent[key]]
    elif op == 4 and isinstance(parent[key], str):
        parent[key] = parent[key] * rng.randrange(2, 50) if rng.random() < 0.5 else parent[key][: rng.randrange(3)]
    elif op == 5 and isinstance(parent[key], list | dict):
        parent[key].clear()
    elif op == 6 and isinstance(parent, dict):
        parent[rng.choice(["id", "type", "value", "user", "event", "response_urls", "command", "x"])] = rng.choice(
            ODD_VALUES
        )
    else:
        parent[key] = str(parent[key]) if not isinstance(parent[key], str) else _odd(rng)


def _mutate_bytes(body: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(body) + 1)
    op = rng.randrange(4)
    if op == 0:
        return body[:at]
    if op == 1:
        return body[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"%ff", b"%", b"\x00"]) + body[at:]
    if op == 2:
        return body[:at] + body[at : at + rng.randrange(1, 40)] * 2 + body[at:]
    return body[:at] + bytes([rng.randrange(256)]) + body[at + 1 :]


def mutate(seed: Request, rng: random.Random) -> Request:
    """A copy of `seed` with one to three changes to its fields, or (one time in eight) to its bytes."""
    if rng.random() < 0.125:
        return Request(_mutate_bytes(seed.body, rng), seed.content_type)
    text = seed.body.decode()
    if seed.content_type.startswith("application/json"):
        value: Any = json.loads(text)
        encode: Callable[[Any], str] = json.dumps
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in form:
            value = json.loads(form["payload"])

            def encode(v: Any) -> str:
                return urlencode({"payload": json.dumps(v)}, errors="surrogatepass")
        else:
            value = form

            def encode(v: Any) -> str:
                fields = v if isinstance(v, dict) else {"payload": json.dumps(v)}
                pairs = {k: x if isinstance(x, str) else json.dumps(x) for k, x in fields.items()}
                return urlencode(pairs, errors="surrogatepass")

    box = {"root": value}  # so that the root itself can be replaced
    for _ in range(rng.randrange(1, 4)):
        _mutate_value(box, rng)
    root = box.get("root", _odd(rng))
    return Request(encode(root).encode("utf-8", "surrogatepass"), seed.content_type)


def kind(request: Request) -> str:
    """What a (valid) request is: `command`, or its payload's `type`."""
    text = request.body.decode()
    if request.content_type.startswith("application/json"):
        return str(json.loads(text).get("type"))
    form = dict(parse_qsl(text, keep_blank_values=True))
    return str(json.loads(form["payload"]).get("type")) if "payload" in form else "command"
