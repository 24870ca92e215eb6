"""Several schedulers on one database (threads, each with its own engine and connections; on PostgreSQL for
real when TEST_DATABASE_URL is set): each open ticket due is claimed once per TICKET_SYNC_SECONDS, never by two
schedulers (FOR UPDATE SKIP LOCKED, moved on in the claiming transaction)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from incidents import db, followups, service, tickets
from incidents.effects import Effect
from incidents.models import OutboxMessage
from incidents.process import Process
from incidents.tickets import Destination, Seen
from tests.waiting import run_together

TICKETS = 30
DONE = 5
SCHEDULERS = 6
EVERY = timedelta(minutes=5)


def open_tickets(sessions, now) -> None:  # type: ignore[no-untyped-def]
    process = Process()
    with sessions.begin() as s:
        incident = service.declare(s, title="Outage", severity="SEV2", reporter_id="U1", now=now, process=process)
        for n in range(TICKETS + DONE):
            followup = followups.add_followup(s, incident, text=f"action {n}", owner_id=None, by="U1", now=now)
            asked = tickets.request_ticket(
                s, incident, followup_id=followup.id, destination=Destination("jira", "OPS"), by="U1", now=now
            )
            seen = Seen(key=f"OPS-{n + 1}", external_id=str(n), url="u", status="To Do", done=n >= TICKETS)
            tickets.record_created(s, asked.ticket.id, seen=seen, key=f"created:{n}", now=now, sync_every=EVERY)


def test_concurrent_schedulers_claim_each_due_ticket_once_per_period(database_url, now) -> None:  # type: ignore[no-untyped-def]
    engine = db.make_engine(database_url)
    sessions = db.make_session_factory(engine)
    try:
        open_tickets(sessions, now)
        claimed: list[int] = []
        lock = threading.Lock()

        def work(_index: int) -> None:
            own = db.make_engine(database_url)
            own_sessions = db.make_session_factory(own)
            try:
                for second in range(0, 60, 10):  # the same period: only the first claim of each ticket counts
                    moment = now + EVERY + timedelta(seconds=second)
                    while True:
                        with own_sessions.begin() as s:
                            got = tickets.claim_due(s, now=moment, sync_every=EVERY, limit=4)
                        with lock:
                            claimed.append(got)
                        if got < 4:
                            break
            finally:
                own.dispose()

        run_together(SCHEDULERS, work)
        assert sum(claimed) == TICKETS  # each open ticket once; the done ones not at all
        with sessions() as s:
            per_ticket = s.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == Effect.TICKET_SYNC.value)
            ).scalar()
        assert per_ticket == TICKETS

        with sessions.begin() as s:  # the next period claims them again
            assert tickets.claim_due(s, now=now + 2 * EVERY + timedelta(minutes=1), sync_every=EVERY) == TICKETS
    finally:
        engine.dispose()
