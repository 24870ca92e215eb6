"""`/incident` subcommands: parsed before the ack, run after it, answered to the person who typed them."""

from __future__ import annotations

import pytest

from incidents.models import Role, Status
from tests.slack.slack_harness import ALICE, BOB, CAROL, GENERAL, Callback, Harness


@pytest.fixture
def channel(harness: Harness) -> str:
    """The channel of INC-1 (declared by Alice, SEV2)."""
    return harness.declare().channel_id


def test_help_lists_every_subcommand_in_the_ack_itself(harness: Harness) -> None:
    result = harness.command("help")
    assert result.status == 200
    assert result.json["response_type"] == "ephemeral"
    text = result.json["text"]
    for usage in (
        "declare [title]",
        "list",
        "ack",
        "role <acknowledge|mitigate|investigate|communicate> @person",
        "roles",
        "sev <severity>",
        "update [text]",
        "mitigated",
        "resolve",
        "reopen",
        "note <text>",
        "status",
    ):
        assert f"`/incident {usage}`" in text
    assert "SEV1 (Critical" in text
    assert harness.calls("views.open") == []


def test_an_unknown_subcommand_says_so_and_shows_the_usage_of_every_command(harness: Harness) -> None:
    result = harness.command("frobnicate now")
    text = result.json["text"]
    assert text.startswith("I do not know `frobnicate`. The commands are:\n• `/incident declare [title]`\n")
    assert "• `/incident role <acknowledge|mitigate|investigate|communicate> @person`" in text
    assert text.endswith("`/incident help <command>` explains one.")
    assert harness.last_reply() == text


@pytest.mark.parametrize("word", ["role", "ROLE", "/role"])
def test_help_on_a_subcommand_shows_its_usage_and_what_it_does(harness: Harness, word: str) -> None:
    result = harness.command(f"help {word}")
    assert result.json["text"] == (
        "Usage: `/incident role <acknowledge|mitigate|investigate|communicate> @person`\n"
        "Give a duty to someone (handing it over from its holder); they get a short briefing.\n"
        "Works in an incident channel, on its incident."
    )


def test_help_on_a_subcommand_names_its_aliases(harness: Harness) -> None:
    text = harness.command("help mitigate").json["text"]
    assert text.startswith("Usage: `/incident mitigated`\n")
    assert "Also written `/incident mitigate`." in text
    assert harness.command("help list").json["text"].endswith("Works anywhere.")


def test_help_on_an_unknown_subcommand_says_so_and_lists_the_commands(harness: Harness) -> None:
    text = harness.command("help frobnicate").json["text"]
    assert text.startswith("I do not know `frobnicate`. The commands are:\n")
    assert "• `/incident status`" in text
    assert "takes no arguments" not in text


def test_declare_with_a_title_prefills_the_modal(harness: Harness) -> None:
    harness.command("declare Payments are slow <b>")
    view = harness.open_view(ALICE, Callback.DECLARE)
    title = next(b for b in view.body["blocks"] if b.get("block_id") == "declare_title")
    assert title["element"]["initial_value"] == "Payments are slow <b>"


def test_list_shows_open_incidents_with_channel_links(harness: Harness) -> None:
    first = harness.declare("Checkout is failing")
    harness.declare("Search is slow", "SEV3", user=BOB)
    harness.command("list", user=CAROL)
    reply = harness.last_reply(CAROL)
    assert f"*INC-1* · SEV2 · triage · Checkout is failing · <#{first.channel_id}>" in reply
    assert "*INC-2* · SEV3" in reply


def test_list_of_a_private_incident_shows_only_reference_and_severity(harness: Harness) -> None:
    harness.declare("Payroll database leaked", "SEV1", private=True)
    harness.command("list", user=CAROL)
    reply = harness.last_reply(CAROL)
    assert "*INC-1* · SEV1 · private incident" in reply
    assert "Payroll" not in reply


def test_list_with_no_incidents_says_so(harness: Harness) -> None:
    harness.command("list")
    assert harness.last_reply() == "No open incidents."


def test_list_takes_no_arguments(harness: Harness) -> None:
    result = harness.command("list everything")
    assert result.json["text"] == ("This command takes no arguments, but got `everything`.\nUsage: `/incident list`")


def test_incident_commands_outside_an_incident_channel_name_the_open_incidents(harness: Harness) -> None:
    channel = harness.declare().channel_id
    harness.command("ack", user=BOB, channel=GENERAL)
    reply = harness.last_reply(BOB)
    assert reply.startswith("`/incident ack` works inside an incident channel, and this is not one.")
    assert f"*INC-1* · SEV2 · triage · Checkout is failing · <#{channel}>" in reply
    assert harness.incident().acknowledged_at is None


def test_ack_makes_the_person_incident_lead(harness: Harness, channel: str) -> None:
    harness.command("ack", user=BOB, channel=channel)
    incident = harness.incident()
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.holder(Role.ACKNOWLEDGE) == BOB
    assert harness.last_reply(BOB) == "You acknowledged INC-1 and lead it now."


def test_ack_twice_by_another_person_keeps_the_lead(harness: Harness, channel: str) -> None:
    harness.command("ack", user=BOB, channel=channel)
    harness.command("ack", user=ALICE, channel=channel)
    assert harness.incident().holder(Role.ACKNOWLEDGE) == BOB
    assert harness.last_reply(ALICE) == f"INC-1 is acknowledged; <@{BOB}> leads it."


def test_ack_with_arguments_shows_the_usage(harness: Harness, channel: str) -> None:
    result = harness.command("ack me please", channel=channel)
    assert result.json["text"].endswith("Usage: `/incident ack`")
    assert harness.incident().acknowledged_at is None


def test_role_assigns_a_duty_from_an_escaped_mention(harness: Harness, channel: str) -> None:
    harness.command(f"role mitigate <@{CAROL}|carol>", channel=channel)
    assert harness.incident().holder(Role.MITIGATE) == CAROL
    assert harness.last_reply() == f"<@{CAROL}> now holds the Mitigation role (mitigate) in INC-1."


def test_role_hands_over_and_says_when_nothing_changed(harness: Harness, channel: str) -> None:
    harness.command(f"role communicate <@{CAROL}>", channel=channel)
    harness.command(f"role communicate <@{BOB}|bob>", channel=channel)
    assert harness.incident().holder(Role.COMMUNICATE) == BOB
    harness.command(f"role communicate <@{BOB}|bob>", channel=channel)
    assert harness.last_reply() == f"<@{BOB}> already holds the Communication role (communicate)."


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("role", "Name a role and a person, like `role mitigate @dana`."),
        ("role mitigate", "Name a role and a person, like `role mitigate @dana`."),
        (
            "role cook <@U01BOB>",
            "There is no role `cook`. The roles are: acknowledge, mitigate, investigate, communicate.",
        ),
        (
            "role mitigate @bob",
            "I cannot tell who @bob is: pick the person from Slack's @-mention list so that it becomes a mention.",
        ),
        ("role mitigate bob", "bob is not a person: mention them with @."),
    ],
)
def test_malformed_role_commands_say_what_is_wrong(harness: Harness, channel: str, text: str, problem: str) -> None:
    result = harness.command(text, channel=channel)
    usage = "Usage: `/incident role <acknowledge|mitigate|investigate|communicate> @person`"
    assert result.json["text"] == f"{problem}\n{usage}"
    assert all(holder is None for holder in harness.incident().holders().values())


def test_roles_lists_the_holders(harness: Harness, channel: str) -> None:
    harness.command(f"role investigate <@{CAROL}|carol>", channel=channel)
    harness.command("roles", user=BOB, channel=channel)
    reply = harness.last_reply(BOB)
    assert "*Investigation* (investigate): <@U01CAROL>" in reply
    assert "*Incident lead* (acknowledge): _unassigned_" in reply


def test_sev_changes_the_severity(harness: Harness, channel: str) -> None:
    harness.command("sev sev1", channel=channel)
    assert harness.incident().severity == "SEV1"
    assert harness.last_reply() == "Severity changed to SEV1."
    harness.command("sev SEV1", channel=channel)
    assert harness.last_reply() == "INC-1 is already SEV1."


def test_sev_with_an_unknown_severity_names_the_known_ones(harness: Harness, channel: str) -> None:
    harness.command("sev SEV9", channel=channel)
    assert harness.last_reply() == (
        "Unknown severity 'SEV9'. Use one of: SEV1, SEV2, SEV3, SEV4.\nUsage: `/incident sev <severity>`"
    )
    assert harness.incident().severity == "SEV2"


def test_sev_without_a_severity_shows_the_usage(harness: Harness, channel: str) -> None:
    result = harness.command("sev", channel=channel)
    assert result.json["text"] == "Give exactly one severity, like SEV2.\nUsage: `/incident sev <severity>`"


def test_update_with_text_posts_a_stakeholder_update(harness: Harness, channel: str) -> None:
    harness.command("update Rolled back the deploy; error rate falling", channel=channel)
    incident = harness.incident()
    assert incident.last_update.text == "Rolled back the deploy; error rate falling"
    assert harness.last_reply() == "Update saved for INC-1 and on its way to the channel; the update clock restarts."
    in_channel = [m.text for m in harness.workspace.history(channel)]
    assert "Stakeholder update for INC-1: Rolled back the deploy; error rate falling" in in_channel


def test_update_without_text_opens_the_update_modal(harness: Harness, channel: str) -> None:
    harness.command("update", user=BOB, channel=channel)
    view = harness.open_view(BOB, Callback.POST_UPDATE)
    assert '"incident":"INC-1"' in view.body["private_metadata"]


def test_mitigated_resolve_and_reopen(harness: Harness, channel: str) -> None:
    harness.command("mitigated", channel=channel)
    assert harness.incident().status == Status.MITIGATED
    assert harness.last_reply() == "INC-1 is marked mitigated."
    harness.command("mitigated", channel=channel)
    assert harness.last_reply() == "INC-1 is already mitigated."
    harness.command("resolve", channel=channel)
    assert harness.incident().status == Status.RESOLVED
    assert harness.last_reply() == "INC-1 is resolved."
    harness.command("resolve", channel=channel)
    assert harness.last_reply() == "INC-1 is already resolved."
    harness.command("reopen", channel=channel)
    assert harness.incident().status == Status.ACKNOWLEDGED
    assert harness.last_reply() == "INC-1 is reopened."


def test_reopen_of_an_open_incident_is_refused_plainly(harness: Harness, channel: str) -> None:
    harness.command("reopen", channel=channel)
    assert harness.last_reply() == "INC-1 is not resolved, so it cannot be reopened."


def test_commands_on_a_resolved_incident_are_refused_plainly(harness: Harness, channel: str) -> None:
    harness.command("resolve", channel=channel)
    harness.command(f"role mitigate <@{BOB}>", channel=channel)
    assert harness.last_reply() == "INC-1 is resolved; you cannot assign roles in it. Reopen it first."


def test_note_adds_to_the_timeline(harness: Harness, channel: str) -> None:
    harness.command("note Saw 502s from the load balancer at 13:55", user=BOB, channel=channel)
    assert harness.last_reply(BOB) == "Noted on the timeline."
    notes = harness.events(kind="note")
    assert [(n.text, n.actor_id) for n in notes] == [("Saw 502s from the load balancer at 13:55", BOB)]


def test_note_without_text_shows_the_usage(harness: Harness, channel: str) -> None:
    result = harness.command("note", channel=channel)
    assert result.json["text"] == "Write the note after the command.\nUsage: `/incident note <text>`"


def test_status_summarises_the_incident(harness: Harness, channel: str) -> None:
    harness.command("ack", user=BOB, channel=channel)
    harness.command("status", user=CAROL, channel=channel)
    reply = harness.last_reply(CAROL)
    assert reply.startswith("*INC-1*: Checkout is failing\nSEV2 · :large_yellow_circle: Acknowledged")
    assert "*Incident lead* (acknowledge): <@U01BOB>" in reply


def test_subcommands_are_case_insensitive(harness: Harness, channel: str) -> None:
    harness.command("ACK", channel=channel)
    assert harness.incident().acknowledged_at is not None
