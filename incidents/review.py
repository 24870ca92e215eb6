"""The post-mortem review meeting: asked for when an incident is resolved, scheduled (and rescheduled) for a
date and time, or waived with a reason; the reminders the scheduler sends for it.

The review lives on one `review_meetings` row per incident (never in scheduler jobs): its status, its time, and
`next_action_at`, the one instant the scheduler must look again. `tick()` claims due rows with
`FOR UPDATE SKIP LOCKED` (SQLite serializes writers), acts and moves `next_action_at` in the same transaction,
and the outbox keys name the review, its sequence and the step, so each reminder is sent once across replicas:

    scheduled   the day before (`starts_at - 1 day`), then 15 minutes before; a tick that comes late sends only
                the most urgent one still ahead, and none once the review has started
    awaiting    after the deadline (REVIEW_WITHIN_WORKING_DAYS working days after resolve), the incident lead
                is reminded to schedule it at 09:00 on each working day until it is scheduled or waived; not
                while the incident is reopened (resolving it again resumes)

Rescheduling keeps the calendar event's `uid` and bumps its `sequence`; waiving a scheduled review sends a
cancellation of the event. Words are chosen at the edge (app/slack/blocks/review.py, app/postmortem/invite.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from incidents import outbox
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition
from incidents.models import Incident, ReviewMeeting, ReviewStatus, Role
from incidents.process import Process
from incidents.review_time import deadline, is_working_day, next_working_morning
from incidents.timeline import EventKind, record

DAY_BEFORE = timedelta(days=1)
SOON = timedelta(minutes=15)
HORIZON = timedelta(days=366)  # a review further ahead than this is a typo
REASON_MAX = 500


class Message:
    """What a REVIEW_MESSAGE says (its payload's `message`)."""

    ASKED = "asked"  # on resolve: schedule the review by the deadline
    DAY_BEFORE = "day_before"
    SOON = "soon"  # 15 minutes before
    UNSCHEDULED = "unscheduled"  # past the deadline: the lead is asked again
    WAIVED = "waived"


@dataclass(frozen=True)
class TickResult:
    examined: int = 0
    reminders: int = 0
    nags: int = 0

    @property
    def sent(self) -> int:
        return self.reminders + self.nags

    def __add__(self, other: TickResult) -> TickResult:
        return TickResult(self.examined + other.examined, self.reminders + other.reminders, self.nags + other.nags)


# --- reading ------------------------------------------------------------------------------------------------


def review_of(session: Session, incident: Incident, *, for_update: bool = False) -> ReviewMeeting | None:
    stmt = select(ReviewMeeting).where(ReviewMeeting.incident_id == incident.id)
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def ends_at(review: ReviewMeeting) -> datetime | None:
    return None if review.starts_at is None else review.starts_at + timedelta(minutes=review.duration_minutes)


def lead_of(incident: Incident) -> str | None:
    """Who is asked to schedule the review: the incident lead (the acknowledge role), else the reporter."""
    return incident.holder(Role.ACKNOWLEDGE) or incident.reporter_id or None


@dataclass(frozen=True)
class ReviewSummary:
    """The review as the post-mortem draft shows it."""

    status: str  # awaiting | scheduled | waived
    deadline_at: datetime
    starts_at: datetime | None
    ends_at: datetime | None
    scheduled_by: str | None
    reschedules: int  # how many times it was moved
    waived_by: str | None
    waived_reason: str | None


def summary(session: Session, incident: Incident) -> ReviewSummary | None:
    review = review_of(session, incident)
    if review is None:
        return None
    return ReviewSummary(
        status=review.status,
        deadline_at=review.deadline_at,
        starts_at=review.starts_at,
        ends_at=ends_at(review),
        scheduled_by=review.scheduled_by,
        reschedules=review.sequence,
        waived_by=review.waived_by,
        waived_reason=review.waived_reason,
    )


# --- use cases ----------------------------------------------------------------------------------------------


def request_on_resolve(session: Session, incident: Incident, *, now: datetime, process: Process) -> None:
    """Resolving asks the lead to schedule the review (once per incident); resolving again after a reopen
    resumes the reminders of a review still unscheduled. Nothing when REVIEW_WITHIN_WORKING_DAYS is 0."""
    if process.review_within_working_days <= 0:
        return
    review = review_of(session, incident, for_update=True)
    if review is not None:
        if review.status == ReviewStatus.AWAITING:
            review.next_action_at = _first_nag(review, process, now=now)
            review.updated_at = now
        return
    review = _new(session, incident, now=now, process=process)
    _say(session, incident, review, Message.ASKED, now=now, key="asked", lead=lead_of(incident))


def schedule(
    session: Session, incident: Incident, *, starts_at: datetime, by: str, now: datetime, process: Process
) -> tuple[ReviewMeeting, bool]:
    """Schedule the review (or move it) to `starts_at`: recorded on the timeline, announced in the channel with
    a calendar invite. Returns the review and whether it changed (the same time again changes nothing)."""
    if starts_at <= now:
        raise InvalidInput("That time is in the past: give a time still ahead.")
    if starts_at > now + HORIZON:
        raise InvalidInput("That is more than a year away: give a time within the next year.")
    review = review_of(session, incident, for_update=True) or _new(session, incident, now=now, process=process)
    if review.status == ReviewStatus.SCHEDULED and review.starts_at == starts_at:
        return review, False
    previous = review.starts_at if review.status == ReviewStatus.SCHEDULED else None
    if review.starts_at is not None:  # an invite (or its cancellation) went out: this one supersedes it
        review.sequence += 1
    review.status = ReviewStatus.SCHEDULED.value
    review.starts_at = starts_at
    review.duration_minutes = process.review_minutes
    review.scheduled_by, review.scheduled_at = by, now
    review.organizer_id = review.organizer_id or by  # the first stays the organizer of every later version
    review.waived_by = review.waived_at = review.waived_reason = None
    review.reminder_stage = _stage_reached(starts_at, now)
    review.next_action_at = _next_reminder(review)
    review.updated_at = now
    record(
        session,
        incident,
        EventKind.REVIEW_SCHEDULED,
        "",
        now=now,
        actor_id=by,
        data={
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at(review).isoformat(),  # type: ignore[union-attr]
            "sequence": review.sequence,
            "previous_starts_at": previous.isoformat() if previous else None,
        },
    )
    _invite(session, incident, review, by=by, now=now, cancel=False, rescheduled=previous is not None)
    return review, True


def waive(session: Session, incident: Incident, *, reason: str, by: str, now: datetime, process: Process) -> bool:
    """No review (or not the one scheduled), for a reason that is recorded. A scheduled review's calendar event
    is cancelled. Returns whether a scheduled review was called off."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Say why there will be no review: `review waive <reason>`.")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"The reason is {len(reason)} characters long; keep it under {REASON_MAX}.")
    review = review_of(session, incident, for_update=True) or _new(session, incident, now=now, process=process)
    if review.status == ReviewStatus.WAIVED:
        raise InvalidTransition(
            f"The review of {incident.ref} was already waived: {review.waived_reason}. "
            "Schedule it with `review <date and time>` if it is needed after all."
        )
    was = review.starts_at if review.status == ReviewStatus.SCHEDULED else None
    review.status = ReviewStatus.WAIVED.value
    review.waived_by, review.waived_at, review.waived_reason = by, now, reason
    review.next_action_at = None
    review.updated_at = now
    record(
        session,
        incident,
        EventKind.REVIEW_WAIVED,
        reason,
        now=now,
        actor_id=by,
        data={"was_scheduled_for": was.isoformat() if was else None},
    )
    if was is not None:
        review.sequence += 1
        _invite(session, incident, review, by=by, now=now, cancel=True, rescheduled=False)
    else:
        _say(session, incident, review, Message.WAIVED, now=now, key=f"waived:{now.isoformat()}", by=by, reason=reason)
    return was is not None


# --- the scheduler's tick -----------------------------------------------------------------------------------


def tick(sessions: sessionmaker[Session], *, now: datetime, process: Process, batch: int = 100) -> TickResult:
    """Act on every review whose next action is due, `batch` reviews per transaction."""
    total = TickResult()
    while True:
        with sessions.begin() as session:
            result = tick_batch(session, now=now, process=process, limit=batch)
        total += result
        if result.examined < batch:
            return total


def tick_batch(session: Session, *, now: datetime, process: Process, limit: int) -> TickResult:
    """Claim up to `limit` due reviews (rows another scheduler holds are skipped), act, move their next action."""
    reviews = session.scalars(
        select(ReviewMeeting)
        .where(ReviewMeeting.next_action_at <= now)
        .order_by(ReviewMeeting.next_action_at, ReviewMeeting.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not reviews:
        return TickResult()
    incidents = {
        i.id: i
        for i in session.scalars(
            select(Incident)
            .where(Incident.id.in_([r.incident_id for r in reviews]))
            .options(selectinload(Incident.roles))
        )
    }
    reminders = nags = 0
    for review in reviews:
        incident = incidents[review.incident_id]
        if review.status == ReviewStatus.SCHEDULED:
            reminders += _remind(session, incident, review, now=now)
        elif review.status == ReviewStatus.AWAITING:
            nags += _nag(session, incident, review, now=now, process=process)
        else:
            review.next_action_at = None
        review.updated_at = now
    return TickResult(len(reviews), reminders, nags)


def _remind(session: Session, incident: Incident, review: ReviewMeeting, *, now: datetime) -> bool:
    """The most urgent reminder now due and not sent yet (none once the review started)."""
    assert review.starts_at is not None
    reached = _stage_reached(review.starts_at, now)
    sent = False
    if reached > review.reminder_stage and now < review.starts_at:
        step = Message.SOON if reached == 2 else Message.DAY_BEFORE
        fact = {"stage": step, "starts_at": review.starts_at.isoformat(), "sequence": review.sequence}
        record(session, incident, EventKind.REVIEW_REMINDED, "", now=now, data=fact)
        _say(session, incident, review, step, now=now, key=f"{review.sequence}:{step}", **fact)
        sent = True
    review.reminder_stage = max(reached, review.reminder_stage)
    review.next_action_at = _next_reminder(review)
    return sent


def _nag(session: Session, incident: Incident, review: ReviewMeeting, *, now: datetime, process: Process) -> bool:
    """Past the deadline, on a working day, with the incident resolved: remind the lead once today."""
    tz = ZoneInfo(process.timezone)
    if incident.is_open:
        review.next_action_at = None  # resolving again resumes (request_on_resolve)
        return False
    if now < review.deadline_at or not is_working_day(now.astimezone(tz).date()):
        review.next_action_at = _first_nag(review, process, now=now)
        return False
    review.next_action_at = next_working_morning(now, tz=tz)
    review.nags += 1
    lead = lead_of(incident)
    fact = {"stage": Message.UNSCHEDULED, "lead": lead, "deadline_at": review.deadline_at.isoformat()}
    record(session, incident, EventKind.REVIEW_REMINDED, "", now=now, data=fact | {"nags": review.nags})
    _say(session, incident, review, Message.UNSCHEDULED, now=now, key=f"nag:{review.nags}", **fact)
    return True


def still_due(review: ReviewMeeting, payload: Mapping[str, Any], *, now: datetime) -> bool:
    """A reminder delivered late (after retries) is moot once the review was moved, waived, scheduled (for a
    nag) or has started: the handler skips it."""
    message = payload.get("message")
    if message in (Message.DAY_BEFORE, Message.SOON):
        return (
            review.status == ReviewStatus.SCHEDULED
            and review.sequence == payload.get("sequence")
            and review.starts_at is not None
            and now < review.starts_at
        )
    if message in (Message.ASKED, Message.UNSCHEDULED):
        return review.status == ReviewStatus.AWAITING
    return True


# --- helpers ------------------------------------------------------------------------------------------------


def _new(session: Session, incident: Incident, *, now: datetime, process: Process) -> ReviewMeeting:
    tz = ZoneInfo(process.timezone)
    review = ReviewMeeting(
        incident_id=incident.id,
        status=ReviewStatus.AWAITING.value,
        uid=f"review-{incident.ref.lower()}-{uuid.uuid4().hex}@incident-bot",
        requested_at=now,
        deadline_at=deadline(now, working_days=max(process.review_within_working_days, 0), tz=tz),
        duration_minutes=process.review_minutes,
        sequence=0,
        reminder_stage=0,
        nags=0,
        updated_at=now,
    )
    review.next_action_at = _first_nag(review, process, now=now) if not incident.is_open else None
    session.add(review)
    session.flush()
    return review


def _first_nag(review: ReviewMeeting, process: Process, *, now: datetime) -> datetime:
    tz = ZoneInfo(process.timezone)
    return next_working_morning(max(review.deadline_at, now), tz=tz)


def _stage_reached(starts_at: datetime, now: datetime) -> int:
    """0: more than a day ahead; 1: within a day; 2: within 15 minutes (or started)."""
    if now >= starts_at - SOON:
        return 2
    if now >= starts_at - DAY_BEFORE:
        return 1
    return 0


def _next_reminder(review: ReviewMeeting) -> datetime | None:
    assert review.starts_at is not None
    if review.reminder_stage == 0:
        return review.starts_at - DAY_BEFORE
    if review.reminder_stage == 1:
        return review.starts_at - SOON
    return None


def _say(
    session: Session, incident: Incident, review: ReviewMeeting, message: str, *, now: datetime, key: str, **fields: Any
) -> None:
    outbox.enqueue(
        session,
        kind=Effect.REVIEW_MESSAGE,
        key=f"review_message:{review.id}:{key}",
        now=now,
        incident_id=incident.id,
        payload={"message": message, "ref": incident.ref, "review_id": review.id}
        | {"deadline_at": review.deadline_at.isoformat()}
        | fields,
    )


def _invite(
    session: Session,
    incident: Incident,
    review: ReviewMeeting,
    *,
    by: str,
    now: datetime,
    cancel: bool,
    rescheduled: bool,
) -> None:
    outbox.enqueue(
        session,
        kind=Effect.REVIEW_INVITE,
        key=f"review_invite:{review.id}:{review.sequence}",
        now=now,
        incident_id=incident.id,
        payload={
            "review_id": review.id,
            "sequence": review.sequence,
            "by": by,
            "cancel": cancel,
            "rescheduled": rescheduled,
            "stamp": now.isoformat(),
        },
    )
