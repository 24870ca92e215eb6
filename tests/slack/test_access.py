"""Who may change an incident, and where a private incident's details may go.

With RESTRICT_CHANGES_TO_ROLE_HOLDERS, severity changes and resolving are refused, with the reason, to people
who hold no role, whether they use the command or the card. Without it, anyone in the channel may. A private
incident's title, impact and updates never reach a public channel, the announcements channel, or anyone outside
its channel, whatever they type."""

from __future__ import annotations

import pytest

from app.delivery.scheduler import ReminderScheduler
from app.settings import Settings
from app.slack.ids import CardAction
from app.slack.routes import SUBCOMMANDS
from incidents.models import Status
from tests.slack.slack_harness import ALICE, BOB, DAN, GENERAL, Harness, blocks_text

ROLE_HOLDERS_ONLY = pytest.mark.parametrize("settings", [True], indirect=True, ids=["role-holders-only"])


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The Slack layer's settings; with RESTRICT_CHANGES_TO_ROLE_HOLDERS when a test asks (ROLE_HOLDERS_ONLY)."""
    return settings.model_copy(update={"restrict_changes_to_role_holders": getattr(request, "param", False)})


def declare_with_lead(h: Harness) -> str:
    """INC-1, declared and acknowledged by Alice (the lead); Bob joins its channel without a role."""
    incident = h.declare("Checkout is failing")
    h.click(CardAction.ACKNOWLEDGE, user=ALICE)
    h.workspace.join(incident.channel_id, BOB)
    return incident.channel_id


@ROLE_HOLDERS_ONLY
def test_a_person_without_a_role_cannot_change_the_severity_and_is_told_why(harness: Harness) -> None:
    channel = declare_with_lead(harness)
    harness.command("sev SEV1", user=BOB, channel=channel)
    assert (
        harness.last_reply(BOB) == "Only people holding a role in INC-1 may change the severity; ask the incident lead."
    )
    harness.click(CardAction.CHANGE_SEVERITY, value="INC-1:SEV1", user=BOB)
    assert harness.last_reply(BOB).startswith("Only people holding a role in INC-1 may change the severity")
    assert harness.incident().severity == "SEV2"
    assert not harness.events(kind="severity_changed")


@ROLE_HOLDERS_ONLY
def test_a_person_without_a_role_cannot_resolve_and_is_told_why(harness: Harness) -> None:
    channel = declare_with_lead(harness)
    harness.command("resolve", user=BOB, channel=channel)
    assert (
        harness.last_reply(BOB)
        == "Only people holding a role in INC-1 may resolve the incident; ask the incident lead."
    )
    harness.click(CardAction.RESOLVE, user=BOB)
    assert harness.last_reply(BOB).startswith("Only people holding a role in INC-1 may resolve the incident")
    assert harness.incident().status != Status.RESOLVED


@ROLE_HOLDERS_ONLY
def test_role_holders_may_change_the_severity_and_resolve(harness: Harness) -> None:
    channel = declare_with_lead(harness)
    harness.command(f"role communicate <@{BOB}|bob>", user=ALICE, channel=channel)
    harness.command("sev SEV1", user=BOB, channel=channel)  # Bob holds a role now
    assert harness.incident().severity == "SEV1"
    harness.click(CardAction.RESOLVE, user=ALICE)
    assert harness.incident().status == Status.RESOLVED


@ROLE_HOLDERS_ONLY
def test_the_restriction_leaves_other_changes_to_anyone(harness: Harness) -> None:
    channel = declare_with_lead(harness)
    harness.command("update Payments are retried; no data lost", user=BOB, channel=channel)
    harness.command("note Rolled back release 42", user=BOB, channel=channel)
    harness.click(CardAction.MARK_MITIGATED, user=BOB)
    assert harness.incident().status == Status.MITIGATED
    assert len(harness.incident().updates) == 1


def test_by_default_anyone_in_the_channel_may_change_the_severity_and_resolve(harness: Harness) -> None:
    channel = declare_with_lead(harness)
    harness.command("sev SEV1", user=BOB, channel=channel)
    assert harness.incident().severity == "SEV1"
    harness.click(CardAction.RESOLVE, user=BOB)
    assert harness.incident().status == Status.RESOLVED


# --- private incidents ------------------------------------------------------------------------------------------

SECRETS = ("Payroll export leaked", "Salaries of the Zebra team", "Rotating the kiwi credentials", "host walrus")


def test_a_private_incident_s_details_stay_in_its_channel(harness: Harness) -> None:
    """Through its whole life (updates, severity, reminders and escalation, resolution), and whatever someone
    outside types, the details appear only in the private channel and to its members."""
    h = harness
    incident = h.declare(SECRETS[0], "SEV1", private=True, impact=SECRETS[1])
    channel = incident.channel_id
    h.command(f"update {SECRETS[2]}", channel=channel)
    h.command(f"note Found on {SECRETS[3]}", channel=channel)
    h.command("sev SEV2", channel=channel)
    for _ in range(4):  # the update falls overdue: reminders, then the escalation to the announcements channel
        h.clock.advance(minutes=30)
        ReminderScheduler(h.runtime).run_once()
        h.settle()
    # Dan is in no incident channel: every subcommand, with and without the reference, from a public channel.
    for sub in SUBCOMMANDS.all():
        for args in ("", " INC-1", " inc-1 details"):
            h.command(f"{sub.name}{args}", user=DAN, channel=GENERAL)
    h.click(CardAction.RESOLVE)
    assert h.incident().status == Status.RESOLVED

    members = set(h.workspace.channel(channel).members)
    assert DAN not in members
    leaks = []
    with h.workspace.lock:
        for other in h.workspace.channels.values():
            if other.id == channel or (other.is_private and set(other.members) <= members):
                continue  # the incident channel itself, and direct messages with its members
            for message in h.workspace.messages(other.id):
                shown = message.text + blocks_text(message.blocks)
                leaks += [(other.name, s) for s in SECRETS if s in shown]
        for note in h.workspace.ephemerals:
            if note.user not in members:
                shown = note.text + blocks_text(note.blocks or [])
                leaks += [(f"ephemeral to {note.user}", s) for s in SECRETS if s in shown]
        for view in h.workspace.open_views(DAN):
            leaks += [("modal", s) for s in SECRETS if s in str(view.body)]
    assert not leaks
    inside = " ".join(m.text + blocks_text(m.blocks) for m in h.workspace.messages(channel))
    assert SECRETS[0] in inside and SECRETS[2] in inside, "the details are where they belong"
    announcements = [m for m in h.workspace.messages("C0INCIDENTS") if "INC-1" in m.text]
    assert announcements, "the incident was announced (discreetly)"
