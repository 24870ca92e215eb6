"""The triage channel: an alert the rules send there is posted once with a Declare incident button; the button
opens the declare form prefilled from the alert; submitting it declares the incident with the alert attached
and the triage message says which incident it became."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.slack.ids import AlertAction, Callback, DeclareField
from incidents.models import Alert, Incident
from tests.integrations.alerts.alert_helpers import AM_AUTH, am_alert, am_payload
from tests.integrations.alerts.conftest import TRIAGE_ID
from tests.slack.slack_harness import ALICE, BOB, CAROL, Harness, blocks_text


def triaged(h: Harness) -> Alert:
    body = am_payload(am_alert("LatencyHigh", fingerprint="lat1", severity="warning", summary="p99 latency 2s"))
    assert h.post("/alerts/prometheus", body, AM_AUTH).json()["triaged"] == 1
    h.settle()
    with h.runtime.sessions() as session:
        return session.scalars(select(Alert)).one()


def click_declare(h: Harness, alert: Alert, user: str = BOB) -> None:
    result = h.slack.click(user, TRIAGE_ID, alert.triage_ts, AlertAction.DECLARE, str(alert.id))
    assert result.status == 200, result.text
    h.settle()


def bot_messages(h: Harness) -> list:
    return [m for m in h.workspace.messages(TRIAGE_ID) if m.user == h.workspace.bot.id]


def test_a_triaged_alert_is_posted_once_with_a_declare_button(alerting: Harness) -> None:
    alert = triaged(alerting)
    (message,) = bot_messages(alerting)
    assert (alert.triage_channel_id, alert.triage_ts) == (TRIAGE_ID, message.ts)
    text = blocks_text(message.blocks)
    assert "p99 latency 2s" in text and "SEV3" in text and "checkout" in text and "alertname=LatencyHigh" in text
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["action_id"] == AlertAction.DECLARE and buttons[0]["value"] == str(alert.id)
    assert buttons[1]["url"].startswith("http://prometheus.example.com")
    # the effect delivered again (a retry after a lost answer) does not post twice
    (effect,) = alerting.outbox("triage_alert")
    alerting.handlers["triage_alert"](effect)
    assert len(bot_messages(alerting)) == 1


def test_declare_from_the_triage_channel_opens_the_form_prefilled_and_attaches_the_alert(alerting: Harness) -> None:
    alert = triaged(alerting)
    click_declare(alerting, alert)
    view = alerting.open_view(BOB, Callback.DECLARE)
    blocks = {b.get("block_id"): b for b in view.body["blocks"]}
    assert blocks[DeclareField.TITLE]["element"]["initial_value"] == "p99 latency 2s"
    assert blocks[DeclareField.SEVERITY]["element"]["initial_option"]["value"] == "SEV3"
    assert [o["value"] for o in blocks[DeclareField.SERVICES]["element"]["initial_options"]] == ["checkout"]
    assert alerting.submit(view.id, {}, user=BOB).status == 200
    incident = alerting.latest_incident()
    assert (incident.title, incident.severity, incident.services, incident.reporter_id) == (
        "p99 latency 2s",
        "SEV3",
        ["checkout"],
        BOB,
    )
    (attached,) = alerting.events(incident.number, "alert_attached")
    assert attached.data["alert_id"] == alert.id
    with alerting.runtime.sessions() as session:
        row = session.get(Alert, alert.id)
        assert row is not None and row.incident_id == incident.id
    message = alerting.workspace.message(TRIAGE_ID, alert.triage_ts)
    assert f"Declared as *{incident.ref}*" in blocks_text(message.blocks)
    assert not [b for b in message.blocks if b["type"] == "actions"]


def test_clicking_declare_on_an_alert_declared_already_says_which_incident(alerting: Harness) -> None:
    """Before the triage message is redrawn (or from a second form opened meanwhile), nobody declares it twice."""
    alert = triaged(alerting)
    click_declare(alerting, alert)
    click_declare(alerting, alert, ALICE)  # Alice opens the form too
    assert alerting.submit(alerting.open_view(BOB, Callback.DECLARE).id, {}, user=BOB, settle=False).status == 200
    incident = alerting.latest_incident()
    click_declare(alerting, alert, CAROL)  # the message still shows its button
    assert alerting.last_reply(CAROL).startswith(f"This alert is already {incident.ref}:")
    result = alerting.submit(alerting.open_view(ALICE, Callback.DECLARE).id, {}, user=ALICE)
    assert f"This alert is already {incident.ref}" in result.text
    assert alerting.latest_incident().number == incident.number


def test_a_later_alert_of_the_declared_service_joins_that_incident(alerting: Harness) -> None:
    alert = triaged(alerting)
    click_declare(alerting, alert)
    alerting.submit(alerting.open_view(BOB, Callback.DECLARE).id, {}, user=BOB)
    alerting.clock.advance(minutes=3)
    more = am_payload(am_alert("ErrorsUp", fingerprint="err1", severity="critical"))
    assert alerting.post("/alerts/prometheus", more, AM_AUTH).json()["attached"] == 1
    assert len(alerting.events(1, "alert_attached")) == 2


@pytest.mark.postgres_only
def test_two_forms_for_one_alert_submitted_at_once_declare_one_incident(alerting: Harness) -> None:
    """Two people submit the declare form of the same triaged alert at the same moment, on PostgreSQL: the
    alert row is locked, so the second waits, sees the first incident, and is told which one it is."""
    alert = triaged(alerting)
    click_declare(alerting, alert, BOB)
    click_declare(alerting, alert, ALICE)
    views = {user: alerting.open_view(user, Callback.DECLARE).id for user in (BOB, ALICE)}
    barrier = threading.Barrier(2)
    texts: dict[str, str] = {}
    errors: list[BaseException] = []

    def submit(user: str) -> None:
        try:
            barrier.wait(timeout=10)
            result = alerting.submit(views[user], {}, user=user, settle=False)
            assert result.status == 200
            texts[user] = result.text
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(user,)) for user in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with alerting.runtime.sessions() as session:
        (incident,) = session.scalars(select(Incident)).all()
        assert session.get(Alert, alert.id).incident_id == incident.id
    refused = [user for user, text in texts.items() if f"This alert is already {incident.ref}" in text]
    assert len(refused) == 1 and incident.reporter_id not in refused


def test_a_triaged_alert_that_stops_firing_says_so_in_its_triage_message(alerting: Harness) -> None:
    alert = triaged(alerting)
    resolved = am_payload(
        am_alert("LatencyHigh", fingerprint="lat1", severity="warning", summary="p99 latency 2s", status="resolved")
    )
    assert alerting.post("/alerts/prometheus", resolved, AM_AUTH).json()["resolved"] == 1
    alerting.settle()
    (message,) = bot_messages(alerting)
    text = blocks_text(message.blocks)
    assert "Stopped firing" in text and "no incident was declared" in text
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["action_id"] == AlertAction.DECLARE  # it may still deserve an incident
    (redraw,) = [m for m in alerting.outbox("triage_alert") if m.payload.get("resolved")]
    assert redraw.status == "done" and redraw.result["ts"] == alert.triage_ts


def test_an_alert_resolved_before_its_triage_message_is_posted_is_posted_resolved(alerting: Harness) -> None:
    firing = am_alert("DiskFull", fingerprint="disk1", severity="warning", summary="disk 95%")
    assert alerting.post("/alerts/prometheus", am_payload(firing), AM_AUTH).json()["triaged"] == 1
    resolved = am_alert("DiskFull", fingerprint="disk1", severity="warning", summary="disk 95%", status="resolved")
    assert alerting.post("/alerts/prometheus", am_payload(resolved), AM_AUTH).json()["resolved"] == 1
    alerting.settle()
    (message,) = bot_messages(alerting)
    assert "Stopped firing" in blocks_text(message.blocks)
