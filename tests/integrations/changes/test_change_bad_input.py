"""Property-based (hypothesis): whatever a sender puts in the body of `POST /changes` or `POST /changes/github`,
the answer is 4xx or 2xx, never 5xx; a 4xx stores nothing, and without the right token or signature nothing is
ever stored. Bodies are arbitrary bytes, arbitrary JSON, and valid change events with one field replaced by
arbitrary JSON."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integrations.changes.changes_helpers import (
    deployment_status,
    post_changes,
    post_github,
    sign,
    stored,
)
from tests.integrations.changes.test_change_api import DEPLOY, PAGERDUTY_EVENT
from tests.slack.slack_harness import Harness

SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "\ud800", "deploy", "2026-11-21T13:00:00Z", "0001-01-01T00:00:00+05:00"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def replaced(document: dict[str, Any], paths: list[tuple[str, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    """The document with the value at one of `paths` replaced (or removed)."""

    def build(path: tuple[str, ...], value: Any, remove: bool) -> dict[str, Any]:
        copy = json.loads(json.dumps(document))
        target = copy
        for key in path[:-1]:
            target = target[key]
        if remove:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        return copy

    return st.builds(build, st.sampled_from(paths), json_values, st.booleans())


ours = replaced(DEPLOY, [(k,) for k in [*DEPLOY, "source", "extra"]])
pagerduty = replaced(
    PAGERDUTY_EVENT,
    [("routing_key",), ("payload",), ("links",), *[("payload", k) for k in ["summary", "timestamp", "source"]],
     ("payload", "custom_details"), ("payload", "custom_details", "service"), ("payload", "custom_details", "kind")],
)  # fmt: skip
github = replaced(
    deployment_status(),
    [("deployment_status",), ("deployment",), ("repository",), ("sender",),
     *[("deployment_status", k) for k in ["state", "created_at", "description", "environment", "log_url", "creator"]],
     *[("deployment", k) for k in ["sha", "ref", "payload", "environment", "creator"]],
     ("repository", "name"), ("repository", "full_name")],
)  # fmt: skip
raw = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.sampled_from([b"[" * 5000 + b"]" * 5000, b"{", b"NaN", b"[]", b"\xff\xfe"]),
)


def _check(bot: Harness, before: int, status: int, text: str) -> None:
    assert status < 500, text
    assert 200 <= status < 300 or 400 <= status < 500, (status, text)
    if status >= 400:
        assert len(stored(bot)) == before, text


@SETTINGS
@given(body=st.one_of(raw, st.lists(ours, max_size=3).map(lambda v: json.dumps(v).encode())))
def test_bad_bodies_to_changes_get_4xx_and_store_nothing(bot: Harness, body: bytes) -> None:
    before = len(stored(bot))
    answer = post_changes(bot, body)
    _check(bot, before, answer.status, answer.text)


@SETTINGS
@given(document=st.one_of(ours, pagerduty))
def test_mutated_change_events_are_taken_or_refused_in_words(bot: Harness, document: dict[str, Any]) -> None:
    before = len(stored(bot))
    answer = post_changes(bot, document)
    _check(bot, before, answer.status, answer.text)
    if answer.status >= 400:
        assert answer.json()["error"], answer.text


@SETTINGS
@given(
    body=st.one_of(raw, ours.map(lambda v: json.dumps(v).encode())), token=st.one_of(st.none(), st.text(max_size=40))
)
def test_without_the_token_nothing_is_ever_stored(bot: Harness, body: bytes, token: str | None) -> None:
    answer = post_changes(bot, body, token=token)
    assert answer.status == 401, answer.text
    assert stored(bot) == []


@SETTINGS
@given(
    body=st.one_of(raw, github.map(lambda v: json.dumps(v).encode())),
    event=st.sampled_from(["deployment_status", "ping", "push", "", "deployment_status\x00"]),
    delivery=st.one_of(st.text(max_size=300), st.just("d-1")),
)
def test_signed_bad_github_bodies_get_4xx_or_2xx_never_5xx(
    bot: Harness, body: bytes, event: str, delivery: str
) -> None:
    before = len(stored(bot))
    answer = post_github(bot, body, event=event, delivery=delivery.replace("\n", " "))
    _check(bot, before, answer.status, answer.text)


@SETTINGS
@given(body=st.one_of(raw, github.map(lambda v: json.dumps(v).encode())), signature=st.text(max_size=80))
def test_a_wrong_github_signature_never_stores_anything(bot: Harness, body: bytes, signature: str) -> None:
    if signature == sign(body):
        return
    answer = post_github(bot, body, signature=signature)
    assert answer.status == 401, answer.text
    assert stored(bot) == []
