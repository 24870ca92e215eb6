"""Property-based (hypothesis): whatever a sender puts in the body of `POST /alerts/<source>`, the answer is 2xx or
4xx, never 5xx; a 4xx stores nothing, and without the right token or signature nothing is ever stored. Bodies are
arbitrary bytes, arbitrary JSON, and valid payloads (Alertmanager, Grafana, generic) with one field replaced by
arbitrary JSON or removed."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from incidents.models import Alert, Incident, OutboxMessage, TimelineEvent
from tests.integrations.alerts.alert_helpers import AM_AUTH, CI_AUTH, am_payload, grafana_headers, grafana_payload
from tests.slack.slack_harness import Harness

SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
)
GENERIC = {
    "title": "Backup failed",
    "severity": "error",
    "service": "ledger",
    "dedup_key": "backup",
    "status": "firing",
    "link": "https://ci.example.com/1",
    "details": {"job": "backup"},
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(
        ["", " ", "\x00", "\ud800", "firing", "resolved", "2026-12-03T08:55:00Z", "9999-12-31T23:59:59-23:59",
         "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "critical"]
    ),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def replaced(document: dict[str, Any], paths: list[tuple[Any, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    def build(path: tuple[Any, ...], value: Any, remove: bool) -> dict[str, Any]:
        copy = json.loads(json.dumps(document))
        target = copy
        for key in path[:-1]:
            target = target[key]
        if remove and isinstance(target, dict):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        return copy

    return st.builds(build, st.sampled_from(paths), json_values, st.booleans())


AM = am_payload()
alert_keys = ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint", "extra"]
alertmanager = replaced(
    AM,
    [(k,) for k in [*AM, "extra"]]
    + [("alerts", 0, k) for k in alert_keys]
    + [("alerts", 0, "labels", k) for k in ["service", "severity", "alertname"]]
    + [("alerts", 0, "annotations", "summary")],
)
generic = st.one_of(
    replaced(GENERIC, [(k,) for k in [*GENERIC, "labels", "starts_at", "ends_at", "extra"]]),
    replaced({"alerts": [GENERIC]}, [("alerts",), ("alerts", 0), ("alerts", 0, "title"), ("extra",)]),
)
raw = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
)


def stored(h: Harness) -> tuple[int, ...]:
    with h.runtime.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Alert, Incident, TimelineEvent, OutboxMessage)
        )


def check(h: Harness, path: str, body: bytes, headers: dict[str, str]) -> None:
    before = stored(h)
    answer = h.post(path, body, headers)
    assert answer.status < 500, answer.text
    assert isinstance(answer.json(), dict)
    if answer.status >= 400:
        assert stored(h) == before, answer.text


@SETTINGS
@given(body=st.one_of(raw, alertmanager.map(lambda d: json.dumps(d).encode())))
def test_bad_alertmanager_bodies_are_4xx_never_5xx_and_store_nothing(alerting: Harness, body: bytes) -> None:
    check(alerting, "/alerts/prometheus", body, AM_AUTH)


@SETTINGS
@given(body=st.one_of(raw, alertmanager.map(lambda d: json.dumps(d | {"orgId": 1}).encode())))
def test_bad_grafana_bodies_are_4xx_never_5xx_and_store_nothing(alerting: Harness, body: bytes) -> None:
    stamp = str(int(alerting.clock().timestamp()))
    check(alerting, "/alerts/grafana", body, grafana_headers(body, timestamp=stamp))


@SETTINGS
@given(body=st.one_of(raw, generic.map(lambda d: json.dumps(d).encode())))
def test_bad_generic_bodies_are_4xx_never_5xx_and_store_nothing(alerting: Harness, body: bytes) -> None:
    check(alerting, "/alerts/ci", body, CI_AUTH)


@SETTINGS
@given(
    body=st.one_of(raw, st.just(json.dumps(grafana_payload()).encode())),
    headers=st.dictionaries(
        st.sampled_from(["Authorization", "X-Grafana-Alerting-Signature", "X-Grafana-Alerting-Timestamp"]),
        st.one_of(st.text(max_size=80), st.sampled_from(["Bearer ", "Bearer wrong", "nan", "inf", "1e400"])),
    ),
    path=st.sampled_from(["/alerts/prometheus", "/alerts/grafana", "/alerts/ci", "/alerts/", "/alerts/x/y"]),
)
def test_without_the_right_credentials_nothing_is_ever_stored(
    alerting: Harness, body: bytes, headers: dict[str, str], path: str
) -> None:
    before = stored(alerting)
    answer = alerting.post(path, body, headers)
    assert answer.status in (401, 404), answer.text
    assert stored(alerting) == before


def test_a_body_nested_deeper_than_the_parser_goes_is_400_and_stores_nothing(alerting: Harness) -> None:
    """Found in review: 5,000 nested lists made json.loads raise RecursionError, which answered 500."""
    before = stored(alerting)
    body = b'{"alerts": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    answer = alerting.post("/alerts/prometheus", body, AM_AUTH)
    assert answer.status == 400
    assert "nested too deeply" in answer.json()["error"]
    assert stored(alerting) == before


def test_nul_nan_and_lone_surrogates_are_400_naming_where(alerting: Harness) -> None:
    for body, where in (
        (b'{"alerts": [{"labels": {"service": "a\\u0000b"}}]}', "alerts[0].labels.service"),
        (b'{"alerts": [{"labels": {"x": "\\ud800"}}]}', "alerts[0].labels.x"),
        (b'{"alerts": [], "truncatedAlerts": NaN}', "NaN"),
    ):
        answer = alerting.post("/alerts/prometheus", body, AM_AUTH)
        assert answer.status == 400, answer.text
        assert where in answer.json()["error"]
    assert stored(alerting) == (0, 0, 0, 0)
