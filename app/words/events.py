"""One sentence per timeline event kind, from its fields (incidents/timeline.py lists them), in a `Style`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from incidents.durations import humanize
from incidents.engagement import Outcome, outcome_from
from incidents.timeline import EventKind


@dataclass(frozen=True)
class Style:
    """How a medium shows a person (a Slack user id) and what a person wrote (text typed in Slack)."""

    person: Callable[[str], str]
    text: Callable[[str], str] = str


class Fact(Protocol):
    """A timeline event as the renderers read it (incidents.timeline_view.Entry, or the row itself)."""

    @property
    def kind(self) -> str: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


def sentence(event: Fact, *, ref: str, style: Style) -> str:
    """What the event says: `Acknowledged by @bob`. Kinds that carry a person's words (a note, a message, an
    update, a Slack problem) and kinds this version does not know give their text."""
    write = _SENTENCES.get(event.kind)
    if write is None:
        return style.text(event.text or "")
    return write(event, event.data or {}, ref, style)


def _who(style: Style, user_id: str | None) -> str:
    return style.person(user_id) if user_id else "someone"


def _declared(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    return f"{ref} declared as {d.get('severity')}: {s.text(e.text)}"


def _role_assigned(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    by = "" if e.actor_id == d.get("to") else f" (assigned by {_who(s, e.actor_id)})"
    return f"{_who(s, d.get('to'))} took the {d.get('role')} role{by}"


def _role_handover(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    return (
        f"{d.get('role')} handed over from {_who(s, d.get('from'))} to {_who(s, d.get('to'))} by {_who(s, e.actor_id)}"
    )


def _mitigated(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    return f"Mitigated {'again ' if d.get('again') else ''}(service restored) per {_who(s, e.actor_id)}"


def _reminder_sent(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    ask = ", asking someone to take the communicate role" if d.get("needs_communicator") else ""
    if d.get("target_id"):
        role = d.get("target_role") or "communicate"
        return f"Stakeholder-update reminder sent to {s.person(d['target_id'])} ({role}){ask}"
    return f"Stakeholder-update reminder sent to the channel{ask}"


def _update_missed(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    since = d.get("since")
    silent = e.occurred_at - datetime.fromisoformat(since) if isinstance(since, str) else None
    windows = int(d.get("windows") or 1)
    missed = f" ({windows} update windows missed)" if windows > 1 else ""
    return f"Communication gap: no stakeholder update for {humanize(silent)}{missed}"


def _owners_engaged(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    outcome = outcome_from(dict(d))
    by = f" by {s.person(e.actor_id)}" if e.actor_id else ""
    return f"{engagement_subject(outcome)} brought in{by}: {engagement_summary(outcome, s)}"


def _followup_added(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    owner = f" (owner {s.person(d['owner_id'])})" if d.get("owner_id") else ""
    return f"Follow-up added: {s.text(e.text)}{owner}"


def _message(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    if not d.get("declared_from"):
        return s.text(e.text or "")
    link = d.get("permalink")
    return f"Declared from a message by {_who(s, d.get('author_id'))}" + (f": {link}" if link else "")


def _uploaded(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    asked = f" (asked for by {s.person(e.actor_id)})" if e.actor_id else ""
    return f"Post-mortem draft uploaded to the channel{asked}"


def _alert_attached(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    how = "declared the incident" if d.get("declared") else "attached"
    link = f" ({d['link']})" if d.get("link") else ""
    return f"Alert {how} from {d.get('source')}: {s.text(e.text)}{link}"


def _alert_resolved(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    link = f" ({d['link']})" if d.get("link") else ""
    return f"Alert resolved in {d.get('source')}: {s.text(e.text)}{link}"


def _page_requested(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    by = f" by {s.person(e.actor_id)}" if e.actor_id else " on declare"
    return f"Paging team {d.get('team')} through {_pager(d)} (asked{by})"


def _page_failed(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    return f"Paging team {d.get('team')} through {_pager(d)} failed: {d.get('error')}"


def _pager(d: Mapping[str, Any]) -> str:
    return {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}.get(str(d.get("pager")), str(d.get("pager")))


def _changes_shown(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    changes = d.get("changes") or []
    services = ", ".join(d.get("services") or ()) or "every service"
    if not changes:
        return f"No changes recorded for {services} since {d.get('since')}"
    return f"{len(changes)} recent change{'s' if len(changes) != 1 else ''} shown for {services}"


def _utc(value: object) -> str:
    """An ISO 8601 instant from a fact as `2026-12-08 13:00 UTC` (a fact's sentence names no time zone but UTC)."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(value)


def _review_scheduled(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    moved = f" (moved from {_utc(d['previous_starts_at'])})" if d.get("previous_starts_at") else ""
    return f"Post-mortem review scheduled for {_utc(d.get('starts_at'))}{moved} by {_who(s, e.actor_id)}"


def _review_waived(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    called_off = f" (it was scheduled for {_utc(d['was_scheduled_for'])})" if d.get("was_scheduled_for") else ""
    return f"Post-mortem review waived by {_who(s, e.actor_id)}{called_off}: {s.text(e.text)}"


def _review_reminded(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    stage = d.get("stage")
    if stage == "unscheduled":
        due = _utc(d.get("deadline_at"))
        return f"{_who(s, d.get('lead'))} reminded to schedule the post-mortem review (due by {due})"
    when = "the day before" if stage == "day_before" else "15 minutes before"
    return f"Post-mortem review reminder sent {when} ({_utc(d.get('starts_at'))})"


def _tracker(d: Mapping[str, Any]) -> str:
    return {"jira": "Jira", "github": "GitHub"}.get(str(d.get("tracker")), str(d.get("tracker")))


def _ticket_requested(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    by = f" by {s.person(e.actor_id)}" if e.actor_id else " on resolve"
    return f"Ticket asked for{by} in {_tracker(d)} ({d.get('project')}) for the follow-up: {s.text(e.text)}"


def _ticket_status(e: Fact, d: Mapping[str, Any], ref: str, s: Style) -> str:
    if d.get("reopened"):
        return f"Ticket {d.get('key')} was reopened in {_tracker(d)} ({d.get('to')}): the follow-up is open again"
    done = ": the follow-up is done" if d.get("done") else ""
    return f"Ticket {d.get('key')} is now {d.get('to')} in {_tracker(d)}{done}"


Sentence = Callable[[Fact, Mapping[str, Any], str, Style], str]

_SENTENCES: dict[str, Sentence] = {
    EventKind.DECLARED: _declared,
    EventKind.ACKNOWLEDGED: lambda e, d, ref, s: f"Acknowledged by {_who(s, e.actor_id)}",
    EventKind.MITIGATED: _mitigated,
    EventKind.RESOLVED: lambda e, d, ref, s: f"Resolved per {_who(s, e.actor_id)}",
    EventKind.REOPENED: lambda e, d, ref, s: f"Reopened by {_who(s, e.actor_id)}",
    EventKind.MILESTONES_FILLED: lambda e, d, ref, s: (
        f"Skipped ahead: {' and '.join(d.get('filled') or ())} recorded at the same instant"
    ),
    EventKind.SEVERITY_CHANGED: lambda e, d, ref, s: (
        f"Severity changed from {d.get('from')} to {d.get('to')} by {_who(s, e.actor_id)}"
    ),
    EventKind.ROLE_ASSIGNED: _role_assigned,
    EventKind.ROLE_HANDOVER: _role_handover,
    EventKind.MESSAGE: _message,
    EventKind.REMINDER_SENT: _reminder_sent,
    EventKind.REMINDER_SNOOZED: lambda e, d, ref, s: (
        f"{_who(s, e.actor_id)} snoozed the stakeholder-update reminder for {d.get('minutes')} minutes"
    ),
    EventKind.UPDATE_MISSED: _update_missed,
    EventKind.ESCALATED: lambda e, d, ref, s: (
        "Stakeholder update overdue: escalated to every role holder and the announcements channel"
    ),
    EventKind.OWNERS_ENGAGED: _owners_engaged,
    EventKind.FOLLOWUP_ADDED: _followup_added,
    EventKind.FOLLOWUP_DONE: lambda e, d, ref, s: f"Follow-up done: {s.text(e.text)}",
    EventKind.POSTMORTEM_UPLOADED: _uploaded,
    EventKind.ALERT_ATTACHED: _alert_attached,
    EventKind.ALERT_RESOLVED: _alert_resolved,
    EventKind.PAGE_REQUESTED: _page_requested,
    EventKind.PAGE_SENT: lambda e, d, ref, s: f"Team {d.get('team')} paged through {_pager(d)}",
    EventKind.PAGE_FAILED: _page_failed,
    EventKind.PAGE_ACKNOWLEDGED: lambda e, d, ref, s: f"Page to team {d.get('team')} acknowledged in {_pager(d)}",
    EventKind.PAGE_RESOLVED: lambda e, d, ref, s: f"Page to team {d.get('team')} resolved in {_pager(d)}",
    EventKind.CHANGES_SHOWN: _changes_shown,
    EventKind.TICKET_REQUESTED: _ticket_requested,
    EventKind.TICKET_CREATED: lambda e, d, ref, s: (
        f"Ticket {d.get('key')} created in {_tracker(d)} for the follow-up: {s.text(e.text)} ({d.get('url')})"
    ),
    EventKind.TICKET_FAILED: lambda e, d, ref, s: (
        f"Ticket for the follow-up {s.text(e.text)} not created in {_tracker(d)}: {d.get('error')}"
    ),
    EventKind.TICKET_STATUS: _ticket_status,
    EventKind.REVIEW_SCHEDULED: _review_scheduled,
    EventKind.REVIEW_WAIVED: _review_waived,
    EventKind.REVIEW_REMINDED: _review_reminded,
}


# --- engaging owners (also the reply to whoever asked) ---------------------------------------------------------


def engagement_subject(outcome: Outcome) -> str:
    if outcome.services:
        return f"Owners of {', '.join(outcome.services)} (team {outcome.team})"
    return f"Team {outcome.team}"


def engagement_summary(outcome: Outcome, style: Style) -> str:
    """Who was invited, who was there already, who could not be invited and why."""
    parts = [f"invited {_people(outcome.invited, style)}" if outcome.invited else "nobody new invited"]
    if outcome.present:
        parts.append(f"already in the channel: {_people(outcome.present, style)}")
    if outcome.missed:
        parts.append("could not invite " + ", ".join(f"{m.contact} ({m.reason})" for m in outcome.missed))
    return "; ".join(parts)


def _people(user_ids: Sequence[str], style: Style) -> str:
    return ", ".join(style.person(user_id) for user_id in user_ids)
