"""A ticket's status is kept in step with its tracker's: the scheduler's ticket job enqueues a TICKET_SYNC per
open ticket due (a conditional request: GitHub's ETag and 304; Jira per issue), and GitHub's `issues` webhook
tells it at once. Done there, the follow-up is done; reopened there, it is open again. The webhook is signed:
a bad or missing signature stores nothing."""

from __future__ import annotations

from app.delivery.scheduler import ReminderScheduler
from incidents.effects import Effect
from incidents.models import TicketStatus
from tests.integrations.tracker.conftest import serve
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import (
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
    statuses = [e.data["to"] for e in bot.events(kind="ticket_status")]
    assert statuses == ["In Progress", "Done"]

    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    assert poll(bot) == 0  # a done ticket is not polled any more
    bot.command("followups", channel=bot.incident().channel_id, user=BOB)
    assert "~alert on errors~" in blocks_text(listing(bot, BOB).blocks)


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
