"""A tracker that is down, slow or rate-limiting: the outbox retries the creation (honouring Retry-After), gives
up after its attempts (the ticket failed, TICKET_FAILED on the timeline, the person who asked told how to
repair it), and `incidents outbox retry` creates it once the tracker is back. Tracker calls bypass Slack's
circuit breaker. The token never reaches a log line."""

from __future__ import annotations

from datetime import timedelta

from structlog.testing import capture_logs

from app.delivery.guard import NOT_SLACK
from incidents import outbox_admin
from incidents.effects import Effect
from incidents.models import OutboxStatus, TicketStatus
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import GITHUB_TOKEN, JIRA_TOKEN, tickets
from tests.slack.slack_harness import BOB, Harness


def give_up(bot: Harness, kind: str) -> None:
    for _ in range(15):
        if bot.outbox(kind)[0].status == OutboxStatus.DEAD:
            return
        bot.later(600)
    raise AssertionError(f"{kind} was never given up")


def test_a_tracker_outage_is_retried_dead_lettered_told_then_repaired(bot: Harness, jira: JiraDouble) -> None:
    jira.outage = True
    incident = bot.declare("Checkout is failing", services=["checkout"])
    with capture_logs() as logs:
        bot.command("followup alert on checkout errors --ticket", channel=incident.channel_id, user=BOB)
        [create] = bot.outbox(Effect.TICKET_CREATE)
        assert create.status == OutboxStatus.PENDING and create.attempts == 1
        [ticket] = tickets(bot)
        assert ticket.status == TicketStatus.REQUESTED and "Jira answered 503" in (ticket.last_error or "")

        give_up(bot, Effect.TICKET_CREATE)
    assert JIRA_TOKEN not in repr(logs) and GITHUB_TOKEN not in repr(logs)
    assert len(jira.calls("POST")) == 10  # RetryPolicy.max_attempts
    [ticket] = tickets(bot)
    assert ticket.status == TicketStatus.FAILED
    [failed] = bot.events(kind="ticket_failed")
    assert "503" in failed.data["error"]
    [told] = [m.text for m in bot.dms_to(BOB) if "could not create" in m.text]
    assert "I tried 10 times and gave up" in told and f"`incidents outbox retry {create.id}`" in told

    jira.outage = False
    with bot.runtime.sessions.begin() as session:
        assert outbox_admin.retry(session, now=bot.clock(), message_id=create.id) == 1
    bot.settle()
    [ticket] = tickets(bot)
    assert (ticket.status, ticket.key, ticket.last_error) == (TicketStatus.OPEN, "OPS-1", None)
    assert bot.outbox(Effect.TICKET_CREATE)[0].status == OutboxStatus.DONE
    assert len(jira.issues) == 1 and len(bot.events(kind="ticket_created")) == 1


def test_a_rate_limited_creation_waits_for_retry_after(bot: Harness, github: GitHubDouble) -> None:
    github.rate_limit(1, after="120")
    incident = bot.declare("Search is slow", services=["search"])
    bot.command("followup add an SLO --ticket", channel=incident.channel_id, user=BOB)
    [create] = bot.outbox(Effect.TICKET_CREATE)
    assert create.status == OutboxStatus.PENDING
    assert create.next_attempt_at - bot.clock() >= timedelta(seconds=119)
    bot.later(60)
    assert len(github.calls("POST")) == 1  # not before Retry-After
    bot.later(61)
    assert tickets(bot)[0].key == "acme/search#1"


def test_tracker_effects_do_not_wait_for_slack() -> None:
    assert {Effect.TICKET_CREATE.value, Effect.TICKET_SYNC.value, Effect.TICKET_FOLLOWUPS.value} <= NOT_SLACK


def test_resolving_with_tickets_on_resolve_files_every_followup_without_one(bot: Harness, jira: JiraDouble) -> None:
    from tests.integrations.tracker.conftest import serve

    serve(bot, bot.deps.settings.model_copy(update={"tickets_on_resolve": True}))
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup alert on checkout errors --ticket", channel=incident.channel_id, user=BOB)
    bot.command("followup write the checkout runbook", channel=incident.channel_id, user=BOB)
    bot.command("followup add a canary", channel=incident.channel_id, user=BOB)
    bot.command("resolve", channel=incident.channel_id, user=BOB)

    assert sorted(t.key for t in tickets(bot)) == ["OPS-1", "OPS-2", "OPS-3"]
    assert [t.requested_by for t in tickets(bot)] == [BOB, None, None]
    assert sorted(i["fields"]["summary"] for i in jira.issues.values()) == [
        "add a canary",
        "alert on checkout errors",
        "write the checkout runbook",
    ]
    asked = [e for e in bot.events(kind="ticket_requested") if e.actor_id is None]
    assert len(asked) == 2


def test_resolving_without_the_setting_files_nothing(bot: Harness, jira: JiraDouble) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup write the checkout runbook", channel=incident.channel_id, user=BOB)
    bot.command("resolve", channel=incident.channel_id, user=BOB)
    assert tickets(bot) == [] and jira.requests == []


def test_resolving_a_private_incident_files_only_the_tickets_asked_for(bot: Harness, jira: JiraDouble) -> None:
    """TICKETS_ON_RESOLVE leaves a private incident's follow-ups alone; an explicit --ticket still works."""
    from tests.integrations.tracker.conftest import serve

    serve(bot, bot.deps.settings.model_copy(update={"tickets_on_resolve": True}))
    incident = bot.declare("Payroll data exposed", services=["checkout"], private=True)
    bot.command("followup rotate the payroll keys --ticket", channel=incident.channel_id, user=BOB)
    bot.command("followup audit who read the export", channel=incident.channel_id, user=BOB)
    bot.command("resolve", channel=incident.channel_id, user=BOB)
    bot.settle()

    assert [(t.key, t.requested_by) for t in tickets(bot)] == [("OPS-1", BOB)]
    assert [i["fields"]["summary"] for i in jira.issues.values()] == ["rotate the payroll keys"]
    assert bot.outbox(Effect.TICKET_FOLLOWUPS) == []
