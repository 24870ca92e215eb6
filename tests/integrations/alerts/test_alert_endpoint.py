"""POST /alerts/<source> through the real WSGI app: each format, authentication, sizes, bad bodies, routing,
redelivery and grouping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.postmortem.render import render_markdown
from incidents.models import Alert, Incident, OutboxMessage, TimelineEvent
from incidents.postmortem import build
from incidents.queries import get_incident
from tests.integrations.alerts.alert_helpers import (
    AM_AUTH,
    CI_AUTH,
    am_alert,
    am_payload,
    grafana_headers,
    grafana_payload,
    raw,
)
from tests.slack.slack_harness import Harness


def stored(h: Harness) -> dict[str, int]:
    with h.runtime.sessions() as session:
        return {
            "alerts": session.scalar(select(func.count()).select_from(Alert)) or 0,
            "incidents": session.scalar(select(func.count()).select_from(Incident)) or 0,
            "events": session.scalar(select(func.count()).select_from(TimelineEvent)) or 0,
            "outbox": session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        }


def alerts_of(h: Harness) -> list[Alert]:
    with h.runtime.sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def counts(**given: int) -> dict[str, Any]:
    base = dict.fromkeys(("received", "declared", "attached", "triaged", "ignored", "duplicates", "resolved"), 0)
    return {"ok": True, **base, **given}


def test_an_alertmanager_critical_alert_declares_an_incident_for_its_service(alerting: Harness) -> None:
    answer = alerting.post("/alerts/prometheus", am_payload(), AM_AUTH)
    assert answer.status == 200, answer.text
    assert answer.json() == counts(received=1, declared=1)
    alerting.settle()
    incident = alerting.latest_incident()
    assert (incident.title, incident.severity, incident.services) == ("Checkout 5xx above 5%", "SEV1", ["checkout"])
    assert incident.reporter_id == ""
    assert incident.channel_id
    (attached,) = alerting.events(incident.number, "alert_attached")
    assert attached.data["declared"] is True
    assert attached.data["link"].startswith("http://prometheus.example.com:9090/graph")
    assert attached.data["source"] == "prometheus"
    (row,) = alerts_of(alerting)
    assert (row.dedup_key, row.action, row.incident_id, row.service) == (
        "1a30ba71cca2921f",
        "declared",
        incident.id,
        "checkout",
    )


def test_an_incident_declared_from_an_alert_invites_no_bogus_reporter_and_says_so(alerting: Harness) -> None:
    alerting.post("/alerts/prometheus", am_payload(), AM_AUTH)
    alerting.settle()
    incident = alerting.latest_incident()
    invited = [c.args.get("users") for c in alerting.calls("conversations.invite")]
    assert "" not in invited and None not in invited
    assert "U0PAYPRIM" in ",".join(u for u in invited if u)  # the owners of checkout are brought in
    card = str(alerting.card(incident.number).blocks)
    assert "by an alert" in card


def test_a_grafana_alert_signed_with_hmac_and_a_timestamp_is_taken(alerting: Harness) -> None:
    body = raw(grafana_payload())
    stamp = str(int(alerting.clock().timestamp()))
    answer = alerting.post("/alerts/grafana", body, grafana_headers(body, timestamp=stamp))
    assert answer.status == 200, answer.text
    assert answer.json() == counts(received=1, declared=1)
    (row,) = alerts_of(alerting)
    assert (row.dedup_key, row.service, row.severity, row.title) == ("c6eadffa33fcdf37", "ledger", "SEV2", "Disk 95%")
    assert row.details["panelURL"] == "https://grafana.example.com/d/ledger?viewPanel=2"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body, now: {}, id="no signature"),
        pytest.param(lambda body, now: grafana_headers(body, timestamp=now, secret="wrong"), id="wrong secret"),
        pytest.param(lambda body, now: grafana_headers(body + b" ", timestamp=now), id="other body"),
        pytest.param(lambda body, now: grafana_headers(body, timestamp=str(int(now) - 3600)), id="an hour old"),
        pytest.param(
            lambda body, now: {**grafana_headers(body, timestamp=now), "X-Grafana-Alerting-Timestamp": "soon"},
            id="bad timestamp",
        ),
    ],
)
def test_a_wrong_grafana_signature_is_401_and_stores_nothing(alerting: Harness, headers: Any) -> None:
    body = raw(grafana_payload())
    answer = alerting.post("/alerts/grafana", body, headers(body, str(int(alerting.clock().timestamp()))))
    assert answer.status == 401, answer.text
    assert answer.json()["ok"] is False
    assert stored(alerting) == {"alerts": 0, "incidents": 0, "events": 0, "outbox": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic YWxlcnQ6c2VjcmV0"},
        CI_AUTH,  # another source's token
    ],
    ids=["missing", "wrong", "basic", "other source's"],
)
def test_a_missing_or_wrong_bearer_token_is_401_and_stores_nothing(alerting: Harness, headers: Any) -> None:
    answer = alerting.post("/alerts/prometheus", am_payload(), headers)
    assert answer.status == 401
    assert "bearer token" in answer.json()["error"]
    assert stored(alerting) == {"alerts": 0, "incidents": 0, "events": 0, "outbox": 0}


def test_authentication_comes_before_parsing(alerting: Harness) -> None:
    answer = alerting.post("/alerts/prometheus", b"{not json", {"Authorization": "Bearer wrong"})
    assert answer.status == 401


def test_an_unknown_source_is_404_naming_the_ones_that_exist(alerting: Harness) -> None:
    answer = alerting.post("/alerts/nagios", am_payload(), AM_AUTH)
    assert answer.status == 404
    assert answer.json()["error"] == (
        "no alert source 'nagios'; these exist: /alerts/ci, /alerts/grafana, /alerts/prometheus"
    )


def test_a_body_over_the_limit_is_413(alerting: Harness) -> None:
    limit = alerting.deps.settings.webhook_max_body_bytes
    answer = alerting.post("/alerts/prometheus", b" " * (limit + 1), AM_AUTH)
    assert answer.status == 413
    assert str(limit) in answer.json()["error"]
    assert stored(alerting)["alerts"] == 0


def test_a_get_is_405(alerting: Harness) -> None:
    assert alerting.post("/alerts/prometheus", b"", AM_AUTH, method="GET").status == 405


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "the body is empty"),
        (b"{", "the body is not JSON"),
        (raw([1, 2]), "as a JSON object"),
        (raw({"status": "firing"}), "alerts: missing"),
        (raw(am_payload() | {"status": "exploded"}), "status: Input should be 'firing' or 'resolved'"),
        (raw(am_payload(am_alert() | {"startsAt": "yesterday"})), "alerts[0].startsAt: Input should be a valid"),
        (raw(am_payload(am_alert() | {"startsAt": "2026-12-03T08:55:00"})), "alerts[0].startsAt: Input should have"),
        (raw(am_payload(am_alert() | {"labels": {"severity": 3}})), "alerts[0].labels.severity: Input should be"),
        (raw(am_payload(am_alert() | {"labels": {"a": "x\u0000y"}})), ".a: text may not contain NUL characters"),
    ],
)
def test_a_malformed_alertmanager_body_is_400_saying_what_is_wrong(
    alerting: Harness, body: bytes, expected: str
) -> None:
    answer = alerting.post("/alerts/prometheus", body, AM_AUTH)
    assert answer.status == 400, answer.text
    shown = answer.json()["error"] + " | " + " | ".join(answer.json().get("details", []))
    assert expected in shown
    assert stored(alerting)["alerts"] == 0


def test_the_generic_format_takes_one_object(alerting: Harness) -> None:
    alert = {
        "title": "Nightly backup failed",
        "severity": "warning",
        "service": "login",  # an alias of auth
        "dedup_key": "backup-2026-12-03",
        "status": "firing",
        "link": "https://ci.example.com/jobs/81",
        "details": {"job": "backup", "exit_code": 2},
    }
    answer = alerting.post("/alerts/ci", alert, CI_AUTH)
    assert answer.json() == counts(received=1, triaged=1)
    (row,) = alerts_of(alerting)
    assert (row.service, row.severity, row.action, row.details["exit_code"]) == ("auth", "SEV3", "triage", 2)


def test_the_generic_format_takes_a_list_and_names_a_bad_field(alerting: Harness) -> None:
    good = {"title": "Disk full", "severity": "error", "service": "ledger", "dedup_key": "disk"}
    answer = alerting.post("/alerts/ci", {"alerts": [good, {"title": "x", "sevrity": "error"}]}, CI_AUTH)
    assert answer.status == 400
    assert "alerts[1].sevrity: unknown field" in answer.json()["details"]
    assert stored(alerting)["alerts"] == 0
    answer = alerting.post("/alerts/ci", {"alerts": [good, good | {"dedup_key": "disk2"}]}, CI_AUTH)
    assert answer.json() == counts(received=2, declared=1, attached=1)


def test_routing_declares_triages_or_ignores_by_the_rules(alerting: Harness) -> None:
    body = am_payload(
        am_alert("A", fingerprint="a1", severity="critical", service="checkout"),
        am_alert("B", fingerprint="b1", severity="warning", service="auth"),
        am_alert("C", fingerprint="c1", severity="critical", service="ledger", env="staging"),
    )
    assert alerting.post("/alerts/prometheus", body, AM_AUTH).json() == counts(
        received=3, declared=1, triaged=1, ignored=1
    )
    actions = {row.dedup_key: row.action for row in alerts_of(alerting)}
    assert actions == {"a1": "declared", "b1": "triage", "c1": "ignored"}
    assert len(alerting.outbox("triage_alert")) == 1


def test_a_redelivery_of_the_same_payload_changes_nothing(alerting: Harness) -> None:
    body = am_payload(
        am_alert("A", fingerprint="a1"),
        am_alert("B", fingerprint="b1", severity="warning", service="auth"),
        am_alert("C", fingerprint="c1", env="dev"),
    )
    alerting.post("/alerts/prometheus", body, AM_AUTH)
    alerting.settle()
    before = stored(alerting)
    again = alerting.post("/alerts/prometheus", body, AM_AUTH)
    assert again.json() == counts(received=3, duplicates=3)
    assert stored(alerting) == before


def test_alerts_for_one_service_within_the_window_join_its_open_incident(alerting: Harness) -> None:
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1")), AM_AUTH)
    alerting.clock.advance(minutes=20)
    second = am_alert("B", fingerprint="b1", severity="warning", service="checkout-api", summary="Latency up")
    assert alerting.post("/alerts/prometheus", am_payload(second), AM_AUTH).json() == counts(received=1, attached=1)
    alerting.clock.advance(minutes=25)  # 25 minutes after the last alert: still the same group
    third = am_alert("C", fingerprint="c1", summary="Queue growing")
    assert alerting.post("/alerts/prometheus", am_payload(third), AM_AUTH).json() == counts(received=1, attached=1)
    alerting.settle()
    assert stored(alerting)["incidents"] == 1
    titles = [e.text for e in alerting.events(1, "alert_attached")]
    assert titles == ["Checkout 5xx above 5%", "Latency up", "Queue growing"]


def test_an_alert_after_the_window_declares_a_new_incident(alerting: Harness) -> None:
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1")), AM_AUTH)
    alerting.clock.advance(minutes=31)
    answer = alerting.post("/alerts/prometheus", am_payload(am_alert("B", fingerprint="b1")), AM_AUTH)
    assert answer.json() == counts(received=1, declared=1)
    assert stored(alerting)["incidents"] == 2


def test_an_alert_joins_an_incident_a_person_declared_for_its_service(alerting: Harness) -> None:
    incident = alerting.declare("Checkout broken", "SEV2", services=["checkout"])
    alerting.clock.advance(minutes=5)
    answer = alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1")), AM_AUTH)
    assert answer.json() == counts(received=1, attached=1)
    assert [e.data["declared"] for e in alerting.events(incident.number, "alert_attached")] == [False]


def test_a_resolved_alert_is_posted_in_the_channel_and_on_the_timeline_and_the_incident_stays_open(
    alerting: Harness,
) -> None:
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1")), AM_AUTH)
    alerting.settle()
    alerting.clock.advance(minutes=10)
    resolved = am_payload(am_alert("A", fingerprint="a1", status="resolved"))
    assert alerting.post("/alerts/prometheus", resolved, AM_AUTH).json() == counts(received=1, resolved=1)
    alerting.settle()
    incident = alerting.incident(1)
    assert incident.status != "resolved"
    (event,) = alerting.events(1, "alert_resolved")
    assert event.data["source"] == "prometheus" and event.text == "Checkout 5xx above 5%"
    said = [m.text for m in alerting.workspace.messages(incident.channel_id)]
    assert any("Alert resolved in prometheus: Checkout 5xx above 5%" in t and "stays open" in t for t in said)
    (row,) = alerts_of(alerting)
    assert row.status == "resolved" and row.resolved_at is not None
    # the same resolved payload again: nothing more
    before = stored(alerting)
    assert alerting.post("/alerts/prometheus", resolved, AM_AUTH).json() == counts(received=1, duplicates=1)
    assert stored(alerting) == before


def test_firing_again_after_resolving_is_a_new_alert(alerting: Harness) -> None:
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1", severity="warning")), AM_AUTH)
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1", status="resolved")), AM_AUTH)
    answer = alerting.post(
        "/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1", severity="warning")), AM_AUTH
    )
    assert answer.json() == counts(received=1, triaged=1)
    assert [row.status for row in alerts_of(alerting)] == ["resolved", "firing"]


def test_firing_again_with_the_same_start_after_its_incident_was_resolved_declares_a_new_one(
    alerting: Harness,
) -> None:
    """Found in review: Prometheus restores an alert's startsAt after a restart; the second firing must not land on
    the resolved incident the first one declared (am_alert always sends the same startsAt)."""
    alerting.post("/alerts/prometheus", am_payload(am_alert(fingerprint="f1")), AM_AUTH)
    alerting.post("/alerts/prometheus", am_payload(am_alert(fingerprint="f1", status="resolved")), AM_AUTH)
    alerting.settle()  # its channel is open
    alerting.command("resolve", channel=alerting.incident(1).channel_id)
    assert alerting.incident(1).status == "resolved"
    answer = alerting.post("/alerts/prometheus", am_payload(am_alert(fingerprint="f1")), AM_AUTH)
    assert answer.json() == counts(received=1, declared=1)
    assert alerting.latest_incident().number == 2
    first, second = alerts_of(alerting)
    assert (first.incident_id, second.incident_id) == (alerting.incident(1).id, alerting.incident(2).id)


def test_an_alert_without_a_fingerprint_is_keyed_by_its_labels(alerting: Harness) -> None:
    body = am_payload(am_alert("A", fingerprint=None, severity="warning"))
    alerting.post("/alerts/prometheus", body, AM_AUTH)
    assert alerting.post("/alerts/prometheus", body, AM_AUTH).json() == counts(received=1, duplicates=1)
    (row,) = alerts_of(alerting)
    assert len(row.dedup_key) == 32


def test_without_rules_the_alert_endpoint_says_how_to_turn_it_on(harness: Harness) -> None:
    answer = harness.post("/alerts/prometheus", am_payload(), AM_AUTH)
    assert answer.status == 404
    assert "set ALERT_RULES_PATH" in answer.json()["error"]
    assert alerts_of(harness) == []


def test_the_post_mortem_says_an_alert_declared_it_and_lists_its_alerts(alerting: Harness) -> None:
    alerting.post("/alerts/prometheus", am_payload(am_alert("A", fingerprint="a1")), AM_AUTH)
    alerting.clock.advance(minutes=2)
    alerting.post("/alerts/prometheus", am_payload(am_alert("B", fingerprint="b1", summary="Latency up")), AM_AUTH)
    with alerting.runtime.sessions() as session:
        data = build(session, get_incident(session, 1), now=alerting.clock(), process=alerting.runtime.process)
    draft = render_markdown(data)
    assert "| Declared by | an alert |" in draft
    assert "Alert declared the incident from prometheus: Checkout 5xx above 5%" in draft
    assert "Alert attached from prometheus: Latency up (http://prometheus.example.com:9090/graph" in draft
