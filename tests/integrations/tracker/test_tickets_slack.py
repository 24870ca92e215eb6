"""Follow-ups become tickets, through signed requests into the real app: the Create ticket button and
`followup ... --ticket` file the follow-up in the owning team's tracker (the ownership map), else TICKET_DEFAULT;
the follow-up list shows the key and link, the channel is told, the ticket says why the action exists. A ticket
the tracker refuses is told to the person who asked, with the tracker's reason. Bad input is answered in plain
words and adds nothing."""

from __future__ import annotations

from app.slack.ids import TicketAction
from incidents.effects import Effect
from incidents.models import OutboxStatus, TicketStatus
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import (
    channel_texts,
    create_ticket_button,
    followups,
    listing,
    tickets,
)
from tests.slack.slack_harness import BOB, CAROL, Harness, blocks_text


def test_create_ticket_button_files_the_followup_in_the_owning_teams_jira_project(
    bot: Harness, jira: JiraDouble
) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command(f"followup alert on checkout error rate <@{CAROL}>", channel=incident.channel_id, user=BOB)
    bot.command("followups", channel=incident.channel_id, user=BOB)
    shown = listing(bot, BOB)
    [followup] = followups(bot)
    block_id, button = create_ticket_button(shown, followup.id)
    assert button["text"]["text"] == "Create ticket"

    bot.slack.click(BOB, incident.channel_id, shown.ts, TicketAction.CREATE, block_id=block_id)
    bot.settle()

    [ticket] = tickets(bot)
    assert (ticket.tracker, ticket.project, ticket.key, ticket.status) == ("jira", "OPS", "OPS-1", TicketStatus.OPEN)
    assert ticket.team == "payments" and ticket.requested_by == BOB
    fields = jira.issues["OPS-1"]["fields"]
    assert fields["issuetype"] == {"name": "Bug"}  # the team's issue type
    assert fields["labels"] == ["incident-followup", "payments"]  # TICKET_LABELS, then the team's
    assert fields["summary"] == "alert on checkout error rate"
    words = " ".join(n["text"] for p in fields["description"]["content"] for n in p["content"])
    assert "comes from incident INC-1, “Checkout is failing” (SEV2" in words
    assert "not about anyone's mistake" in words and "five whys" in words
    links = [n for p in fields["description"]["content"] for n in p["content"] if n.get("marks")]
    assert links[0]["marks"][0]["attrs"]["href"] == f"https://slack.com/app_redirect?channel={incident.channel_id}"

    assert "Creating a ticket in Jira (OPS)" in bot.last_reply(BOB)
    assert "ticket on its way" in blocks_text(listing(bot, BOB).blocks)  # the list it replaced, at the click
    bot.command("followups", channel=incident.channel_id, user=BOB)
    shown = blocks_text(listing(bot, BOB).blocks)
    assert f"<{jira.url}/browse/OPS-1|OPS-1> (open)" in shown  # Jira's own word is known at the first read
    assert any(f"Ticket <{jira.url}/browse/OPS-1|OPS-1> created in Jira" in t for t in channel_texts(bot))
    [created] = bot.events(kind="ticket_created")
    assert created.data["key"] == "OPS-1" and created.text == "alert on checkout error rate"


def test_followup_with_ticket_flag_files_it_in_github_for_the_search_team(bot: Harness, github: GitHubDouble) -> None:
    incident = bot.declare("Search is slow", services=["search"])
    bot.command(f"followup add a search latency SLO <@{CAROL}> --ticket", channel=incident.channel_id, user=BOB)

    reply = bot.last_reply(BOB)
    assert reply.startswith("Follow-up added to INC-1, owned by <@U01CAROL>.")
    assert "Creating a ticket in GitHub (acme/search)" in reply
    [ticket] = tickets(bot)
    assert (ticket.key, ticket.url) == ("acme/search#1", "https://github.example/acme/search/issues/1")
    issue = github.issues[("acme/search", 1)]
    assert issue["title"] == "add a search latency SLO"
    assert [a["login"] for a in issue["assignees"]] == ["octocat"]
    assert "comes from incident INC-1" in issue["body"]


def test_an_incident_whose_teams_name_no_tracker_goes_to_the_default(bot: Harness, github: GitHubDouble) -> None:
    incident = bot.declare("Ledger drift", services=["ledger"])
    bot.command("followup reconcile the ledger nightly --ticket", channel=incident.channel_id, user=BOB)
    [ticket] = tickets(bot)
    assert (ticket.tracker, ticket.project, ticket.team) == ("github", "acme/incidents", None)
    assert ("acme/incidents", 1) in github.issues


def test_a_second_click_does_not_make_a_second_ticket(bot: Harness, jira: JiraDouble) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup alert on checkout errors", channel=incident.channel_id, user=BOB)
    bot.command("followups", channel=incident.channel_id, user=BOB)
    shown = listing(bot, BOB)
    block_id, _ = create_ticket_button(shown, followups(bot)[0].id)
    before = len(bot.replies_to(BOB))
    bot.slack.click(BOB, incident.channel_id, shown.ts, TicketAction.CREATE, block_id=block_id)
    bot.slack.click(BOB, incident.channel_id, shown.ts, TicketAction.CREATE, block_id=block_id)
    bot.settle()
    assert len(jira.issues) == 1 and len(tickets(bot)) == 1
    # the two clicks run side by side in the listener pool: either may be answered first
    answers = bot.replies_to(BOB)[before:]
    assert len(answers) == 2
    assert sum("Creating a ticket in Jira (OPS)" in a for a in answers) == 1
    assert sum("has a ticket already: OPS-1" in a or "on its way" in a for a in answers) == 1


def test_a_ticket_the_tracker_refuses_is_told_to_the_person_who_asked(bot: Harness, jira: JiraDouble) -> None:
    jira.projects.pop("OPS")  # the project was archived
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup alert on checkout errors --ticket", channel=incident.channel_id, user=BOB)

    assert len(jira.calls("POST")) == 1  # a refusal is not retried
    [ticket] = tickets(bot)
    assert ticket.status == TicketStatus.FAILED and "valid project is required" in (ticket.last_error or "")
    assert bot.outbox(Effect.TICKET_CREATE)[0].status == OutboxStatus.DEAD
    [failed] = bot.events(kind="ticket_failed")
    assert "Jira refused it (400): project: valid project is required" in failed.data["error"]
    [told] = [m.text for m in bot.dms_to(BOB) if "could not create" in m.text]
    assert "I could not create the Jira ticket (OPS) for INC-1's follow-up “alert on checkout errors”" in told
    assert "valid project is required" in told and "team payments's `tracker` in the ownership map" in told

    bot.command("followups", channel=incident.channel_id, user=BOB)
    shown = listing(bot, BOB)
    assert "ticket not created: Jira refused it" in blocks_text(shown.blocks)
    _, button = create_ticket_button(shown, ticket.followup_id)
    assert button["text"]["text"] == "Create ticket again"

    jira.projects["OPS"] = {"Bug"}  # fixed: asking again files it
    block_id, _ = create_ticket_button(shown, ticket.followup_id)
    bot.slack.click(BOB, incident.channel_id, shown.ts, TicketAction.CREATE, block_id=block_id)
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.key, ticket.last_error) == (TicketStatus.OPEN, "OPS-1", None)


# --- bad input --------------------------------------------------------------------------------------------


def test_an_unknown_option_is_refused_and_nothing_is_added(bot: Harness) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    result = bot.command("followup alert on errors --tickets", channel=incident.channel_id, user=BOB)
    assert "`--tickets` is not an option of followup; the only one is `--ticket`" in result.json["text"]
    assert followups(bot) == []


def test_only_a_flag_is_not_a_followup(bot: Harness) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    result = bot.command("followup --ticket", channel=incident.channel_id, user=BOB)
    assert "Say what needs doing" in result.json["text"]
    assert followups(bot) == []


def test_ticket_flag_without_any_tracker_configured_adds_nothing(harness: Harness) -> None:
    incident = harness.declare("Checkout is failing")
    harness.command("followup alert on errors --ticket", channel=incident.channel_id, user=BOB)
    assert "Tickets are not set up on this bot" in harness.last_reply(BOB)
    assert followups(harness) == [] and tickets(harness) == []


def test_no_destination_for_the_incident_adds_nothing_and_says_what_to_set(bot: Harness) -> None:
    settings = bot.deps.settings.model_copy(update={"ticket_default": ""})
    from tests.integrations.tracker.conftest import serve

    serve(bot, settings)
    incident = bot.declare("Ledger drift", services=["ledger"])
    bot.command("followup reconcile nightly --ticket", channel=incident.channel_id, user=BOB)
    reply = bot.last_reply(BOB)
    assert "I do not know where INC-1's tickets go" in reply and "TICKET_DEFAULT is not set" in reply
    assert followups(bot) == [] and tickets(bot) == []


def test_a_create_ticket_button_with_a_bad_value_says_so(bot: Harness) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup alert on errors", channel=incident.channel_id, user=BOB)
    bot.command("followups", channel=incident.channel_id, user=BOB)
    shown = listing(bot, BOB)
    block_id, _ = create_ticket_button(shown, followups(bot)[0].id)
    for value, said in (("garbage", "not attached to a follow-up"), ("INC-1:999", "INC-1 has no follow-up #999")):
        bot.slack.click(BOB, incident.channel_id, shown.ts, TicketAction.CREATE, value=value, block_id=block_id)
        bot.settle()
        assert said in bot.last_reply(BOB)
    assert tickets(bot) == []
