"""Stakeholder-update reminders: the engine a scheduler runs every few seconds, and the snooze use case.

The schedule lives on the incident row (incidents/schedule.py), never in scheduler jobs: `next_update_due_at`
(D), `reminder_stage` (how far this window has gone) and `next_reminder_at` (the one instant to look again,
indexed). With I the update interval of the incident's severity:

    stage 0  nothing sent for this window   at D          a reminder to whoever must post the update -> 1
    stage 1  reminded                       at D + I      a communication gap on the timeline and an
                                                          escalation (every role holder, announcements) -> 2
    stage k  escalated (k >= 2)             at D + k*I    another gap and one more reminder -> k + 1

So there is at most one message per window. A tick works out the stage from `now`, not from how many ticks
ran: after downtime it jumps to the stage reached with one message (the most severe one due) and records the
windows missed meanwhile as one gap. Posting an update restarts the clock (stage 0, D one interval later),
resolving stops it, reopening restarts it, a snooze moves D.

Exactly once: a tick claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED` (SQLite serializes writers with
BEGIN IMMEDIATE), and moves the stage, writes the timeline and enqueues the effect in that one transaction; the
outbox key `reminder:<incident id>:<due>:<stage>` makes a repeat a no-op. The outbox then retries a failed send,
with no attempt limit, until it is delivered or moot (`still_due`); the Slack handlers post each message once
even when Slack's answer is lost (app/delivery/handlers/reminders.py).

Silence is counted from the start of the current window: the declaration, the last update or the reopening
(`schedule.window_start`), never across a stretch when the incident was resolved. A new severity keeps the
window's start and takes its interval; a due time that falls in the past becomes now (`schedule.change_cadence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from incidents import home, service
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition
from incidents.models import Incident, OutboxMessage, Role, Status, TimelineEvent
from incidents.process import Process
from incidents.schedule import next_action_at, window_start
from incidents.timeline import EventKind, record

SNOOZE_MINUTES = (15, 30, 60)
ESCALATION_STAGE = 2


@dataclass(frozen=True)
class Target:
    """Who a reminder nags: the communicator; else the incident lead, or the channel, asking for a communicator."""

    user_id: str | None
    role: Role | None
    needs_communicator: bool


@dataclass(frozen=True)
class Step:
    """What a tick does to one incident: reach `stage`, escalating or reminding, with `new_gaps` windows missed."""

    stage: int
    escalate: bool
    new_gaps: int
    missed_at: datetime  # when the latest of those windows closed


@dataclass(frozen=True)
class TickResult:
    examined: int = 0
    reminders: int = 0
    escalations: int = 0
    gaps: int = 0
    batches: int = 0

    @property
    def sent(self) -> int:
        return self.reminders + self.escalations

    def __add__(self, other: TickResult) -> TickResult:
        return TickResult(
            examined=self.examined + other.examined,
            reminders=self.reminders + other.reminders,
            escalations=self.escalations + other.escalations,
            gaps=self.gaps + other.gaps,
            batches=self.batches + other.batches,
        )


# --- decisions (pure) ---------------------------------------------------------------------------------------


def target(incident: Incident) -> Target:
    communicator = incident.holder(Role.COMMUNICATE)
    if communicator:
        return Target(communicator, Role.COMMUNICATE, needs_communicator=False)
    lead = incident.holder(Role.ACKNOWLEDGE)
    if lead:
        return Target(lead, Role.ACKNOWLEDGE, needs_communicator=True)
    return Target(None, None, needs_communicator=True)


def plan(incident: Incident, *, now: datetime, process: Process) -> Step | None:
    """The step the clock has reached at `now`, or None when nothing is due."""
    due = incident.next_update_due_at
    if due is None or not incident.is_open or now < due:
        return None
    interval = process.interval_for(incident.severity)
    reached = (now - due) // interval + 1
    stage = incident.reminder_stage
    if reached <= stage:
        return None
    return Step(
        stage=reached,
        escalate=stage < ESCALATION_STAGE <= reached,
        new_gaps=max(reached - 1, 0) - max(stage - 1, 0),
        missed_at=due + (reached - 1) * interval,
    )


def payload(incident: Incident, step: Step, *, now: datetime, process: Process) -> dict[str, Any]:
    """Everything the Slack handler needs to render the reminder or the escalation, decided here."""
    who = target(incident)
    since, began = window_start(incident)
    assert incident.next_update_due_at is not None
    data: dict[str, Any] = {
        "ref": incident.ref,
        "stage": step.stage,
        "due_at": incident.next_update_due_at.isoformat(),
        "since": since.isoformat(),
        "since_update_seconds": int((now - since).total_seconds()),
        "silent_since": began,  # what started the silence: "declared", "updated" or "reopened"
        "interval_minutes": int(process.interval_for(incident.severity).total_seconds() // 60),
        "windows_missed": step.stage - 1,
        "target_id": who.user_id,
        "target_role": who.role.value if who.role else None,
        "needs_communicator": who.needs_communicator,
        "private": incident.private,
    }
    if step.escalate:
        data["holders"] = {role.value: user for role, user in incident.holders().items() if user}
    return data


def still_due(incident: Incident, effect_payload: Mapping[str, Any]) -> bool:
    """A reminder delivered late (after retries) is moot once an update was posted, a snooze moved the due time
    or the incident was resolved: the handler skips it."""
    due = incident.next_update_due_at
    return incident.is_open and due is not None and due == datetime.fromisoformat(effect_payload["due_at"])


# --- the tick -----------------------------------------------------------------------------------------------


def tick(sessions: sessionmaker[Session], *, now: datetime, process: Process, batch: int = 100) -> TickResult:
    """Act on every incident whose reminder is due, `batch` incidents per transaction."""
    total = TickResult()
    while True:
        with sessions.begin() as session:
            result = tick_batch(session, now=now, process=process, limit=batch)
        total += result
        if result.examined < batch:
            return total


def tick_batch(session: Session, *, now: datetime, process: Process, limit: int) -> TickResult:
    """Claim up to `limit` due incidents (rows another scheduler holds are skipped) and act on each.

    Statements: one to claim, one to load the roles, one each for the incident updates, the timeline rows and
    the outbox rows of the whole batch: the cost grows with the number due, not the number open."""
    incidents = session.scalars(
        select(Incident)
        .where(Incident.next_reminder_at <= now, Incident.status != Status.RESOLVED.value)
        .order_by(Incident.next_reminder_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Incident)
        .options(selectinload(Incident.roles))
    ).all()
    effects: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    reminders = escalations = gaps = 0
    for incident in incidents:
        step = plan(incident, now=now, process=process)
        if step is not None:
            _act(incident, step, now=now, process=process, effects=effects, events=events)
            escalations += step.escalate
            reminders += not step.escalate
            gaps += bool(step.new_gaps)
        incident.next_reminder_at = next_action_at(incident, process)
    session.flush()
    if events:
        # A bulk insert (executemany), not one ORM insert per row (SQLite cannot batch those with RETURNING).
        session.execute(insert(TimelineEvent), events)
    _enqueue_all(session, effects, now=now)
    # The Homes of the people the update is due from show it as overdue now.
    nagged = {e["payload"].get("target_id") for e in effects} - {None}
    home.request_refresh(session, nagged, now=now)
    return TickResult(len(incidents), reminders, escalations, gaps, batches=1)


def _act(
    incident: Incident,
    step: Step,
    *,
    now: datetime,
    process: Process,
    effects: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    """Move the incident to `step`; add its timeline rows to `events` and its side effects to `effects`."""
    data = payload(incident, step, now=now, process=process)
    due = data["due_at"]

    def event(kind: EventKind, details: dict[str, Any], occurred_at: datetime = now) -> None:
        events.append(
            {
                "incident_id": incident.id,
                "kind": kind.value,
                "text": "",
                "occurred_at": occurred_at,
                "recorded_at": now,
                "data": {"due_at": due, "stage": step.stage} | details,
            }
        )

    if step.new_gaps:
        # Silent from `since` until the window closed (the event's time): the renderers work out the length.
        event(EventKind.UPDATE_MISSED, {"since": data["since"], "windows": step.new_gaps}, step.missed_at)
    if step.escalate:
        kind = Effect.ESCALATION
        event(EventKind.ESCALATED, {})
    else:
        kind = Effect.REMINDER
        event(EventKind.REMINDER_SENT, reminder_fact(data))
    incident.reminder_stage = step.stage
    incident.updated_at = now
    key = f"{incident.id}:{due}:{step.stage}"
    effects.append({"kind": kind, "key": f"{kind.value}:{key}", "incident_id": incident.id, "payload": data})
    # The card shows when the update is due, and that it is overdue now.
    effects.append({"kind": Effect.REFRESH_CARD, "key": f"refresh:{key}", "incident_id": incident.id, "payload": {}})


def reminder_fact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Whom a reminder went to, for the timeline: `target_id` (None: the channel); when nobody holds the
    communicate role, also `needs_communicator` and the `target_role` nagged instead. Without them the target
    is the communicator."""
    fact: dict[str, Any] = {"target_id": data["target_id"]}
    if data["needs_communicator"]:
        fact |= {"needs_communicator": True, "target_role": data["target_role"]}
    return fact


def _enqueue_all(session: Session, effects: list[dict[str, Any]], *, now: datetime) -> None:
    """`outbox.enqueue` for a whole batch in one statement (executemany); the same key twice stores it once."""
    if not effects:
        return
    rows = [
        {
            "kind": e["kind"].value,
            "key": e["key"],
            "incident_id": e["incident_id"],
            "payload": e["payload"],
            "next_attempt_at": now,
            "created_at": now,
        }
        for e in effects
    ]
    stmt = dialect_insert(session, OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["key"])
    session.execute(stmt, rows)


# --- snooze -------------------------------------------------------------------------------------------------


def snooze(session: Session, incident: Incident, *, minutes: int, by: str, now: datetime) -> bool:
    """Remind me in N minutes: the update becomes due then, and the reminder rings again then (escalation
    follows one interval after that). Returns False when the update is already due later than that."""
    if minutes not in SNOOZE_MINUTES:
        choices = ", ".join(str(m) for m in SNOOZE_MINUTES)
        raise InvalidInput(f"A reminder can be snoozed for {choices} minutes, not {minutes}.")
    if not incident.is_open:
        raise InvalidTransition(f"{incident.ref} is resolved; there are no reminders to snooze.")
    until = now + timedelta(minutes=minutes)
    was_due = incident.next_update_due_at
    if was_due is not None and was_due >= until:
        return False
    incident.snoozed_until = until
    incident.next_update_due_at = until
    incident.reminder_stage = 0
    incident.next_reminder_at = until
    record(
        session,
        incident,
        EventKind.REMINDER_SNOOZED,
        "",
        now=now,
        actor_id=by,
        data={"minutes": minutes, "until": until.isoformat(), "was_due_at": was_due.isoformat() if was_due else None},
    )
    service.touch(session, incident, now)
    return True
