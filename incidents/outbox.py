"""The outbox: side effects stored with the change that causes them, delivered at least once by workers,
claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) so that several replicas never deliver the same
message at the same time. Handlers are idempotent, so a redelivery after a crash does nothing twice."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus


class RetryLater(Exception):
    """A transient failure; `after` (seconds) overrides the backoff, e.g. from a Retry-After header."""

    def __init__(self, message: str, *, after: float | None = None):
        super().__init__(message)
        self.after = after


class NotReady(Exception):
    """The effect depends on another one not delivered yet (the channel does not exist yet)."""


class PermanentFailure(Exception):
    """Retrying cannot help: dead-letter at once."""


Handler = Callable[[OutboxMessage], Mapping[str, Any] | None]


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    max_attempts: int = 8
    not_ready_seconds: float = 2.0
    lease_seconds: float = 60.0

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter (attempts counts the failure just recorded)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(attempts - 1, 0)))
        return rng.uniform(ceiling / 2, ceiling)


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def has_pending(session: Session, *, kind: Effect, incident_id: int) -> bool:
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


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str


def claim(sessions: sessionmaker[Session], *, now: datetime, limit: int, policy: RetryPolicy) -> list[OutboxMessage]:
    """Lease up to `limit` due messages; rows another worker holds are skipped, not waited for."""
    token = uuid.uuid4().hex
    with sessions() as session, session.begin():
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.locked_until = now + timedelta(seconds=policy.lease_seconds)
            row.claim_token = token
        return list(rows)


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
    """Record how a delivery went, only if this worker still holds the lease. Returns the new status."""
    values: dict[str, Any] = {"locked_until": None, "claim_token": None}
    if error is None:
        values |= {"status": OutboxStatus.DONE.value, "delivered_at": now, "result": dict(result or {})}
        values["last_error"] = None
    elif isinstance(error, NotReady):
        values |= {"next_attempt_at": now + timedelta(seconds=policy.not_ready_seconds)}
        values["last_error"] = f"waiting: {error}"
    else:
        attempts = message.attempts + 1
        values |= {"attempts": attempts, "last_error": _describe(error)[:2000]}
        if isinstance(error, PermanentFailure) or attempts >= policy.max_attempts:
            values["status"] = OutboxStatus.DEAD.value
        else:
            after = error.after if isinstance(error, RetryLater) and error.after else None
            delay = max(after or 0.0, policy.backoff(attempts, rng))
            values["next_attempt_at"] = now + timedelta(seconds=delay)
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == message.claim_token)
            .values(**values)
        )
    return values.get("status", OutboxStatus.PENDING.value)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, RetryLater | PermanentFailure) else f"{type(error).__name__}: {text}"


def deliver_due(
    sessions: sessionmaker[Session],
    handlers: Mapping[str, Handler],
    *,
    now: Callable[[], datetime],
    limit: int = 20,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Claim due messages and deliver them one by one. Returns counts by outcome."""
    rng = rng or random.Random()
    counts = {"done": 0, "pending": 0, "dead": 0}
    for message in claim(sessions, now=now(), limit=limit, policy=policy):
        handler = handlers.get(message.kind)
        error: BaseException | None = None
        result: Mapping[str, Any] | None = None
        if handler is None:
            error = PermanentFailure(f"no handler for effect {message.kind!r}")
        else:
            try:
                result = handler(message)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
                error = exc
        status = settle(sessions, message, now=now(), error=error, result=result, policy=policy, rng=rng)
        counts[status] = counts.get(status, 0) + 1
    return counts
