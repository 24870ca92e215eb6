"""Bad input never crashes the bot: any slash-command text, any form fields, any interaction payload (random
JSON, missing fields, wrong types) and any Events API body, signed as Slack signs them and sent to the real
app, gets a clear reply or a 4xx, never a 5xx, and the bot logs no error (no listener blew up after its ack).

Property-based (hypothesis): the shapes are built from the ids the app really listens to, so the payloads
reach the listeners instead of bouncing off as unknown."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import json
import os
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from structlog.testing import capture_logs

import app.slack.ids
from app.slack.bolt_app import SORRY, ContextExecutor
from app.slack.routes import SUBCOMMANDS
from incidents.errors import NotFound
from tests.slack.slack_harness import ALICE, BOB, GENERAL, SIGNING_SECRET, Harness

FORM = "application/x-www-form-urlencoded"
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
)

IDS = sorted(
    {
        member.value
        for value in vars(app.slack.ids).values()
        if isinstance(value, type) and issubclass(value, enum.Enum)
        for member in value
        if isinstance(member.value, str)
    }
)
WORDS = sorted({word for sub in SUBCOMMANDS.all() for word in (sub.name, *sub.aliases)})
USERS = [ALICE, BOB, "U0NOBODY", "", "W123", "not a user"]
REFS = ["INC-1", "INC-2", "inc-1", "INC-999999999", "INC-", "INC-x", "1", ""]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False), st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape (so that payloads reach the listeners), sometimes anything at all."""
    return st.sampled_from(range(16)).flatmap(lambda n: json_values if n == 15 else strategy)


ref_like = st.one_of(
    st.sampled_from(REFS), st.builds(lambda r, s: f"{r}:{s}", st.sampled_from(REFS), st.text(max_size=8))
)
id_like = st.integers(0, 4).flatmap(lambda n: st.text(max_size=20) if n == 0 else st.sampled_from(IDS))


def ensure_incident(h: Harness) -> str:
    """INC-1 and its channel, declared by the first example of a test (examples share the harness)."""
    with contextlib.suppress(NotFound):
        return h.incident().channel_id
    h.declare("Checkout is failing")
    return h.incident().channel_id


def signed(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's signature over the raw bytes (slack_sdk's helper only signs text)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def send(h: Harness, body: bytes, content_type: str = FORM) -> int:
    headers = signed(body, content_type)
    with capture_logs() as logs:
        status, _, answer = h.slack.deliver(body, headers)
        executor = h.app.listener_runner.listener_executor
        assert isinstance(executor, ContextExecutor) and executor.wait_idle(10)
        h.settle()
    errors = [entry for entry in logs if entry.get("log_level") in ("error", "critical")]
    assert status < 500, f"HTTP {status}: {answer[:300]!r}"
    assert not errors, errors
    if currently_in_test_context():
        note(f"HTTP {status}")  # --hypothesis-show-statistics: how many got past the shape check
    return status


# --- slash commands ------------------------------------------------------------------------------------------

command_text = st.one_of(
    st.text(max_size=300),
    st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(WORDS), st.text(max_size=200)),
    st.builds(
        lambda w, args: " ".join([w, *args]),
        st.sampled_from(WORDS),
        st.lists(
            st.sampled_from(
                [
                    *REFS,
                    "SEV1",
                    "sev9",
                    "<@U01BOB>",
                    "<@U01BOB|bob>",
                    "<!channel>",
                    "30",
                    "-1",
                    "mitigate",
                    "acknowledge",
                    "\u202e",
                    "```",
                    "*bold*",
                    "<#C123|x>",
                ]
            ),
            max_size=4,
        ),
    ),
)


@SETTINGS
@given(text=command_text, user=st.sampled_from([ALICE, BOB]), where=st.sampled_from(["general", "incident"]))
def test_any_command_text_gets_a_clear_answer(harness: Harness, text: str, user: str, where: str) -> None:
    """An answer in plain words (or the form it asked for), never the apology for a crash, and no error logged
    by the work after the ack."""
    channel = {"general": GENERAL, "incident": ensure_incident(harness)}[where]
    replied, opened = len(harness.replies_to(user)), len(harness.calls("views.open"))
    with capture_logs() as logs:
        result = harness.slack.slash_command(user, channel, harness.deps.settings.slash_command, text)
        executor = harness.app.listener_runner.listener_executor
        assert isinstance(executor, ContextExecutor) and executor.wait_idle(10)
        harness.settle()
    assert result.status == 200, result.text
    errors = [entry for entry in logs if entry.get("log_level") in ("error", "critical")]
    assert not errors, errors
    answers = harness.replies_to(user)[replied:]
    forms = harness.calls("views.open")[opened:]
    assert answers or forms, f"no answer to {text!r}"
    for answer in answers:
        assert answer.strip() and answer != SORRY, answer
        if answer.startswith("I do not know"):
            assert "The commands are:" in answer


@SETTINGS
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "command",
                "text",
                "user_id",
                "channel_id",
                "team_id",
                "trigger_id",
                "response_url",
                "user_name",
                "api_app_id",
                "enterprise_id",
                "is_enterprise_install",
            ]
        ),
        st.one_of(st.text(max_size=50), st.sampled_from(["/incident", ALICE, GENERAL, "declare", "help"])),
        max_size=11,
    )
)
def test_command_forms_with_missing_or_odd_fields_never_fail(harness: Harness, fields: dict[str, str]) -> None:
    send(harness, urlencode(fields).encode())


# --- interactions --------------------------------------------------------------------------------------------


def action(draw_id: Any, value: Any) -> dict[str, Any]:
    return {"action_id": draw_id, "block_id": draw_id, "value": value, "type": "button", "action_ts": "1.2"}


actions = st.lists(
    maybe(
        st.one_of(
            st.builds(action, id_like, maybe(ref_like)),
            st.builds(
                lambda a, v: {"action_id": a, "type": "static_select", "selected_option": v},
                id_like,
                maybe(st.fixed_dictionaries({"value": maybe(ref_like)})),
            ),
            st.builds(
                lambda a, u: {"action_id": a, "type": "users_select", "selected_user": u},
                id_like,
                maybe(st.sampled_from(USERS)),
            ),
        )
    ),
    min_size=1,
    max_size=2,
)
state_values = st.dictionaries(
    id_like,
    st.dictionaries(
        id_like,
        maybe(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        [
                            "plain_text_input",
                            "static_select",
                            "multi_static_select",
                            "checkboxes",
                            "users_select",
                            "multi_users_select",
                        ]
                    )
                },
                optional={
                    "value": maybe(st.text(max_size=300)),
                    "selected_option": maybe(st.fixed_dictionaries({"value": maybe(st.text(max_size=20))})),
                    "selected_options": maybe(st.lists(st.fixed_dictionaries({"value": maybe(st.text(max_size=20))}))),
                    "selected_user": maybe(st.sampled_from(USERS)),
                    "selected_users": maybe(st.lists(st.sampled_from(USERS), max_size=3)),
                },
            )
        ),
        max_size=3,
    ),
    max_size=5,
)
view = st.fixed_dictionaries(
    {"type": maybe(st.just("modal")), "callback_id": maybe(id_like)},
    optional={
        "id": maybe(st.text(max_size=12)),
        "private_metadata": maybe(
            st.one_of(st.text(max_size=60), st.builds(lambda r: json.dumps({"incident": r}), maybe(ref_like)))
        ),
        "state": maybe(st.fixed_dictionaries({"values": maybe(state_values)})),
        "hash": maybe(st.text(max_size=10)),
    },
)
RESPONSE_URL = "https://hooks.slack.com/response-url"  # replaced by a real one of the workspace double
TYPES = ["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"]


def payload_of(kind: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A payload of type `kind`: the fields Slack sends with it, mostly well-formed, plus a few others."""
    required = {
        "type": st.just(kind),
        "trigger_id": maybe(st.text(min_size=1, max_size=10)),
        "user": maybe(st.fixed_dictionaries({"id": maybe(st.sampled_from(USERS))})),
        "team": maybe(st.fixed_dictionaries({"id": maybe(st.just("T0SANDBOX"))})),
    }
    if kind == "block_actions":
        required["actions"] = maybe(actions)
    if kind in ("view_submission", "view_closed"):
        required["view"] = maybe(view)
    if kind in ("shortcut", "message_action"):
        required["callback_id"] = maybe(id_like)
    if kind == "block_suggestion":
        required["action_id"] = maybe(id_like)
    optional = {"view": maybe(view)} if "view" not in required else {}
    return st.fixed_dictionaries(
        required,
        optional=optional
        | {
            "channel": maybe(st.fixed_dictionaries({"id": maybe(st.sampled_from([GENERAL, "C0NOWHERE"]))})),
            "container": maybe(
                st.fixed_dictionaries({}, optional={"type": st.just("message"), "message_ts": st.text(max_size=12)})
            ),
            "message": maybe(st.fixed_dictionaries({"ts": maybe(st.text(max_size=12)), "text": maybe(st.text())})),
            "response_url": maybe(st.just(RESPONSE_URL)),
            "value": maybe(st.text(max_size=20)),
        },
    )


interaction = maybe(st.sampled_from(TYPES)).flatmap(payload_of)


@SETTINGS
@given(payload=interaction)
def test_any_interaction_payload_gets_a_clear_answer_or_a_4xx(harness: Harness, payload: dict[str, Any]) -> None:
    ensure_incident(harness)
    if payload.get("response_url") == RESPONSE_URL:
        user = payload["user"].get("id") if isinstance(payload.get("user"), dict) else None
        user = user if isinstance(user, str) and user in harness.workspace.users else ALICE
        payload["response_url"] = harness.workspace.new_response_url(GENERAL, user)
    send(harness, urlencode({"payload": json.dumps(payload)}).encode())


ACTIONS = sorted(
    m.value for e in (app.slack.ids.CardAction, app.slack.ids.ReminderAction, app.slack.ids.TimelineAction) for m in e
)
MODALS = [app.slack.ids.Callback.DECLARE, app.slack.ids.Callback.POST_UPDATE, app.slack.ids.Callback.ASSIGN_ROLES]
FIELDS = sorted(
    m.value for e in (app.slack.ids.DeclareField, app.slack.ids.UpdateField, app.slack.ids.RoleField) for m in e
)
any_text = st.one_of(st.text(max_size=400), ref_like, st.sampled_from(["SEV1", "sev2", "30", "-5", "0", ALICE]))
click = st.fixed_dictionaries(
    {
        "type": st.just("block_actions"),
        "trigger_id": st.just("1.2.3"),
        "user": st.fixed_dictionaries({"id": st.sampled_from([ALICE, BOB])}),
        "team": st.just({"id": "T0SANDBOX"}),
        "response_url": st.just(RESPONSE_URL),
        "actions": st.lists(
            st.builds(
                lambda a, v, o: (
                    {"action_id": a, "block_id": a, "type": "button", "value": v, "action_ts": "1.2"}
                    | ({"selected_option": {"value": o}} if o is not None else {})
                ),
                st.sampled_from(ACTIONS),
                any_text,
                st.none() | any_text,
            ),
            min_size=1,
            max_size=1,
        ),
    }
)
submission = st.fixed_dictionaries(
    {
        "type": st.just("view_submission"),
        "trigger_id": st.just("1.2.3"),
        "user": st.fixed_dictionaries({"id": st.sampled_from([ALICE, BOB])}),
        "team": st.just({"id": "T0SANDBOX"}),
        "view": st.fixed_dictionaries(
            {
                "id": st.just("V0FUZZ"),
                "type": st.just("modal"),
                "callback_id": st.sampled_from(MODALS),
                "private_metadata": st.one_of(
                    st.text(max_size=50), st.builds(lambda r: json.dumps({"incident": r}), ref_like)
                ),
                "state": st.fixed_dictionaries(
                    {
                        "values": st.dictionaries(
                            st.sampled_from(FIELDS),
                            st.builds(
                                lambda field, kind, value: {field: {"type": kind} | value},
                                st.sampled_from(FIELDS),
                                st.sampled_from(
                                    [
                                        "plain_text_input",
                                        "static_select",
                                        "checkboxes",
                                        "users_select",
                                        "multi_static_select",
                                        "multi_users_select",
                                    ]
                                ),
                                st.one_of(
                                    st.builds(lambda v: {"value": v}, st.none() | any_text),
                                    st.builds(
                                        lambda v: {"selected_option": v},
                                        st.none() | st.builds(lambda t: {"value": t}, any_text),
                                    ),
                                    st.builds(
                                        lambda v: {"selected_options": [{"value": x} for x in v]},
                                        st.lists(any_text, max_size=3),
                                    ),
                                    st.builds(lambda v: {"selected_user": v}, st.none() | st.sampled_from(USERS)),
                                    st.builds(lambda v: {"selected_users": v}, st.lists(st.sampled_from(USERS[:3]))),
                                ),
                            ),
                            max_size=6,
                        )
                    }
                ),
            }
        ),
    }
)


@SETTINGS
@given(payload=st.one_of(click, submission))
def test_well_formed_clicks_and_submissions_with_any_values_get_a_clear_answer(
    harness: Harness, payload: dict[str, Any]
) -> None:
    """Shapes Slack sends, on the ids the app listens to, with any values: every one reaches a listener."""
    ensure_incident(harness)
    if payload.get("response_url") == RESPONSE_URL:
        payload["response_url"] = harness.workspace.new_response_url(GENERAL, payload["user"]["id"])
    assert send(harness, urlencode({"payload": json.dumps(payload)}).encode()) == 200


@SETTINGS
@given(raw=st.one_of(st.text(max_size=200), st.builds(json.dumps, json_values)))
def test_a_payload_that_is_not_an_object_gets_a_4xx(harness: Harness, raw: str) -> None:
    send(harness, urlencode({"payload": raw}).encode())


# --- Events API ----------------------------------------------------------------------------------------------

event = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["event_callback", "url_verification", "app_rate_limited"]), json_values)},
    optional={
        "event_id": maybe(st.text(max_size=12)),
        "team_id": maybe(st.just("T0SANDBOX")),
        "challenge": maybe(st.text(max_size=12)),
        "event": maybe(
            st.fixed_dictionaries(
                {
                    "type": st.one_of(
                        st.sampled_from(
                            [
                                "message",
                                "reaction_added",
                                "reaction_removed",
                                "pin_added",
                                "pin_removed",
                                "app_mention",
                                "member_joined_channel",
                            ]
                        ),
                        json_values,
                    )
                },
                optional={
                    "user": maybe(st.sampled_from(USERS)),
                    "channel": maybe(st.sampled_from([GENERAL, "C0NOWHERE"])),
                    "text": maybe(st.text(max_size=100)),
                    "ts": maybe(st.text(max_size=12)),
                    "reaction": maybe(st.text(max_size=12)),
                    "item": maybe(
                        st.fixed_dictionaries(
                            {}, optional={"channel": json_values, "ts": json_values, "type": json_values}
                        )
                    ),
                    "subtype": maybe(st.text(max_size=12)),
                },
            )
        ),
    },
)


@SETTINGS
@given(body=event)
def test_any_event_body_gets_a_2xx_or_a_4xx(harness: Harness, body: dict[str, Any]) -> None:
    ensure_incident(harness)
    send(harness, json.dumps(body).encode(), "application/json")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", FORM),
        (b"payload=", FORM),
        (b"payload=%ZZ", FORM),
        (b"\xff\xfe\x00", FORM),
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"payload=" + b"x" * 200_000, FORM),
    ],
    ids=["empty", "empty-payload", "bad-escape", "not-utf8", "bad-json", "json-list", "json-null", "huge"],
)
def test_malformed_bodies_get_a_4xx_or_a_clear_answer(harness: Harness, body: bytes, content_type: str) -> None:
    send(harness, body, content_type)
