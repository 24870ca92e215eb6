"""A pager that is down, slow or refusing: the outbox retries (honouring Retry-After), gives up after its
attempts (the page failed, PAGE_FAILED on the timeline, the channel told how to repair), and `incidents outbox
retry` delivers it once the vendor is back. A refusal is not retried. The key never reaches a log line."""

from __future__ import annotations

from datetime import timedelta

from structlog.testing import capture_logs

from incidents import outbox_admin
from incidents.effects import Effect
from incidents.models import OutboxStatus, PageStatus
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.integrations.paging.paging_helpers import KEYS, channel_texts, pages
from tests.slack.slack_harness import Harness


def give_up(bot: Harness, kind: str) -> None:
    """Let time pass until the outbox dead-letters the one `kind` message."""
    for _ in range(15):
        if bot.outbox(kind)[0].status == OutboxStatus.DEAD:
            return
        bot.later(600)
    raise AssertionError(f"{kind} was never given up")


def test_a_pager_outage_is_retried_dead_lettered_then_repaired(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    pagerduty.outage = True
    incident = bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])

    [trigger] = bot.outbox(Effect.PAGE_TRIGGER)
    assert trigger.status == OutboxStatus.PENDING and trigger.attempts == 1
    page = pages(bot)["payments"]
    assert page.status == PageStatus.REQUESTED and "PagerDuty answered 503" in (page.last_error or "")

    give_up(bot, Effect.PAGE_TRIGGER)
    assert len(pagerduty.requests) == 10  # RetryPolicy.max_attempts
    page = pages(bot)["payments"]
    assert page.status == PageStatus.FAILED
    [failed] = bot.events(kind="page_failed")
    assert failed.data["team"] == "payments" and "503" in failed.data["error"]
    told = [t for t in channel_texts(bot) if "failed" in t and "payments" in t]
    assert told and f"`incidents outbox retry {trigger.id}`" in told[0]

    pagerduty.outage = False
    with bot.runtime.sessions.begin() as session:
        assert outbox_admin.retry(session, now=bot.clock(), message_id=trigger.id) == 1
    bot.settle()

    assert pages(bot)["payments"].status == PageStatus.TRIGGERED
    assert pages(bot)["payments"].last_error is None
    assert bot.outbox(Effect.PAGE_TRIGGER)[0].status == OutboxStatus.DONE
    assert len(bot.events(kind="page_sent")) == 1
    assert pagerduty.alerts[f"incident-{incident.id}-payments"] == "triggered"


def test_rate_limit_waits_for_retry_after(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    pagerduty.rate_limit(1, after="120")
    bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])
    [trigger] = bot.outbox(Effect.PAGE_TRIGGER)
    assert trigger.status == OutboxStatus.PENDING
    assert trigger.next_attempt_at - bot.clock() >= timedelta(seconds=119)
    bot.later(60)
    assert len(pagerduty.requests) == 1  # not before Retry-After
    bot.later(61)
    assert pages(bot)["payments"].status == PageStatus.TRIGGERED


def test_a_refused_page_fails_at_once_and_says_why(bot: Harness, opsgenie: OpsgenieDouble) -> None:
    opsgenie.api_keys = {"another-key"}  # the team's key is no longer valid
    bot.declare("Search is down", severity="SEV1", services=["search"])

    assert len(opsgenie.requests) == 1  # not retried
    assert bot.outbox(Effect.PAGE_TRIGGER)[0].status == OutboxStatus.DEAD
    assert pages(bot)["search"].status == PageStatus.FAILED
    [failed] = bot.events(kind="page_failed")
    assert "Opsgenie refused it (401): Could not authenticate" in failed.data["error"]
    assert any("Could not authenticate" in t for t in channel_texts(bot))


def test_the_keys_never_reach_the_logs_or_the_database(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    pagerduty.fail_next(1, 500)
    opsgenie.api_keys = set()
    with capture_logs() as logs:
        bot.declare("Checkout and search down", severity="SEV1", services=["checkout", "search"])
        bot.later(600)
    assert pagerduty.events("trigger")[-1]["routing_key"] == KEYS["PAGERDUTY_PAYMENTS_KEY"]  # it was sent
    everything = repr(logs)
    with bot.runtime.sessions() as session:
        from sqlalchemy import text

        for table in ("pages", "outbox", "timeline_events"):
            everything += repr(session.execute(text(f"SELECT * FROM {table}")).all())
    for secret in KEYS.values():
        assert secret not in everything
