"""The outbox: side effects stored with the change that causes them, delivered at least once by workers,
claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) so that several replicas never deliver the same
message at the same time. Handlers are idempotent, so a redelivery after a crash does nothing twice.

A worker claims a batch, then renews each message's lease just before delivering it: a slow batch never lets a
lease run out under a message that is about to be delivered (another replica would otherwise claim it too).
Outcomes, raised by handlers (or by the worker for `Unavailable`):

- success: done; messages of the same incident waiting on it are woken at once;
- `RetryLater(after=)`: one more attempt counted, retried after max(after, backoff with jitter);
  dead after `max_attempts`, with the last error kept (never, for the kinds in `retry_until_delivered`);
- `PermanentFailure`: dead at once;
- `NotReady`: waits for another effect (no attempt counted), polled less often the longer it waits;
- `Unavailable`: the destination is down as a whole (the circuit breaker is open): no attempt counted.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus

log = structlog.get_logger("incidents.outbox")

WAITING = "waiting: "
UNAVAILABLE = "unavailable: "


class RetryLater(Exception):
    """A transient failure; `after` (seconds) overrides the backoff, e.g. from a Retry-After header."""

    def __init__(self, message: str, *, after: float | None = None):
        super().__init__(message)
        self.after = after


class NotReady(Exception):
    """The effect depends on another one not delivered yet (the channel does not exist yet)."""


class PermanentFailure(Exception):
    """Retrying cannot help: dead-letter at once."""


class Unavailable(Exception):
    """The destination is down as a whole: try again after `after` seconds without counting an attempt."""

    def __init__(self, message: str, *, after: float):
        super().__init__(message)
        self.after = after


Handler = Callable[[OutboxMessage], Mapping[str, Any] | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. Defaults: about 2 s, 4 s, ... up to 5 minutes between attempts, dead
    after 10 failed attempts: 7 to 14 minutes of failures that the circuit breaker did not absorb (an outage of
    Slack as a whole opens the circuit, and `Unavailable` does not count attempts)."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    max_attempts: int = 10
    not_ready_seconds: float = 2.0
    lease_seconds: float = 60.0
    # Kinds that must never be dropped for failing too often: retried (every `cap_seconds` at most) until
    # delivered, or until their handler finds them moot. Only a PermanentFailure dead-letters them.
    retry_until_delivered: frozenset[str] = frozenset({Effect.REMINDER.value, Effect.ESCALATION.value})

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff with jitter, between half and all of the ceiling (attempts counts the failure
        just recorded), so that replicas retrying together spread out."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** min(max(attempts - 1, 0), 32)))
        return rng.uniform(ceiling / 2, ceiling)

    def waiting(self, waited: timedelta) -> float:
        """Poll a waiting (NotReady) message every few seconds at first, then less often: a tenth of how long
        it has waited, up to the cap. A success of the same incident wakes it anyway."""
        return min(self.cap_seconds, max(self.not_ready_seconds, waited.total_seconds() / 10))


def enqueue(
    session: Session,
    *,
    kind: Effect,
    key: str,
    now: datetime,
    incident_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    delay: timedelta = timedelta(0),
) -> None:
    """Store an effect in the caller's transaction. The same key twice stores it once."""
    values = {
        "kind": kind.value,
        "key": key,
        "incident_id": incident_id,
        "payload": dict(payload or {}),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now + delay,
        "created_at": now,
        "result": {},
    }
    insert_new(session, [values])


_INSERT_NEW: dict[str, Any] = {}  # per dialect: the statement is built once, its rows given as parameters


def insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store outbox rows (every column given) in one statement; a key stored already keeps its row. Built once
    per dialect and executed with parameters: building and compiling an ORM insert per effect cost more than
    the insert itself, in the transaction a declaration holds its number in."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_NEW.get(dialect)
    if stmt is None:
        stmt = dialect_insert(session, OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["key"])
        _INSERT_NEW[dialect] = stmt
    session.execute(stmt, rows)


def has_pending(session: Session, *, kind: Effect, incident_id: int) -> bool:
    """A message of this kind is queued and not started yet (a new one would only repeat it)."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == kind.value,
                OutboxMessage.incident_id == incident_id,
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.attempts == 0,
                OutboxMessage.locked_until.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def request_card_refresh(session: Session, incident_id: int, *, now: datetime) -> bool:
    """Queue a redraw of the incident's card and announcement (REFRESH_CARD) in the caller's transaction, unless
    one is queued and not started yet. True when one was queued."""
    if has_pending(session, kind=Effect.REFRESH_CARD, incident_id=incident_id):
        return False
    enqueue(
        session,
        kind=Effect.REFRESH_CARD,
        key=f"refresh:{incident_id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident_id,
    )
    return True


def claim(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    limit: int,
    policy: RetryPolicy,
    kinds: Collection[str] | None = None,
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages; rows another worker holds are skipped, not waited for.

    Only `kinds` this worker can deliver are claimed: during a rolling deploy, an older replica leaves a new
    kind of effect to the replicas that know it instead of dead-lettering it."""
    token = uuid.uuid4().hex
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING.value,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
    )
    if kinds is not None:
        stmt = stmt.where(OutboxMessage.kind.in_(list(kinds)))
    stmt = stmt.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    with sessions.begin() as session:
        rows = session.scalars(stmt).all()
        for row in rows:
            row.locked_until = now + timedelta(seconds=policy.lease_seconds)
            row.claim_token = token
        return list(rows)


def renew(sessions: sessionmaker[Session], message: OutboxMessage, *, now: datetime, policy: RetryPolicy) -> bool:
    """Extend this worker's lease before delivering; False when the lease was lost (expired and taken)."""
    until = now + timedelta(seconds=policy.lease_seconds)
    with sessions.begin() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.claim_token == message.claim_token,
                OutboxMessage.status == OutboxStatus.PENDING.value,
            )
            .values(locked_until=until)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    message.locked_until = until
    return True


def release(sessions: sessionmaker[Session], messages: Collection[OutboxMessage]) -> int:
    """Hand claimed messages back untouched (shutting down, circuit open): another worker may take them now."""
    released = 0
    with sessions.begin() as session:
        for message in messages:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == message.claim_token)
                .values(locked_until=None, claim_token=None)
            )
            released += result.rowcount  # type: ignore[attr-defined]
    return released


def settle(
    sessions: sessionmaker[Session],
    message: OutboxMessage,
    *,
    now: datetime,
    error: BaseException | None,
    result: Mapping[str, Any] | None,
    policy: RetryPolicy,
    rng: random.Random,
) -> str:
    """Record how a delivery went, only if this worker still holds the lease. Returns the new status, or
    "lost" when another worker took the message meanwhile (its outcome wins)."""
    values: dict[str, Any] = {"locked_until": None, "claim_token": None}
    if error is None:
        values |= {"status": OutboxStatus.DONE.value, "delivered_at": now, "result": dict(result or {})}
        values["last_error"] = None
    elif isinstance(error, NotReady):
        waited = now - message.created_at
        values |= {"next_attempt_at": now + timedelta(seconds=policy.waiting(waited))}
        values["last_error"] = f"{WAITING}{error}"[:2000]
    elif isinstance(error, Unavailable):
        values |= {"next_attempt_at": now + timedelta(seconds=max(error.after, 0.0))}
        values["last_error"] = f"{UNAVAILABLE}{error}"[:2000]
    else:
        attempts = message.attempts + 1
        values |= {"attempts": attempts, "last_error": _describe(error)[:2000]}
        capped = message.kind not in policy.retry_until_delivered
        if isinstance(error, PermanentFailure) or (capped and attempts >= policy.max_attempts):
            values["status"] = OutboxStatus.DEAD.value
        else:
            after = error.after if isinstance(error, RetryLater) and error.after else 0.0
            delay = max(after, policy.backoff(attempts, rng))
            values["next_attempt_at"] = now + timedelta(seconds=delay)
    with sessions.begin() as session:
        applied = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == message.claim_token)
            .values(**values)
        ).rowcount  # type: ignore[attr-defined]
        if applied and error is None and message.incident_id is not None:
            wake_waiting(session, incident_id=message.incident_id, now=now)
    if not applied:
        return "lost"
    return values.get("status", OutboxStatus.PENDING.value)


def wake_waiting(session: Session, *, incident_id: int, now: datetime) -> None:
    """Messages of this incident waiting on another effect become due now (that effect may be the one)."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.incident_id == incident_id,
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.next_attempt_at > now,
            OutboxMessage.last_error.like(f"{WAITING}%"),
        )
        .values(next_attempt_at=now)
    )


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, RetryLater | PermanentFailure) else f"{type(error).__name__}: {text}"


def deliver_due(
    sessions: sessionmaker[Session],
    handlers: Mapping[str, Handler],
    *,
    now: Callable[[], datetime],
    limit: int = 20,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    observe: Callable[[OutboxMessage, str], None] | None = None,
) -> dict[str, int]:
    """Claim due messages and deliver them one by one. Returns counts by outcome.

    `keep_going` is asked before each delivery: when it says no (shutting down, circuit open), the messages
    not delivered yet are released at once rather than left to their lease. `observe(message, outcome)` is told
    each outcome (done, retry, waiting, unavailable, dead, lost), for metrics."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    counts = {"done": 0, "pending": 0, "dead": 0}
    claimed = claim(sessions, now=now(), limit=limit, policy=policy, kinds=handlers.keys())
    for index, message in enumerate(claimed):
        if not keep_going():
            counts["released"] = release(sessions, claimed[index:])
            break
        if not _lease_is_fresh(message, now(), policy) and not renew(sessions, message, now=now(), policy=policy):
            counts["lost"] = counts.get("lost", 0) + 1
            if observe is not None:
                observe(message, "lost")
            continue
        handler = handlers.get(message.kind)
        error: BaseException | None = None
        result: Mapping[str, Any] | None = None
        if handler is None:
            error = PermanentFailure(f"no handler for effect {message.kind!r}")
        else:
            try:
                with (
                    structlog.contextvars.bound_contextvars(
                        outbox_id=message.id, effect=message.kind, incident_id=message.incident_id
                    ),
                    _Heartbeat(sessions, message, now=now, policy=policy),
                ):
                    result = handler(message)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
                error = exc
        status = settle(sessions, message, now=now(), error=error, result=result, policy=policy, rng=rng)
        counts[status] = counts.get(status, 0) + 1
        _log_outcome(message, status, error)
        if observe is not None:
            observe(message, outcome(status, error))
    return counts


class _Heartbeat:
    """Renews the lease every third of its length while a handler runs, so that a slow delivery (Slack slow to
    answer several calls in a row) is never claimed by another worker midway. A crashed process stops renewing,
    and its messages are claimed again one lease later."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        message: OutboxMessage,
        *,
        now: Callable[[], datetime],
        policy: RetryPolicy,
    ):
        self.args = (sessions, message)
        self.now = now
        self.policy = policy
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"lease-{message.id}", daemon=True)

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(self.policy.lease_seconds / 3):
            try:
                if not renew(*self.args, now=self.now(), policy=self.policy):
                    return
            except Exception:  # the next beat tries again; the delivery goes on
                log.warning("outbox.lease_renewal_failed", outbox_id=self.args[1].id, exc_info=True)


def _lease_is_fresh(message: OutboxMessage, now: datetime, policy: RetryPolicy) -> bool:
    """More than half the lease left (just claimed): no need to renew it."""
    left = (message.locked_until - now).total_seconds() if message.locked_until else 0.0
    return left > policy.lease_seconds / 2


def outcome(status: str, error: BaseException | None) -> str:
    """A delivery's outcome in one word: done, retry, waiting, unavailable, dead or lost."""
    if status != OutboxStatus.PENDING:
        return status
    if isinstance(error, NotReady):
        return "waiting"
    if isinstance(error, Unavailable):
        return "unavailable"
    return "retry"


def _log_outcome(message: OutboxMessage, status: str, error: BaseException | None) -> None:
    fields = {"outbox_id": message.id, "kind": message.kind, "incident_id": message.incident_id}
    if status == OutboxStatus.DEAD:
        log.warning(
            "outbox.dead_letter", attempts=message.attempts + 1, error=_describe(error or Exception()), **fields
        )
    elif status == "lost":
        log.warning("outbox.lease_lost", **fields)
    elif error is not None and not isinstance(error, NotReady | Unavailable):
        log.info("outbox.retry_scheduled", attempts=message.attempts + 1, error=_describe(error), **fields)
