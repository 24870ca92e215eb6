"""Paging end to end: signed Slack requests into the real app, the outbox delivering to the local PagerDuty and
Opsgenie doubles, and what Slack, the `pages` table and the timeline show."""

from __future__ import annotations

from app.slack.ids import CardAction
from incidents.effects import Effect
from incidents.models import PageStatus
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.integrations.paging.paging_helpers import PAGERDUTY_KEY, channel_texts, pages
from tests.slack.slack_harness import BOB, Harness


def test_page_a_service_pages_its_team_through_pagerduty(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    incident = bot.declare("Checkout is failing", severity="SEV2", services=["checkout"])
    assert pagerduty.events() == []  # SEV2 does not page on declare

    bot.command("page checkout the database is on fire", channel=incident.channel_id)

    assert "Paging team *payments* through PagerDuty" in bot.last_reply()
    [event] = pagerduty.events("trigger")
    assert event["routing_key"] == PAGERDUTY_KEY
    assert event["dedup_key"] == f"incident-{incident.id}-payments"
    assert event["payload"]["severity"] == "error"
    assert event["payload"]["summary"] == "INC-1 (SEV2): Checkout is failing: the database is on fire"
    assert event["payload"]["custom_details"]["incident"] == "INC-1"
    assert event["links"][0]["href"].endswith(incident.channel_id)
    page = pages(bot)["payments"]
    assert page.status == PageStatus.TRIGGERED and page.answer["status"] == "success"
    kinds = [e.kind for e in bot.events()]
    assert "page_requested" in kinds and "page_sent" in kinds
    [sent] = bot.events(kind="page_sent")
    assert sent.data == {"team": "payments", "pager": "pagerduty", "answer": f"incident-{incident.id}-payments"}
    assert any("Team *payments* was paged through PagerDuty" in t for t in channel_texts(bot))


def test_page_a_team_by_name_through_opsgenie(bot: Harness, opsgenie: OpsgenieDouble) -> None:
    incident = bot.declare("Search is slow", severity="SEV3", services=["search"])
    bot.command("page search", channel=incident.channel_id)
    [create] = opsgenie.requests
    assert create.path == "/v2/alerts" and create.body["priority"] == "P3"
    assert create.body["alias"] == f"incident-{incident.id}-search"
    assert pages(bot)["search"].status == PageStatus.TRIGGERED


def test_one_page_per_team_per_incident(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    incident = bot.declare("Checkout is failing", severity="SEV2", services=["checkout"])
    bot.command("page checkout", channel=incident.channel_id)
    bot.command("page payments-api", channel=incident.channel_id, user=BOB)  # another service of the same team

    reply = bot.last_reply(BOB)
    assert "Team *payments* was already paged for INC-1 at " in reply
    assert "by <@U01ALICE>: the page is *triggered*" in reply
    assert len(pagerduty.events("trigger")) == 1
    assert len(bot.events(kind="page_requested")) == 1


def test_unknown_target_and_team_without_pager_are_told_clearly(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    incident = bot.declare("Ledger is off", severity="SEV2", services=["ledger"])
    bot.command("page chekout", channel=incident.channel_id)
    assert "No service or team is called `chekout`" in bot.last_reply() and "*checkout*" in bot.last_reply()
    bot.command("page ledger", channel=incident.channel_id)
    assert "Team *books* has no pager in the ownership map" in bot.last_reply()
    assert "key_env" in bot.last_reply()
    bot.command("page", channel=incident.channel_id)
    assert "page <service|team>" in bot.last_reply() or "Name the service" in bot.last_reply()
    assert pagerduty.requests == [] and pages(bot) == {}


def test_page_owners_button_pages_every_owning_team(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    bot.declare("Everything is down", severity="SEV2", services=["checkout", "search", "ledger"])
    bot.click(CardAction.PAGE_OWNERS, value="INC-1")

    reply = bot.last_reply()
    assert "Paging *payments* (PagerDuty), *search* (Opsgenie)." in reply
    assert "No pager in the ownership map for *books*" in reply
    assert len(pagerduty.events("trigger")) == 1 and len(opsgenie.requests) == 1
    assert {t: p.status for t, p in pages(bot).items()} == {"payments": "triggered", "search": "triggered"}

    bot.click(CardAction.PAGE_OWNERS, value="INC-1", user=BOB)
    assert "already paged" in bot.last_reply(BOB)
    assert len(pagerduty.events("trigger")) == 1 and len(opsgenie.requests) == 1


def test_sev1_declare_pages_the_owners_automatically(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    bot.declare("Checkout and search down", severity="SEV1", services=["checkout", "search"])
    assert pagerduty.events("trigger")[0]["payload"]["severity"] == "critical"
    assert opsgenie.requests[0].body["priority"] == "P1"
    [requested_payments, requested_search] = bot.events(kind="page_requested")
    assert requested_payments.actor_id is None and requested_payments.data["team"] == "payments"
    assert requested_search.data["team"] == "search"


def test_raising_severity_into_sev1_pages_the_owners_once(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    incident = bot.declare("Checkout is failing", severity="SEV2", services=["checkout"])
    bot.command("severity SEV1", channel=incident.channel_id)
    bot.command("severity SEV2", channel=incident.channel_id)
    bot.command("severity SEV1", channel=incident.channel_id)
    assert len(pagerduty.events("trigger")) == 1


def test_resolving_resolves_the_pages_on_both_vendors(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    incident = bot.declare("Checkout and search down", severity="SEV1", services=["checkout", "search"])
    bot.command("resolve", channel=incident.channel_id)

    assert pagerduty.alerts[f"incident-{incident.id}-payments"] == "resolved"
    assert opsgenie.alerts[f"incident-{incident.id}-search"]["status"] == "closed"
    assert opsgenie.requests[-1].query == {"identifierType": ["alias"]}
    assert {p.status for p in pages(bot).values()} == {PageStatus.RESOLVED.value}
    assert sorted(e.data["team"] for e in bot.events(kind="page_resolved")) == ["payments", "search"]


def test_acknowledging_in_slack_does_not_acknowledge_the_page_by_default(
    bot: Harness, pagerduty: PagerDutyDouble
) -> None:
    incident = bot.declare("Checkout is failing", severity="SEV1", services=["checkout"])
    bot.command("ack", channel=incident.channel_id)
    assert pagerduty.events("acknowledge") == []
    assert bot.outbox(Effect.PAGE_ACKNOWLEDGE) == []
    assert pages(bot)["payments"].status == PageStatus.TRIGGERED


def test_acknowledging_in_slack_acknowledges_the_pages_when_the_setting_says_so(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    from tests.integrations.paging.conftest import serve

    serve(bot, bot.deps.settings.model_copy(update={"pager_acknowledge_from_slack": True}))
    bot.declare("Checkout and search down", severity="SEV1", services=["checkout", "search"])
    bot.click(CardAction.ACKNOWLEDGE, value="INC-1")

    assert len(pagerduty.events("acknowledge")) == 1
    assert opsgenie.alerts[f"incident-{bot.incident().id}-search"]["status"] == "acknowledged"
    assert {p.status for p in pages(bot).values()} == {PageStatus.ACKNOWLEDGED.value}
    assert len(bot.events(kind="page_acknowledged")) == 2
