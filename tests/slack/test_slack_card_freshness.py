"""The card and the announcement end up showing the incident as it is, whatever order Slack answers in: redraws of
one incident never run at once, each renders what the database holds when it sends and draws again if the
incident changed meanwhile, and an announcement posted from an older snapshot is redrawn."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.delivery.worker import OutboxWorker
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus
from incidents.outbox import RetryPolicy, claim, deliver_due
from tests.slack.slack_harness import Callback, Harness, blocks_text
from tests.waiting import wait_for


def refreshes(harness: Harness) -> list[OutboxMessage]:
    return harness.outbox(Effect.REFRESH_CARD)


def leased(harness: Harness) -> bool:
    return any(m.locked_until is not None and m.status == OutboxStatus.PENDING for m in refreshes(harness))


def nothing_left(harness: Harness) -> bool:
    return all(m.status != OutboxStatus.PENDING for m in harness.outbox())


def command(harness: Harness, text: str, channel: str) -> None:
    harness.command(text, channel=channel, settle=False)
    assert harness.app.listener_runner.listener_executor.wait_idle(10)


def test_an_older_redraw_answered_late_never_leaves_the_card_behind(harness: Harness) -> None:
    """Four delivery threads; Slack answers the first card update a second late, after a newer change."""
    incident = harness.declare("Checkout is failing", "SEV2")
    deferred: list[int] = []
    handler = harness.handlers[Effect.REFRESH_CARD]

    def refresh(message: OutboxMessage):  # type: ignore[no-untyped-def]
        try:
            return handler(message)
        except Exception:
            deferred.append(message.id)
            raise

    worker = OutboxWorker(
        harness.runtime.sessions,
        {**harness.handlers, Effect.REFRESH_CARD: refresh},
        now=harness.clock,
        threads=4,
        poll_seconds=0.05,
        policy=RetryPolicy(),
    ).start()
    try:
        harness.workspace.faults.fail("chat.update", delay=1.0)  # the first redraw's card update is slow
        command(harness, "sev SEV1", incident.channel_id)
        worker.wake()
        wait_for(lambda: not harness.workspace.faults.pending(), "Slack to sit on that update")
        command(harness, "mitigated", incident.channel_id)  # a second redraw is queued meanwhile
        worker.wake()
        wait_for(lambda: nothing_left(harness) and not leased(harness), "every redraw to be settled")
    finally:
        worker.stop()
    card, announcement = blocks_text(harness.card().blocks), blocks_text(harness.announcement().blocks)
    assert "*Severity*\nSEV1" in card and ":large_blue_circle: Mitigated" in card
    assert "SEV1" in announcement and "Mitigated" in announcement
    assert len(refreshes(harness)) == 2 and deferred, "the newer redraw waited for the older one"


def test_a_redraw_waits_while_an_older_one_of_the_same_incident_is_under_way(harness: Harness) -> None:
    incident = harness.declare()
    command(harness, "sev SEV1", incident.channel_id)
    harness.clock.advance(seconds=1)
    [first] = claim(
        harness.runtime.sessions, now=harness.clock(), limit=1, policy=RetryPolicy(), kinds=[Effect.REFRESH_CARD.value]
    )  # another delivery holds it
    command(harness, "mitigated", incident.channel_id)
    updates = len(harness.calls("chat.update"))
    counts = deliver_due(
        harness.runtime.sessions, {Effect.REFRESH_CARD: harness.handlers[Effect.REFRESH_CARD]}, now=harness.clock
    )
    assert counts == {"done": 0, "pending": 1, "dead": 0}  # waiting, no attempt counted
    assert len(harness.calls("chat.update")) == updates
    with harness.runtime.sessions() as session:
        second = session.scalar(
            select(OutboxMessage).where(OutboxMessage.id > first.id, OutboxMessage.kind == Effect.REFRESH_CARD.value)
        )
    assert second is not None and second.attempts == 0 and second.last_error.startswith("waiting: ")


def test_an_announcement_posted_from_an_older_snapshot_is_redrawn(harness: Harness) -> None:
    """The card is posted, Slack is slow to pin it, the severity changes and the card is redrawn before the
    announcement exists: the announcement, posted from the snapshot, is redrawn once it is recorded."""
    harness.workspace.faults.fail("pins.add", delay=1.0)
    harness.command("declare")
    view = harness.open_view("U01ALICE", Callback.DECLARE)
    harness.submit(view.id, {"declare_title": "Checkout is failing", "declare_severity": "SEV2"}, settle=False)
    assert harness.app.listener_runner.listener_executor.wait_idle(10)
    only = lambda kind: {kind: harness.handlers[kind]}  # noqa: E731
    setup = threading.Thread(
        target=deliver_due, args=(harness.runtime.sessions, only(Effect.OPEN_CHANNEL)), kwargs={"now": harness.clock}
    )
    setup.start()
    wait_for(lambda: not harness.workspace.faults.pending(), "the card posted and its pinning under way")
    command(harness, "sev SEV1", harness.incident().channel_id)
    deliver_due(harness.runtime.sessions, only(Effect.REFRESH_CARD), now=harness.clock)
    assert "SEV1" in blocks_text(harness.card().blocks)
    setup.join(10)
    harness.settle()
    assert "SEV1" in blocks_text(harness.announcement().blocks)
    assert "SEV1" in harness.announcement().text
