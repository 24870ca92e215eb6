"""A storm: many concurrent requests, each with alerts for several services, from real threads through the real
WSGI app. Per service one incident; every alert stored once and on that incident's timeline; no deadlock
(requests lock their services in one order)."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from incidents.models import Alert, Incident, TimelineEvent
from tests.integrations.alerts.alert_helpers import AM_AUTH, am_alert, am_payload
from tests.slack.slack_harness import Harness

THREADS = 12
REQUESTS = 48
SERVICES = ("checkout", "ledger", "auth")


@pytest.mark.postgres_only
def test_a_storm_of_concurrent_alerts_makes_one_incident_per_service(alerting: Harness) -> None:
    rng = random.Random(12)
    bodies = []
    for request in range(REQUESTS):
        alerts = [
            am_alert(f"Alert{request}-{i}", fingerprint=f"fp-{request}-{i}", service=rng.choice(SERVICES))
            for i in range(5)
        ]
        if request % 4 == 0:
            alerts.append(am_alert("Repeat", fingerprint="fp-repeat", service="checkout"))  # the same alert, often
        rng.shuffle(alerts)
        bodies.append(am_payload(*alerts))
    barrier = threading.Barrier(THREADS)
    answers: list[int] = []
    errors: list[BaseException] = []
    totals: Counter[str] = Counter()
    lock = threading.Lock()

    def send(mine: list[dict]) -> None:
        try:
            barrier.wait(timeout=10)
            for body in mine:
                answer = alerting.post("/alerts/prometheus", body, AM_AUTH)
                with lock:
                    answers.append(answer.status)
                    if answer.status == 200:
                        totals.update({k: v for k, v in answer.json().items() if isinstance(v, int)})
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(bodies[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert answers == [200] * REQUESTS
    unique = REQUESTS * 5 + 1
    assert totals["declared"] == len(SERVICES)
    assert totals["declared"] + totals["attached"] == unique
    assert totals["duplicates"] == REQUESTS // 4 - 1
    with alerting.runtime.sessions() as session:
        incidents = list(session.scalars(select(Incident)))
        assert sorted(i.services[0] for i in incidents) == sorted(SERVICES)
        assert session.scalar(select(func.count()).select_from(Alert)) == unique
        assert session.scalar(select(func.count()).select_from(Alert).where(Alert.incident_id.is_(None))) == 0
        on_timeline = session.scalar(
            select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "alert_attached")
        )
        assert on_timeline == unique
        for incident in incidents:  # each alert on its own service's incident
            services = set(session.scalars(select(Alert.service).where(Alert.incident_id == incident.id)))
            assert services == {incident.services[0]}


@pytest.mark.postgres_only
def test_the_same_resolved_alert_delivered_several_times_at_once_is_resolved_once(alerting: Harness) -> None:
    """Found in review: a sender retrying "resolved" while its first request still runs (on another replica)
    recorded alert_resolved and posted in the channel once per request."""
    alerting.post("/alerts/prometheus", am_payload(am_alert(fingerprint="r1")), AM_AUTH)
    resolved = am_payload(am_alert(fingerprint="r1", status="resolved"))
    barrier = threading.Barrier(6)
    answers: list[dict] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(alerting.post("/alerts/prometheus", resolved, AM_AUTH).json())
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(a["resolved"] for a in answers) == [0, 0, 0, 0, 0, 1]
    assert len(alerting.events(kind="alert_resolved")) == 1
    messages = [m for m in alerting.outbox("channel_message") if m.payload.get("fact") == "alert_resolved"]
    assert len(messages) == 1
