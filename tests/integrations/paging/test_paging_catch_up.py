"""A trigger still on its way when the incident is resolved or acknowledged (found in review): the incident's
PAGE_RESOLVE / PAGE_ACKNOWLEDGE finds the page not triggered yet and does nothing, so the trigger, when it lands,
catches up. Otherwise the vendor keeps an open incident and escalates to more people.

The interleaving is laid out step by step: the trigger fails once (the vendor is down), the incident is resolved
(or acknowledged) while it waits, then the attempt that was in flight lands (`paging.record_sent`, what the
trigger handler records once the vendor accepted it)."""

from __future__ import annotations

from incidents import paging
from incidents.effects import Effect
from incidents.models import PageStatus
from tests.integrations.paging.conftest import serve
from tests.integrations.paging.doubles import PagerDutyDouble
from tests.integrations.paging.paging_helpers import pages
from tests.slack.slack_harness import Harness


def land_the_trigger(bot: Harness, pagerduty: PagerDutyDouble, page_id: int, dedup_key: str) -> None:
    pagerduty.outage = False
    pagerduty.alerts[dedup_key] = "triggered"  # the vendor took the attempt that was on its way
    with bot.runtime.sessions.begin() as session:
        paging.record_sent(
            session,
            page_id,
            answer={"status": "success", "dedup_key": dedup_key},
            key="page_trigger:in-flight",
            now=bot.clock.now,
            process=bot.runtime.process,
        )
    bot.settle()


def test_a_trigger_that_lands_after_the_incident_was_resolved_is_resolved_too(
    bot: Harness, pagerduty: PagerDutyDouble
) -> None:
    pagerduty.outage = True
    incident = bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])
    page = pages(bot)["payments"]
    assert page.status == PageStatus.REQUESTED
    bot.command("resolve", channel=incident.channel_id)
    [early] = bot.outbox(Effect.PAGE_RESOLVE)
    assert early.result == {"skipped": "the page is requested, never triggered"}

    land_the_trigger(bot, pagerduty, page.id, page.dedup_key)

    assert pagerduty.alerts[page.dedup_key] == "resolved"
    assert pages(bot)["payments"].status == PageStatus.RESOLVED
    assert [e.data["team"] for e in bot.events(kind="page_resolved")] == ["payments"]


def test_a_trigger_that_lands_after_a_slack_acknowledge_is_acknowledged_when_the_setting_says_so(
    bot: Harness, pagerduty: PagerDutyDouble
) -> None:
    serve(bot, bot.deps.settings.model_copy(update={"pager_acknowledge_from_slack": True}))
    pagerduty.outage = True
    incident = bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])
    page = pages(bot)["payments"]
    bot.command("ack", channel=incident.channel_id)
    assert [m.result for m in bot.outbox(Effect.PAGE_ACKNOWLEDGE)] == [
        {"skipped": "the page is requested, never triggered"}
    ]

    land_the_trigger(bot, pagerduty, page.id, page.dedup_key)

    assert pagerduty.alerts[page.dedup_key] == "acknowledged"
    assert pages(bot)["payments"].status == PageStatus.ACKNOWLEDGED


def test_without_the_setting_a_late_trigger_after_a_slack_acknowledge_stays_triggered(
    bot: Harness, pagerduty: PagerDutyDouble
) -> None:
    pagerduty.outage = True
    incident = bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])
    page = pages(bot)["payments"]
    bot.command("ack", channel=incident.channel_id)

    land_the_trigger(bot, pagerduty, page.id, page.dedup_key)

    assert pagerduty.alerts[page.dedup_key] == "triggered"
    assert bot.outbox(Effect.PAGE_ACKNOWLEDGE) == []
