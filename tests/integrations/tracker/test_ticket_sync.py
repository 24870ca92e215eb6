"""A ticket's status is kept in step with its tracker's: the scheduler's ticket job enqueues a TICKET_SYNC per
open ticket due (a conditional request: GitHub's ETag and 304; Jira per issue), and GitHub's `issues` webhook
tells it at once. Done there, the follow-up is done; reopened there, it is open again. The webhook is signed:
a bad or missing signature stores nothing."""

from __future__ import annotations

from structlog.testing import capture_logs

from app.delivery.scheduler import ReminderScheduler
from app.slack.ids import TicketAction
from incidents.effects import Effect
from incidents.models import TicketStatus
from tests.integrations.tracker.conftest import serve
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import (
    create_ticket_button,
    followups,
    issues_event,
    listing,
    signed,
    tickets,
)
from tests.slack.slack_harness import BOB, Harness, blocks_text


def poll(bot: Harness) -> int:
    """One run of the scheduler's ticket job, then deliver what it enqueued."""
    claimed = ReminderScheduler(bot.runtime).ticket_tick()
    bot.settle()
    return claimed or 0


def with_ticket(bot: Harness, services: list[str], text: str = "alert on errors") -> None:
    incident = bot.declare("Something broke", services=services)
    bot.command(f"followup {text} --ticket", channel=incident.channel_id, user=BOB)


def test_a_jira_ticket_done_marks_the_followup_done_at_the_next_poll(bot: Harness, jira: JiraDouble) -> None:
    with_ticket(bot, ["checkout"])
    assert poll(bot) == 0  # not due yet
    jira.transition("OPS-1", "In Progress", "indeterminate")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.remote_status) == (TicketStatus.OPEN, "In Progress")
    assert not followups(bot)[0].done

    jira.transition("OPS-1", "Done", "done")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.remote_status) == (TicketStatus.DONE, "Done")
    [followup] = followups(bot)
    assert followup.done and followup.done_at == bot.clock()
    [done] = bot.events(kind="followup_done")
    assert done.data["ticket"] == "OPS-1" and done.actor_id is None
    statuses = [(e.data["from"], e.data["to"]) for e in bot.events(kind="ticket_status")]
    assert statuses == [("In Progress", "Done")]  # the first status learnt is no change

    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 0  # a done ticket is not polled any more
    bot.command("followups", channel=bot.incident().channel_id, user=BOB)
    assert "~alert on errors~" in blocks_text(listing(bot, BOB).blocks)


def test_a_jira_tickets_first_status_is_unknown_until_read_and_reading_it_is_no_change(
    bot: Harness, jira: JiraDouble
) -> None:
    """Jira's create answer has no status, and this workflow starts at Backlog, not To Do."""
    with_ticket(bot, ["checkout"])
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.remote_status) == (TicketStatus.OPEN, None)
    jira.transition("OPS-1", "Backlog", "new")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert ticket.remote_status == "Backlog" and bot.events(kind="ticket_status") == []
    jira.transition("OPS-1", "Selected for Development", "new")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    poll(bot)
    [moved] = bot.events(kind="ticket_status")
    assert (moved.data["from"], moved.data["to"]) == ("Backlog", "Selected for Development")


def test_github_polls_are_conditional_and_a_304_changes_nothing(bot: Harness, github: GitHubDouble) -> None:
    with_ticket(bot, ["search"])
    every = bot.deps.settings.ticket_sync_seconds
    bot.clock.advance(seconds=every)
    poll(bot)  # the first read has no ETag yet
    bot.clock.advance(seconds=every)
    poll(bot)
    first, second = github.calls("GET")
    assert "if-none-match" not in first.headers and second.headers["if-none-match"]
    assert [m.result.get("modified") for m in bot.outbox(Effect.TICKET_SYNC)] == [True, False]
    assert bot.events(kind="ticket_status") == []

    github.close("acme/search", 1)
    bot.clock.advance(seconds=every)
    poll(bot)
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.remote_status) == (TicketStatus.DONE, "closed (completed)")
    assert followups(bot)[0].done


def test_a_tracker_outage_during_a_poll_is_retried(bot: Harness, jira: JiraDouble) -> None:
    with_ticket(bot, ["checkout"])
    jira.transition("OPS-1", "Done", "done")
    jira.outage = True
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    poll(bot)
    assert not followups(bot)[0].done
    jira.outage = False
    bot.later(120)
    assert followups(bot)[0].done


# --- the GitHub issues webhook ----------------------------------------------------------------------------


def test_the_issues_webhook_closes_and_reopens_the_followup(bot: Harness, github: GitHubDouble) -> None:
    with_ticket(bot, ["search"])
    closed = github.close("acme/search", 1)
    raw, headers = signed(issues_event(closed, "acme/search", "closed"))
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 200 and answer.json() == {
        "ok": True,
        "ticket": "acme/search#1",
        "status": "done",
        "changed": True,
    }
    assert followups(bot)[0].done
    again = bot.post("/tickets/github", raw, headers)  # a redelivery
    assert again.json()["changed"] is False and len(bot.events(kind="ticket_status")) == 1

    reopened = github.reopen("acme/search", 1)
    raw, headers = signed(issues_event(reopened, "acme/search", "reopened"))
    assert bot.post("/tickets/github", raw, headers).json()["status"] == "open"
    [followup] = followups(bot)
    assert not followup.done and followup.done_at is None
    assert bot.events(kind="ticket_status")[-1].data["reopened"] is True
    bot.settle()


def test_the_issues_webhook_matches_the_repository_whatever_its_capitals(bot: Harness, github: GitHubDouble) -> None:
    """GitHub names the repository as its owner spells it (Acme/Search); the ticket was filed as acme/search."""
    with_ticket(bot, ["search"])
    closed = github.close("acme/search", 1)
    raw, headers = signed(issues_event(closed, "Acme/Search", "closed"))
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 200 and answer.json()["ticket"] == "acme/search#1"
    assert followups(bot)[0].done and tickets(bot)[0].status == TicketStatus.DONE
    bot.settle()


def test_a_webhook_with_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    bot: Harness, github: GitHubDouble
) -> None:
    with_ticket(bot, ["search"])
    closed = github.close("acme/search", 1)
    raw, headers = signed(issues_event(closed, "acme/search", "closed"), secret="not-the-secret")
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 401 and "signature" in answer.json()["error"]
    del headers["X-Hub-Signature-256"]
    assert bot.post("/tickets/github", raw, headers).status == 401
    raw, headers = signed(issues_event(closed, "acme/search", "closed"))
    assert bot.post("/tickets/github", raw + b" ", headers).status == 401  # the body was changed
    assert not followups(bot)[0].done and tickets(bot)[0].status == TicketStatus.OPEN


def test_the_webhook_answers_every_other_request_in_plain_words(bot: Harness) -> None:
    raw, headers = signed({"zen": "Keep it logically awesome."}, event="ping")
    assert bot.post("/tickets/github", raw, headers).json() == {"ok": True, "pong": True}
    raw, headers = signed({"action": "created"}, event="issue_comment")
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 202 and "subscribe to Issues only" in answer.json()["ignored"]
    raw, headers = signed({"action": "closed", "issue": {"state": "closed"}, "repository": {}})
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 400 and "issue.number: Field required" in answer.json()["error"]
    assert "repository.full_name: Field required" in answer.json()["error"]
    raw, headers = signed(b"{not json")
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 400 and "not JSON" in answer.json()["error"]
    issue = {"number": 7, "state": "closed", "html_url": "https://github.example/acme/other/issues/7"}
    raw, headers = signed(issues_event(issue, "acme/other", "closed"))
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 202 and "not a follow-up's ticket" in answer.json()["ignored"]
    assert bot.post("/tickets/github", b"", {}, method="GET").status == 405


def test_the_webhook_is_off_without_its_secret(bot: Harness) -> None:
    serve(bot, bot.deps.settings.model_copy(update={"github_issues_webhook_secret": None}))
    raw, headers = signed({"zen": "x"}, event="ping")
    answer = bot.post("/tickets/github", raw, headers)
    assert answer.status == 404 and "set GITHUB_ISSUES_WEBHOOK_SECRET" in answer.json()["error"]


def test_a_ticket_deleted_in_its_tracker_stops_being_polled(bot: Harness, jira: JiraDouble) -> None:
    with_ticket(bot, ["checkout"])
    jira.issues.pop("OPS-1")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert ticket.next_sync_at is None and "Issue does not exist" in (ticket.last_error or "")
    assert ticket.status == TicketStatus.OPEN  # as last seen; nothing is invented
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 0


def test_follow_ticket_again_polls_a_ticket_that_stopped_being_followed(bot: Harness, jira: JiraDouble) -> None:
    """The issue was deleted, then restored in Jira: the follow-up list offers Follow ticket again, which reads
    it at the next scheduler run."""
    with_ticket(bot, ["checkout"])
    issue = jira.issues.pop("OPS-1")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    poll(bot)
    jira.issues["OPS-1"] = issue
    jira.transition("OPS-1", "Done", "done")
    bot.clock.advance(seconds=60)  # someone notices later
    channel = bot.incident().channel_id
    bot.command("followups", channel=channel, user=BOB)
    shown = listing(bot, BOB)
    assert "not followed any more: Jira refused it (404)" in blocks_text(shown.blocks)
    [ticket] = tickets(bot)
    block_id, button = create_ticket_button(shown, ticket.followup_id)
    assert button["text"]["text"] == "Follow ticket again"

    bot.slack.click(BOB, channel, shown.ts, TicketAction.CREATE, block_id=block_id)
    bot.settle()
    assert "OPS-1 had stopped being followed; I will read it again from Jira (OPS) now." in bot.last_reply(BOB)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.last_error) == (TicketStatus.DONE, None) and followups(bot)[0].done
    assert len(jira.calls("POST")) == 1  # no second ticket


def test_a_ticket_the_bot_may_not_read_for_now_is_still_polled(bot: Harness, jira: JiraDouble) -> None:
    """A 401 or 403 (a rotated token, a permission taken away) is not a deleted ticket: the tracker's reason is
    kept and logged, and the next sync reads it again."""
    with_ticket(bot, ["checkout"])
    every = bot.deps.settings.ticket_sync_seconds
    jira.fail_next(1, 401, "You are not authenticated.")
    bot.clock.advance(seconds=every)
    with capture_logs() as logs:
        assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert ticket.next_sync_at is not None and "refused it (401): You are not authenticated" in (
        ticket.last_error or ""
    )
    [warning] = [line for line in logs if line["event"] == "ticket_sync_refused"]
    assert warning["log_level"] == "warning" and "401" in warning["error"]
    bot.command("followups", channel=bot.incident().channel_id, user=BOB)
    assert "could not be read: Jira refused it (401)" in blocks_text(listing(bot, BOB).blocks)

    jira.transition("OPS-1", "Done", "done")
    bot.clock.advance(seconds=every)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.last_error) == (TicketStatus.DONE, None) and followups(bot)[0].done


def test_a_ticket_in_a_renamed_github_repository_is_followed_through_the_redirect(
    bot: Harness, github: GitHubDouble
) -> None:
    with_ticket(bot, ["search"])
    github.rename("acme/search", "acme/find")
    github.close("acme/find", 1)
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 1
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.url) == (TicketStatus.DONE, "https://github.example/acme/find/issues/1")
    assert [r.path for r in github.calls("GET")] == ["/repos/acme/search/issues/1", "/repos/acme/find/issues/1"]


def test_ticket_events_read_on_the_timeline(bot: Harness, jira: JiraDouble) -> None:
    with_ticket(bot, ["checkout"])
    jira.transition("OPS-1", "Done", "done")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    poll(bot)
    bot.command("timeline", channel=bot.incident().channel_id, user=BOB)
    shown = blocks_text(bot.workspace.ephemerals_for(BOB)[-1].blocks)
    assert "Ticket asked for by <@U01BOB> in Jira (OPS) for the follow-up: alert on errors" in shown
    assert f"Ticket OPS-1 created in Jira for the follow-up: alert on errors ({jira.url}/browse/OPS-1)" in shown
    assert "Ticket OPS-1 is now Done in Jira: the follow-up is done" in shown
