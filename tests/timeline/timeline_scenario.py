"""A scripted incident, replayed with a fixed clock so that its exports are byte-for-byte reproducible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from incidents import capture, followups, reminders, service
from incidents.notes import parse_note
from incidents.postmortem import ServiceOwner
from incidents.process import Process
from incidents.queries import get_incident

START = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 15:00 in Paris
GENERATED = START + timedelta(hours=2)
TIMEZONE = "Europe/Paris"
CHANNEL = "C0INC0001"
PEOPLE = {
    "U01ALICE": "alice",
    "U02BOB": "bob",
    "U03CAROL": "carol",
    "U04DAN": "dan",
    "U05ERIN": "erin",
}
OWNERS = {
    "checkout": ServiceOwner(
        team="Payments",
        contacts=("U03CAROL",),
        channel="#team-payments",
        runbook="https://runbooks.example.com/checkout",
    ),
}


def owners_of(service_name: str) -> ServiceOwner | None:
    return OWNERS.get(service_name)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def ts(minutes: float) -> str:
    """The Slack timestamp of a message posted `minutes` after the start."""
    return f"{at(minutes).timestamp():.6f}"


def permalink(message_ts: str) -> str:
    return f"https://example.slack.com/archives/{CHANNEL}/p{message_ts.replace('.', '')}"


def play(sessions: sessionmaker[Session], process: Process) -> None:
    """INC-1: a bad payments deploy, rolled back; told as the bot records it."""

    with sessions.begin() as s:
        inc = service.declare(
            s,
            title="Checkout is failing",
            severity="SEV2",
            reporter_id="U01ALICE",
            now=at(0),
            process=process,
            summary="Card payments fail for about a third of customers at checkout.",
            services=["checkout", "payments"],
        )
        inc.channel_id, inc.channel_name = CHANNEL, "inc-1-checkout-is-failing"
    with sessions.begin() as s:
        service.acknowledge(s, get_incident(s, 1), user_id="U02BOB", now=at(4))
    with sessions.begin() as s:
        service.assign_role(s, get_incident(s, 1), role="mitigate", user_id="U03CAROL", by="U02BOB", now=at(6))
    with sessions.begin() as s:
        capture.mark_message(
            s,
            get_incident(s, 1),
            channel=CHANNEL,
            ts=ts(5.2),
            thread_ts=None,
            author_id="U03CAROL",
            text="payments-api error rate jumped to 31% right after deploy *2026.11.21-3* &amp; p99 is 4s",
            permalink=permalink(ts(5.2)),
            mark=capture.PIN,
            now=at(8),
        )
    with sessions.begin() as s:
        service.assign_role(s, get_incident(s, 1), role="communicate", user_id="U05ERIN", by="U02BOB", now=at(9))
    with sessions.begin() as s:
        capture.mark_message(
            s,
            get_incident(s, 1),
            channel=CHANNEL,
            ts=ts(8.5),
            thread_ts=ts(5.2),
            author_id="U04DAN",
            text="Rolling back 2026.11.21-3 now.\n"
            "Watching <https://grafana.example.com/d/payments|the payments dashboard>.",
            permalink=permalink(ts(8.5)),
            mark=capture.reaction_mark("U02BOB", "pushpin"),
            now=at(9.5),
        )
    with sessions.begin() as s:
        service.post_status_update(
            s,
            get_incident(s, 1),
            text="Card payments are failing for about a third of checkouts. "
            "We are rolling back the latest payments deploy.",
            author_id="U05ERIN",
            now=at(12),
            process=process,
            impact="About 30% of card payments fail; PayPal is not affected.",
            next_steps="Roll back the deploy and watch the error rate.",
            eta="16:00 CET",
        )
    # Pinned by mistake, then unpinned: it must not appear.
    with sessions.begin() as s:
        capture.mark_message(
            s,
            get_incident(s, 1),
            channel=CHANNEL,
            ts=ts(14),
            thread_ts=None,
            author_id="U02BOB",
            text="lunch order for the war room?",
            permalink=permalink(ts(14)),
            mark=capture.PIN,
            now=at(14.5),
        )
    with sessions.begin() as s:
        capture.unmark_message(s, get_incident(s, 1), channel=CHANNEL, ts=ts(14), mark=capture.PIN, now=at(15))
    with sessions.begin() as s:
        service.change_severity(s, get_incident(s, 1), severity="SEV1", by="U02BOB", now=at(16), process=process)
    # The next update is due 30 minutes after the first one: the reminder engine nags the communicator.
    reminders.tick(sessions, now=at(42), process=process)
    with sessions.begin() as s:
        service.mark_mitigated(s, get_incident(s, 1), by="U03CAROL", now=at(45))
    with sessions.begin() as s:
        when, text = parse_note(
            "at 15:20, the rollback finished and the error rate went back under 1%",
            now=at(50),
            tz=ZoneInfo(TIMEZONE),
        )
        service.add_note(s, get_incident(s, 1), text=text, author_id="U03CAROL", now=at(50), occurred_at=when)
    with sessions.begin() as s:
        service.assign_role(s, get_incident(s, 1), role="communicate", user_id="U01ALICE", by="U05ERIN", now=at(55))
    # Still no update one interval later: the engine records the communication gap and escalates.
    reminders.tick(sessions, now=at(72), process=process)
    with sessions.begin() as s:
        service.post_status_update(
            s,
            get_incident(s, 1),
            text="Card payments work again since 15:20 CET. We are watching before closing the incident.",
            author_id="U01ALICE",
            now=at(75),
            process=process,
            impact="None since 15:20 CET.",
        )
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by="U02BOB", now=at(90), process=process)
    with sessions.begin() as s:
        inc = get_incident(s, 1)
        first = followups.add_followup(
            s,
            inc,
            text="Alert when the payments-api error rate is above 5% for 2 minutes",
            owner_id="U03CAROL",
            by="U02BOB",
            now=at(95),
        )
        followups.add_followup(
            s,
            inc,
            text="Run the payment smoke tests before a payments deploy reaches 100%",
            owner_id=None,
            by="U02BOB",
            now=at(96),
        )
        first_id = first.id
    with sessions.begin() as s:
        followups.mark_done(s, get_incident(s, 1), followup_id=first_id, by="U03CAROL", now=at(110))
