"""Tickets: TICKET_CREATE (the tracker call through `deps.trackers`), TICKET_SYNC (a conditional read of an open
ticket, enqueued by the scheduler) and TICKET_FOLLOWUPS (a ticket for every follow-up without one, on resolve).

The ticket's words are written here, blameless: why the action exists (the incident, its severity and dates,
the follow-up as written, the post-mortem's five whys), with links back to the incident channel; each adapter
renders them in its tracker's format. A tracker that is down, slow or rate-limiting (`TrackerUnavailable`) is
retried by the outbox (`RetryLater`, with its Retry-After); a refusal (`TrackerRefused`: an unknown project, a
missing field) is not (`PermanentFailure`). When the outbox gives a creation up (`observer`, hooked on the
delivery outcomes like the pages), the ticket is failed, TICKET_FAILED goes on the timeline and the person who
asked is told in a direct message, in plain words with the tracker's reason and how to repair it (`incidents
outbox retry <id>`, or Create ticket again). None of these calls Slack (app.delivery.guard.NOT_SLACK).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from app.slack import tickets as slack_tickets
from app.slack.deps import Deps
from app.slack.queue import direct_message
from incidents import outbox, tickets
from incidents.effects import Effect
from incidents.models import FollowUp, Incident, OutboxMessage, OutboxStatus, Ticket, TicketStatus
from incidents.outbox import Handler, PermanentFailure, RetryLater
from incidents.queries import get_by_id
from incidents.tickets import NewTicket, Paragraph, Span, TicketRef

logger = structlog.get_logger("app.delivery.handlers")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def handlers(deps: Deps) -> dict[str, Handler]:
    return {
        Effect.TICKET_CREATE: CreateTicket(deps),
        Effect.TICKET_SYNC: SyncTicket(deps),
        Effect.TICKET_FOLLOWUPS: TicketFollowups(deps),
    }


def every(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.settings.ticket_sync_seconds)


class CreateTicket:
    def __init__(self, deps: Deps):
        self.deps = deps

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        sessions = self.deps.runtime.sessions
        ticket_id = int(message.payload["ticket_id"])
        with sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise PermanentFailure(f"ticket {ticket_id} does not exist any more")
            if ticket.status not in (TicketStatus.REQUESTED.value, TicketStatus.FAILED.value) or ticket.key:
                return {"skipped": f"already {ticket.status}"}
            incident = get_by_id(session, ticket.incident_id)
            followup = session.get(FollowUp, ticket.followup_id)
            if followup is None:
                raise PermanentFailure(f"follow-up {ticket.followup_id} does not exist any more")
            new = new_ticket(self.deps, ticket, incident, followup)
            tracker = self.deps.trackers.get(ticket.tracker)
        if tracker is None:
            raise PermanentFailure(f"{slack_tickets.TRACKER_NAMES.get(ticket.tracker)} is not configured on this bot")
        try:
            seen = tracker.create(new)
        except tickets.TrackerUnavailable as exc:
            self._note(ticket_id, str(exc))
            raise RetryLater(str(exc), after=exc.after) from None
        except tickets.TrackerRefused as exc:
            self._note(ticket_id, str(exc))
            raise PermanentFailure(str(exc)) from None
        with sessions.begin() as session:
            now = self.deps.now()
            tickets.record_created(
                session, ticket_id, seen=seen, key=f"{message.kind}:{message.id}", now=now, sync_every=every(self.deps)
            )
            outbox.request_card_refresh(session, incident.id, now=now)
        self.deps.wake_outbox()
        return {"key": seen.key, "url": seen.url}

    def _note(self, ticket_id: int, error: str) -> None:
        with self.deps.runtime.sessions.begin() as session:
            tickets.record_error(session, ticket_id, error=error, now=self.deps.now())


class SyncTicket:
    """Read an open ticket (conditionally: GitHub answers 304 when nothing changed) and follow its status. A
    ticket the tracker says is gone (404, 410) is not polled again; any other refusal (a revoked token, a lost
    permission) keeps it polled, the tracker's reason shown on the follow-up until a read works again."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        sessions = self.deps.runtime.sessions
        ticket_id = int(message.payload["ticket_id"])
        with sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or not ticket.key:
                return {"skipped": "no ticket to read"}
            if ticket.status != TicketStatus.OPEN.value:
                return {"skipped": f"the ticket is {ticket.status}"}
            ref = TicketRef(project=ticket.project, key=ticket.key, external_id=ticket.external_id or "")
            etag, before = ticket.etag, (ticket.status, ticket.remote_status)
            tracker = self.deps.trackers.get(ticket.tracker)
        if tracker is None:
            return {"skipped": f"{ticket.tracker} is not configured any more"}
        try:
            seen = tracker.read(ref, etag=etag)
        except tickets.TrackerUnavailable as exc:
            raise RetryLater(str(exc), after=exc.after) from None
        except tickets.TrackerRefused as exc:
            if exc.gone:  # 404, 410: deleted, or hidden from the bot: polling it again cannot help
                with sessions.begin() as session:
                    tickets.record_unreadable(session, ticket_id, error=str(exc), now=self.deps.now())
                return {"unreadable": str(exc)}
            # 401, 403 and the rest: credentials or permissions someone can fix; read again at the next sync
            logger.warning("ticket_sync_refused", ticket_id=ticket_id, tracker=ticket.tracker, error=str(exc))
            with sessions.begin() as session:
                tickets.record_error(session, ticket_id, error=str(exc), now=self.deps.now())
            return {"refused": str(exc)}
        with sessions.begin() as session:
            now = self.deps.now()
            ticket = tickets.record_seen(session, ticket_id, seen=seen, now=now, sync_every=every(self.deps))
            changed = before != (ticket.status, ticket.remote_status)
            if changed:
                outbox.request_card_refresh(session, ticket.incident_id, now=now)
            status = ticket.status
        if changed:
            self.deps.wake_outbox()
        return {"modified": seen is not None, "status": status}


class TicketFollowups:
    """A ticket for each follow-up of the incident without one (TICKETS_ON_RESOLVE), routed like a click."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        if not slack_tickets.enabled(self.deps):
            return {"skipped": "no tracker is configured"}
        asked: list[int] = []
        with self.deps.runtime.sessions.begin() as session:
            incident = get_by_id(session, message.incident_id, for_update=True)  # type: ignore[arg-type]
            where = slack_tickets.destination(self.deps, incident)
            if where is None or where.tracker not in self.deps.trackers:
                return {"skipped": "no tracker for this incident's follow-ups"}
            for followup in tickets.without_ticket(session, incident):
                done = tickets.request_ticket(
                    session,
                    incident,
                    followup_id=followup.id,
                    destination=where,
                    by=message.payload.get("by"),
                    now=self.deps.now(),
                )
                if done.created:
                    asked.append(followup.id)
        self.deps.wake_outbox()
        return {"asked": asked}


# --- the ticket's words -----------------------------------------------------------------------------------


def plain(text: str) -> str:
    """What someone typed in Slack, as plain text: `<url|label>` -> `label (url)`, `<@U1|dana>` -> `@dana`,
    `<#C1|ops>` -> `#ops`; Slack's HTML escapes undone."""

    def one(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or "someone")
        if target.startswith("#"):
            return "#" + (label or "a channel")
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(one, text or ""))


def new_ticket(deps: Deps, ticket: Ticket, incident: Incident, followup: FollowUp) -> NewTicket:
    tz = deps.settings.timezone
    when = incident.declared_at.strftime("%Y-%m-%d %H:%M UTC")
    resolved = f", resolved {incident.resolved_at.strftime('%Y-%m-%d %H:%M UTC')}" if incident.resolved_at else ""
    services = f" Services affected: {', '.join(incident.services)}." if incident.services else ""
    body: list[Paragraph] = [
        (
            Span(
                f"This follow-up action comes from incident {incident.ref}, “{plain(incident.title)}” "
                f"({incident.severity}, declared {when}{resolved}).{services}"
            ),
        ),
        (Span("What needs doing: " + plain(followup.text)),),
        (
            Span(
                "Why it exists: the responders recorded it while working on the incident so that what it taught us "
                "is acted on. It is about making our systems and process more resilient, not about anyone's "
                "mistake; the post-mortem's contributing factors (its five whys) say which one it addresses."
            ),
        ),
    ]
    links: list[Span] = []
    if incident.channel_id:
        name = f"#{incident.channel_name}" if incident.channel_name else "the incident channel"
        links += [
            Span("Incident channel: "),
            Span(name, f"https://slack.com/app_redirect?channel={incident.channel_id}"),
        ]
    links.append(
        Span(
            (" · " if links else "")
            + f"Post-mortem: the draft is uploaded to the incident channel ({deps.settings.slash_command} postmortem "
            f"there makes a fresh one; times in {tz})."
        )
    )
    body.append(tuple(links))
    body.append(
        (
            Span(
                f"Filed by the incident bot for follow-up #{followup.id} of {incident.ref}; when this ticket is done "
                "here, the follow-up is marked done in Slack too."
            ),
        )
    )
    return NewTicket(
        project=ticket.project,
        title=plain(followup.text),
        body=tuple(body),
        labels=tuple(ticket.labels or ()),
        issue_type=ticket.issue_type,
        assignee=ticket.assignee,
    )


# --- a creation given up ----------------------------------------------------------------------------------


def on_dead(deps: Deps, message: OutboxMessage) -> None:
    """A ticket the tracker refused, or whose creation was given up: failed, on the timeline, and the person
    who asked told why and what to do (the channel, when the ticket was made on resolve)."""
    with deps.runtime.sessions.begin() as session:
        row = session.get(OutboxMessage, message.id)
        if row is None or row.status != OutboxStatus.DEAD.value:
            return  # retried by hand meanwhile
        ticket_id = int(row.payload["ticket_id"])
        now = deps.now()
        error = (row.last_error or "it kept failing").strip().rstrip(".")
        if not tickets.record_failed(session, ticket_id, error=error, key=f"ticket_failed:{row.id}", now=now):
            return
        ticket = session.get(Ticket, ticket_id)
        incident = get_by_id(session, ticket.incident_id)  # type: ignore[union-attr]
        followup = session.get(FollowUp, ticket.followup_id)  # type: ignore[union-attr]
        text = refusal_text(deps, ticket, incident, followup, error=error, outbox_id=row.id, attempts=row.attempts)  # type: ignore[arg-type]
        if ticket.requested_by:  # type: ignore[union-attr]
            direct_message(
                session,
                user_id=ticket.requested_by,  # type: ignore[union-attr]
                text=text,
                key=f"ticket_failed_dm:{row.id}",
                now=now,
                incident_id=incident.id,
            )
        else:
            outbox.enqueue(
                session,
                kind=Effect.CHANNEL_MESSAGE,
                key=f"say:ticket_failed:{row.id}",
                now=now,
                incident_id=incident.id,
                payload={"text": text, "by": None},
            )
    deps.wake_outbox()


def refusal_text(
    deps: Deps,
    ticket: Ticket,
    incident: Incident,
    followup: FollowUp | None,
    *,
    error: str,
    outbox_id: int,
    attempts: int,
) -> str:
    name = slack_tickets.TRACKER_NAMES.get(ticket.tracker, ticket.tracker)
    what = f"“{(followup.text if followup else '')[:200]}”"
    refused = "refused it" in error
    if refused:
        where = f"team {ticket.team}'s `tracker` in the ownership map" if ticket.team else "TICKET_DEFAULT"
        fix = (
            f"Nothing was created. If the project or a field is wrong, ask whoever runs the bot to fix {where}, "
            f"then press *Create ticket* again on `{deps.settings.slash_command} followups`."
        )
    else:
        fix = (
            f"I tried {attempts} times and gave up. Once {name} is reachable again, press *Create ticket* again on "
            f"`{deps.settings.slash_command} followups`, or an operator delivers it with "
            f"`incidents outbox retry {outbox_id}`."
        )
    return (
        f"I could not create the {name} ticket ({ticket.project}) for {incident.ref}'s follow-up {what}: {error}. {fix}"
    )


def observer(deps: Deps) -> Callable[[OutboxMessage, str], None]:
    def observe(message: OutboxMessage, outcome: str) -> None:
        if outcome != OutboxStatus.DEAD.value or message.kind != Effect.TICKET_CREATE.value:
            return
        try:
            on_dead(deps, message)
        except Exception:  # best effort: the outbox row keeps the error for `incidents outbox`
            logger.warning("ticket_dead_letter_not_recorded", outbox_id=message.id, exc_info=True)

    return observe
