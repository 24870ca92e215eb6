"""A follow-up's ticket as the Slack layer asks for it: where it goes (`destination`: the ownership map's team
tracker, else TICKET_DEFAULT, with the settings' labels and Jira issue type) and `ask`, the use case the Create
ticket button and `followup ... --ticket` run in their transaction. Used by the listeners and by the
TICKET_FOLLOWUPS handler, so that both route alike."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.slack.deps import Deps
from incidents import tickets
from incidents.errors import InvalidInput
from incidents.models import Incident, TicketStatus
from incidents.tickets import Destination, Requested

TRACKER_NAMES = {"jira": "Jira", "github": "GitHub"}
NEEDS = {"jira": "JIRA_BASE_URL and JIRA_API_TOKEN", "github": "GITHUB_ISSUES_TOKEN"}


def enabled(deps: Deps) -> bool:
    """Tickets can be made at all: some tracker is configured (the Create ticket button shows)."""
    return bool(deps.trackers)


def destination(deps: Deps, incident: Incident) -> Destination | None:
    settings = deps.settings
    default = Destination.parse(settings.ticket_default) if settings.ticket_default else None
    ownership = deps.owners.current() if deps.owners is not None else None
    return tickets.route(
        ownership,
        list(incident.services),
        default=default,
        labels=settings.ticket_labels,
        issue_type=settings.jira_issue_type,
    )


def nowhere(deps: Deps, incident: Incident) -> str:
    """Why no ticket can be made for the incident's follow-ups, and what to change."""
    services = ", ".join(incident.services) or "none named"
    return (
        f"I do not know where {incident.ref}'s tickets go: no team owning its services ({services}) names a "
        "`tracker` in the ownership map, and TICKET_DEFAULT is not set. Ask whoever runs the bot to add one "
        "(see Tickets for follow-ups in the README)."
    )


def ask(deps: Deps, session: Session, incident: Incident, *, followup_id: int, by: str) -> Requested:
    """Ask for the follow-up's ticket (InvalidInput in plain words when it cannot go anywhere)."""
    where = destination(deps, incident)
    if where is None:
        raise InvalidInput(nowhere(deps, incident))
    if where.tracker not in deps.trackers:
        raise InvalidInput(
            f"{incident.ref}'s tickets go to {TRACKER_NAMES[where.tracker]} ({where.project}), which this bot "
            f"cannot reach: {NEEDS[where.tracker]} must be set."
        )
    return tickets.request_ticket(session, incident, followup_id=followup_id, destination=where, by=by, now=deps.now())


def reply(requested: Requested) -> str:
    """What the person who asked is told at once (the ticket's key follows in the channel when it is made)."""
    ticket = requested.ticket
    where = f"{TRACKER_NAMES.get(ticket.tracker, ticket.tracker)} ({ticket.project})"
    if requested.created:
        return f"Creating a ticket in {where}; its key and link will appear in the channel."
    if requested.resumed:
        return f"{ticket.key} had stopped being followed; I will read it again from {where} now."
    if ticket.key:
        return f"That follow-up has a ticket already: {ticket.key} {ticket.url or ''}".rstrip()
    if ticket.status == TicketStatus.REQUESTED.value:
        return f"A ticket for that follow-up is on its way to {where}."
    return f"That follow-up's ticket is {ticket.status}."
