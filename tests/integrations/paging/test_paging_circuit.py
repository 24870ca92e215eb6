"""A Slack outage must not hold pages back (that is exactly when paging matters), and a pager outage must not
trip Slack's circuit breaker: the pager effects are not guarded (app.delivery.guard.NOT_SLACK) and the outbox
worker still claims them while the circuit is open."""

from __future__ import annotations

from app.delivery.circuit import CircuitBreaker, State
from app.delivery.handlers import build_handlers
from app.delivery.worker import OutboxWorker
from incidents import paging
from incidents.effects import Effect
from incidents.models import Incident, OutboxStatus
from incidents.outbox import RetryPolicy
from tests.integrations.paging.doubles import PagerDutyDouble
from tests.integrations.paging.paging_helpers import pages
from tests.slack.slack_harness import Harness
from tests.waiting import wait_for


def page_payments(bot: Harness) -> None:
    with bot.runtime.sessions.begin() as session:
        incident = session.get(Incident, bot.incident().id)
        paging.request_page(session, incident, team="payments", pager="pagerduty", by="U01ALICE", now=bot.clock())


def worker(bot: Harness, circuit: CircuitBreaker) -> OutboxWorker:
    return OutboxWorker(
        bot.runtime.sessions,
        build_handlers(bot.deps),
        now=bot.clock,
        threads=1,
        poll_seconds=0.05,
        policy=RetryPolicy(),
        circuit=circuit,
    )


def test_a_page_goes_out_while_slacks_circuit_is_open(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    bot.declare("Checkout is failing", severity="SEV2", services=["checkout"])
    circuit = CircuitBreaker(threshold=1, cooldown_seconds=3600, clock=lambda: 0.0)
    circuit.record_failure("Slack answered 503")
    assert circuit.state == State.OPEN
    page_payments(bot)

    running = worker(bot, circuit).start()
    try:
        wait_for(lambda: pages(bot)["payments"].status == "triggered", "the page to go out while Slack is down")
        # What tells the channel waits for Slack; the circuit is still open.
        [told] = [m for m in bot.outbox(Effect.CHANNEL_MESSAGE) if m.payload.get("fact") == "page_sent"]
        assert told.status == OutboxStatus.PENDING and told.attempts == 0
        assert circuit.state == State.OPEN
    finally:
        running.stop()
    assert len(pagerduty.events("trigger")) == 1


def test_a_pager_outage_does_not_trip_slacks_circuit(bot: Harness, pagerduty: PagerDutyDouble) -> None:
    bot.declare("Checkout is failing", severity="SEV2", services=["checkout"])
    circuit = CircuitBreaker(threshold=1, cooldown_seconds=3600, clock=lambda: 0.0)
    pagerduty.outage = True
    page_payments(bot)

    running = worker(bot, circuit).start()
    try:
        wait_for(lambda: bot.outbox(Effect.PAGE_TRIGGER)[0].attempts >= 1, "a first failed attempt")
    finally:
        running.stop()
    assert circuit.state == State.CLOSED
    assert "503" in (pages(bot)["payments"].last_error or "")
