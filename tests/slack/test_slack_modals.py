"""The declare modal (and the message shortcut that prefills it): validation, privacy, double submission."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from app.slack.blocks.facts import event_mrkdwn
from app.slack.ids import DeclareField
from incidents.models import Incident
from tests.slack.slack_harness import ALICE, BOB, GENERAL, INCIDENTS_CHANNEL_ID, Callback, Harness, blocks_text


def open_declare(harness: Harness, user: str = ALICE):  # type: ignore[no-untyped-def]
    harness.command("declare", user=user)
    return harness.open_view(user, Callback.DECLARE)


def count_incidents(harness: Harness) -> int:
    with harness.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Incident))


def test_the_modal_asks_for_title_severity_services_impact_and_privacy(harness: Harness) -> None:
    view = open_declare(harness)
    inputs = {b["block_id"]: b["element"] for b in view.body["blocks"] if b["type"] == "input"}
    assert list(inputs) == [
        f.value
        for f in (
            DeclareField.TITLE,
            DeclareField.SEVERITY,
            DeclareField.SERVICES,
            DeclareField.IMPACT,
            DeclareField.PRIVATE,
        )
    ]
    assert [o["value"] for o in inputs[DeclareField.SEVERITY]["options"]] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert inputs[DeclareField.SERVICES]["type"] == "plain_text_input"  # no ownership map configured
    assert inputs[DeclareField.PRIVATE]["type"] == "checkboxes"


def test_submitting_acks_with_a_confirmation_naming_the_incident(harness: Harness) -> None:
    view = open_declare(harness)
    result = harness.submit(
        view.id, {DeclareField.TITLE: "Checkout is failing", DeclareField.SEVERITY: "SEV2"}, settle=False
    )
    assert result.json["response_action"] == "update"
    assert "*INC-1* is declared (SEV2): Checkout is failing" in blocks_text(result.json["view"]["blocks"])
    assert "Its channel is being created" in blocks_text(result.json["view"]["blocks"])
    harness.settle()
    assert harness.incident().reporter_id == ALICE


def test_a_blank_title_is_refused_in_the_form(harness: Harness) -> None:
    view = open_declare(harness)
    result = harness.submit(view.id, {DeclareField.TITLE: "   ", DeclareField.SEVERITY: "SEV2"})
    assert result.json == {"response_action": "errors", "errors": {DeclareField.TITLE: "Give the incident a title."}}
    assert count_incidents(harness) == 0


def test_unknown_services_are_refused_when_an_ownership_map_is_configured(harness: Harness) -> None:
    class Match:
        def __init__(self, name: str):
            self.service = type("Service", (), {"name": name})

    class Map:
        services = [type("Service", (), {"name": f"svc-{n}"}) for n in range(150)]  # too many for a select

        def find_service(self, name: str):  # type: ignore[no-untyped-def]
            return Match(name.strip().lower()) if name.strip().lower().startswith("svc-") else None

    class Store:
        def current(self) -> Map:
            return Map()

    harness.use_owners(Store())
    view = open_declare(harness)
    result = harness.submit(
        view.id, {DeclareField.TITLE: "x", DeclareField.SEVERITY: "SEV3", DeclareField.SERVICES: "SVC-1, billing"}
    )
    assert result.json["errors"] == {
        DeclareField.SERVICES: "Unknown service: billing. Use the names of the ownership map."
    }
    result = harness.submit(
        view.id, {DeclareField.TITLE: "x", DeclareField.SEVERITY: "SEV3", DeclareField.SERVICES: "SVC-1, svc-2"}
    )
    assert result.json["response_action"] == "update"
    assert harness.incident().services == ["svc-1", "svc-2"]


def test_services_are_picked_from_the_ownership_map(harness: Harness) -> None:
    class Store:
        def current(self):  # type: ignore[no-untyped-def]
            return type("Map", (), {"services": [type("S", (), {"name": n}) for n in ("payments", "checkout")]})

    harness.use_owners(Store())
    view = open_declare(harness)
    picker = next(b for b in view.body["blocks"] if b.get("block_id") == DeclareField.SERVICES)["element"]
    assert picker["type"] == "multi_static_select"
    assert [o["value"] for o in picker["options"]] == ["checkout", "payments"]
    harness.submit(
        view.id, {DeclareField.TITLE: "x", DeclareField.SEVERITY: "SEV3", DeclareField.SERVICES: ["payments"]}
    )
    assert harness.incident().services == ["payments"]


def test_a_double_submission_declares_one_incident(harness: Harness) -> None:
    view = open_declare(harness)
    values = {DeclareField.TITLE: "Checkout is failing", DeclareField.SEVERITY: "SEV2"}
    first = harness.submit(view.id, values, settle=False)
    second = harness.resend_last()  # the same submission again: a retry, or a double click on "Declare"
    harness.settle()
    assert first.json == second.json
    assert count_incidents(harness) == 1
    assert len(harness.calls("conversations.create")) == 1
    assert len([m for m in harness.workspace.history(INCIDENTS_CHANNEL_ID) if "INC-" in m.text]) == 1


def test_simultaneous_copies_of_one_submission_all_confirm_the_same_incident(harness: Harness) -> None:
    """Slack's retry and the original arriving at two workers at once: each answers with the INC-1 confirmation."""
    view = open_declare(harness)
    deliver, captured = harness.slack.deliver, []
    harness.slack.deliver = lambda body, headers: captured.append((body, headers)) or (200, {}, b"")
    harness.submit(view.id, {DeclareField.TITLE: "Checkout is failing", DeclareField.SEVERITY: "SEV2"}, settle=False)
    harness.slack.deliver = deliver
    [(body, headers)] = captured
    copies = 6
    barrier, answers = threading.Barrier(copies), []

    def send() -> None:
        barrier.wait(timeout=10)
        answers.append(deliver(body, headers))

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _, _ in answers] == [200] * copies
    for _, _, answer in answers:
        reply = json.loads(answer)
        assert reply["response_action"] == "update"
        assert "*INC-1* is declared (SEV2): Checkout is failing" in blocks_text(reply["view"]["blocks"])
    harness.settle()
    assert count_incidents(harness) == 1
    assert len(harness.calls("conversations.create")) == 1


def test_a_private_incident_gets_a_private_channel_and_a_discreet_announcement(harness: Harness) -> None:
    incident = harness.declare("Payroll data exposed", "SEV1", private=True, impact="Salaries visible to all")
    channel = harness.workspace.channel(incident.channel_id)
    assert channel.is_private
    assert ALICE in channel.members
    announcement = harness.announcement()
    shown = announcement.text + blocks_text(announcement.blocks)
    assert "INC-1" in shown and "SEV1" in shown
    for secret in ("Payroll", "Salaries", incident.channel_id, "triage", "Triage"):
        assert secret not in shown


def test_a_private_incident_posts_nothing_under_its_announcement(harness: Harness) -> None:
    incident = harness.declare("Payroll data exposed", "SEV1", private=True)
    harness.command("update Access revoked for the leaked token", channel=incident.channel_id)
    assert harness.workspace.replies(INCIDENTS_CHANNEL_ID, incident.announcement_ts)[1:] == []
    assert any("Access revoked" in m.text for m in harness.workspace.history(incident.channel_id))


def test_the_message_shortcut_prefills_the_modal_from_the_message(harness: Harness) -> None:
    message = harness.workspace.post_user_message(BOB, GENERAL, "Checkout returns 502 &amp; times out\nsince 13:50")
    result = harness.slack.message_shortcut(ALICE, GENERAL, message.ts, Callback.DECLARE_FROM_MESSAGE)
    harness.settle()
    assert result.status == 200
    view = harness.open_view(ALICE, Callback.DECLARE)
    inputs = {b["block_id"]: b["element"] for b in view.body["blocks"] if b["type"] == "input"}
    assert inputs[DeclareField.TITLE]["initial_value"] == "Checkout returns 502 & times out"
    assert inputs[DeclareField.IMPACT]["initial_value"] == "Checkout returns 502 & times out\nsince 13:50"
    source = next(b for b in view.body["blocks"] if b.get("block_id") == DeclareField.SOURCE)
    assert f"<@{BOB}>" in blocks_text([source])


def test_an_incident_declared_from_a_message_links_it_on_the_timeline(harness: Harness) -> None:
    message = harness.workspace.post_user_message(BOB, GENERAL, "Checkout returns 502")
    harness.slack.message_shortcut(ALICE, GENERAL, message.ts, Callback.DECLARE_FROM_MESSAGE)
    harness.settle()
    view = harness.open_view(ALICE, Callback.DECLARE)
    harness.submit(view.id, {DeclareField.SEVERITY: "SEV2"})
    [event] = harness.events(kind="message")
    permalink = harness.workspace.permalink(GENERAL, message.ts)
    assert event.source == permalink
    assert event_mrkdwn(event, ref="INC-1") == f"Declared from a message by <@{BOB}>: {permalink}"


@pytest.mark.parametrize("error", ["expired_trigger_id", "exchanged_trigger_id"])
def test_a_modal_that_slack_will_not_open_is_explained(harness: Harness, error: str) -> None:
    harness.workspace.faults.fail("views.open", error=error)
    harness.command("declare")
    assert harness.last_reply().startswith("I could not open the form: ")
    assert harness.last_reply().endswith("Please try again.")
