"""Slack messages people mark as important (a pin, or a reaction with the capture emoji) land on the timeline.

A message is stored once however many times it is marked: one `TimelineEvent` (kind MESSAGE, source_key
`msg:<channel>:<ts>`) dated with the message's own time, and one `MessageMark` row per mark (`pin`, or
`reaction:<user>:<emoji>`). Removing the last mark hides the entry (`removed_at`); marking it again restores it.
Every write is idempotent, so a retried Slack event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from incidents.db import dialect_insert
from incidents.errors import InvalidInput
from incidents.models import Incident, MessageMark, SeenRequest, TimelineEvent
from incidents.timeline import EventKind

PIN = "pin"
TEXT_LIMIT = 4000


def reaction_mark(user_id: str, emoji: str) -> str:
    return f"reaction:{user_id}:{emoji}"


def source_key(channel: str, ts: str) -> str:
    return f"msg:{channel}:{ts}"


def message_time(ts: str) -> datetime:
    """A Slack message timestamp (`1763733900.000200`, seconds since the epoch) as an aware UTC datetime."""
    try:
        seconds = Decimal(ts)
    except InvalidOperation:
        raise InvalidInput(f"{ts!r} is not a Slack message timestamp.") from None
    return datetime.fromtimestamp(float(seconds), tz=UTC)


@dataclass(frozen=True)
class Marked:
    event: TimelineEvent | None  # None when the mark was already undone (see `marked_at`)
    changed: bool  # False when the message was already on the timeline with this very mark


def mark_message(
    session: Session,
    incident: Incident,
    *,
    channel: str,
    ts: str,
    thread_ts: str | None,
    author_id: str | None,
    text: str,
    permalink: str | None,
    mark: str,
    now: datetime,
    marked_at: datetime | None = None,
) -> Marked:
    """Put a marked message on the timeline (or restore it), and remember who marked it and how.

    `marked_at` is when the mark was made (the Slack event's time): a mark whose removal, made later, was
    handled first (events can arrive out of order, and are handled in parallel) is not applied."""
    key = source_key(channel, ts)
    if marked_at is not None and _undone_since(session, incident, key, mark, marked_at):
        return Marked(None, False)
    occurred_at = message_time(ts)
    event = _event(session, incident, key)
    if event is None:
        _insert_ignoring_duplicates(
            session,
            TimelineEvent,
            {
                "incident_id": incident.id,
                "kind": EventKind.MESSAGE.value,
                "actor_id": author_id,
                "text": _clip(text),
                "occurred_at": occurred_at,
                "recorded_at": now,
                "source": _link(permalink),
                "source_key": key,
                "data": _data(channel, ts, thread_ts, author_id, permalink),
            },
            ["incident_id", "source_key"],
        )
        event = _event(session, incident, key)
        assert event is not None  # inserted just now, or by a concurrent request
    changed = False
    if event.removed_at is not None:
        # Back on the timeline; refresh what we know of it (the message may have been edited meanwhile).
        event.removed_at = None
        event.text = _clip(text)
        event.source = _link(permalink) or event.source
        event.data = _data(channel, ts, thread_ts, author_id, permalink or event.source)
        changed = True
    if _has_mark(session, event.id, mark):
        return Marked(event, changed)
    _insert_ignoring_duplicates(session, MessageMark, {"event_id": event.id, "mark": mark}, ["event_id", "mark"])
    return Marked(event, True)


def unmark_message(
    session: Session,
    incident: Incident,
    *,
    channel: str,
    ts: str,
    mark: str,
    now: datetime,
    unmarked_at: datetime | None = None,
) -> bool:
    """Forget one mark. Returns True when it was the last one and the message left the timeline.

    An unmark for a message not marked (yet) does nothing, but with `unmarked_at` it is remembered, so that
    the mark, if it is handled later, is not applied."""
    key = source_key(channel, ts)
    if unmarked_at is not None:
        _remember_undone(session, incident, key, mark, unmarked_at)
    event = _event(session, incident, key)
    if event is None:
        return False
    session.execute(delete(MessageMark).where(MessageMark.event_id == event.id, MessageMark.mark == mark))
    remaining = session.scalar(select(func.count()).select_from(MessageMark).where(MessageMark.event_id == event.id))
    if remaining or event.removed_at is not None:
        return False
    event.removed_at = now
    return True


def first_delivery(session: Session, key: str, *, now: datetime) -> bool:
    """Remember an inbound request (a Slack event id, a view id) in the caller's transaction; False when it was seen.

    Marks are idempotent on their own, but a late retry of `reaction_added` arriving after `reaction_removed`
    would put the mark back: skipping retries of handled events keeps the order Slack first gave."""
    # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT ... ON CONFLICT DO NOTHING.
    stmt = (
        dialect_insert(session, SeenRequest)
        .values(key=key, seen_at=now)
        .on_conflict_do_nothing()
        .returning(SeenRequest.key)
    )
    return session.execute(stmt).first() is not None


def marks_of(session: Session, event: TimelineEvent) -> list[str]:
    return list(session.scalars(select(MessageMark.mark).where(MessageMark.event_id == event.id).order_by("mark")))


def is_message_marked(session: Session, incident: Incident, *, channel: str, ts: str) -> bool:
    event = _event(session, incident, source_key(channel, ts))
    return event is not None and event.removed_at is None


def _undone_key(incident: Incident, key: str, mark: str) -> str:
    return f"unmark:{incident.id}:{key}:{mark}"[:255]


def _remember_undone(session: Session, incident: Incident, key: str, mark: str, at: datetime) -> None:
    """Keep the latest removal time of this mark (in seen_requests, pruned with them: it matters for seconds)."""
    stmt = dialect_insert(session, SeenRequest).values(key=_undone_key(incident, key, mark), seen_at=at)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"seen_at": stmt.excluded.seen_at}, where=SeenRequest.seen_at < at
        )
    )


def _undone_since(session: Session, incident: Incident, key: str, mark: str, marked_at: datetime) -> bool:
    undone = session.scalar(select(SeenRequest.seen_at).where(SeenRequest.key == _undone_key(incident, key, mark)))
    return undone is not None and undone >= marked_at


def _event(session: Session, incident: Incident, key: str) -> TimelineEvent | None:
    return session.scalar(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.source_key == key)
        .execution_options(populate_existing=True)
    )


def _has_mark(session: Session, event_id: int, mark: str) -> bool:
    stmt = select(MessageMark.id).where(MessageMark.event_id == event_id, MessageMark.mark == mark)
    return session.scalar(stmt) is not None


def _insert_ignoring_duplicates(session: Session, model: type, values: dict, keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two replicas handling the same mark at once store it once."""
    session.execute(dialect_insert(session, model).values(**values).on_conflict_do_nothing(index_elements=keys))


def _data(channel: str, ts: str, thread_ts: str | None, author_id: str | None, permalink: str | None) -> dict:
    data: dict = {"channel": channel, "ts": ts, "author_id": author_id, "permalink": permalink}
    if thread_ts and thread_ts != ts:
        data["thread_ts"] = thread_ts  # a reply in a thread
    return data


def _link(permalink: str | None) -> str | None:
    return permalink if permalink and len(permalink) <= 500 else None


def _clip(text: str) -> str:
    text = (text or "").strip()
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
