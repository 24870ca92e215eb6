"""The domain's facts in Slack mrkdwn: a timeline event's sentence (the timeline page, the JSON export's texts),
the channel message a change asks for, and what engaging owners came to. Mentions are `<@U…>`, emphasis `*…*`;
what people wrote is passed through as Slack's own text (callers escape a whole line with `text.md`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.slack.blocks.text import md
from app.words.events import Fact, Style, engagement_subject, engagement_summary, sentence
from incidents.engagement import Outcome
from incidents.timeline import EventKind

MRKDWN = Style(person=lambda user_id: f"<@{user_id}>")


def event_mrkdwn(event: Fact, *, ref: str) -> str:
    """`Acknowledged by <@U02BOB>`."""
    return sentence(event, ref=ref, style=MRKDWN)


def engagement_mrkdwn(outcome: Outcome) -> str:
    """`Owners of checkout (team payments): invited <@U2>; ...` (the reply to whoever asked)."""
    return f"{engagement_subject(outcome)}: {engagement_summary(outcome, MRKDWN)}"


# --- channel messages (incidents.service._say) ----------------------------------------------------------------


def _by(p: Mapping[str, Any]) -> str:
    return f"<@{p['by']}>"


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    EventKind.SEVERITY_CHANGED: lambda p: f"Severity changed from {p['from']} to *{p['to']}* by {_by(p)}.",
    EventKind.MITIGATED: lambda p: (
        f"{_by(p)} marked {p['ref']} as *mitigated*: service is restored. Next: find the root cause."
    ),
    EventKind.RESOLVED: lambda p: (
        f"{_by(p)} resolved {p['ref']}. Reminders stop here. Export the post-mortem draft when you are ready."
    ),
    EventKind.REOPENED: lambda p: f"{_by(p)} reopened {p['ref']}. Stakeholder-update reminders start again.",
    EventKind.ALERT_RESOLVED: lambda p: (
        f":white_check_mark: Alert resolved in {p.get('source')}: {md(str(p.get('title') or ''), 500)}"
        + (f" ({md(p['link'], 2000)})" if p.get("link") else "")
        + f". {p['ref']} stays open until someone resolves it."
    ),
    EventKind.PAGE_SENT: lambda p: (
        f":pager: Team *{md(str(p.get('team')), 200)}* was paged through {_vendor(p)}"
        + (f" ({md(str(p['answer']), 200)})" if p.get("answer") else "")
        + "."
    ),
    EventKind.PAGE_FAILED: lambda p: (
        f":warning: {_page_action(p)} team *{md(str(p.get('team')), 200)}* through {_vendor(p)} failed: "
        f"{md(str(p.get('error')), 500)}. Page them by phone meanwhile. Once the cause is fixed, an operator "
        + (
            f"delivers it with `incidents outbox retry {p['outbox_id']}`."
            if p.get("outbox_id")
            else "delivers it with `incidents outbox retry --all`."
        )
    ),
    EventKind.TICKET_CREATED: lambda p: (
        f":ticket: Ticket <{md(str(p.get('url')), 2000)}|{md(str(p.get('key')), 200)}> created in "
        + {"jira": "Jira", "github": "GitHub"}.get(str(p.get("tracker")), str(p.get("tracker")))
        + f" for follow-up #{p.get('followup_id')} of {p['ref']}"
        + (f" (asked for by {_by(p)})" if p.get("by") else "")
        + "."
    ),
}


def _vendor(p: Mapping[str, Any]) -> str:
    return {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}.get(str(p.get("pager")), str(p.get("pager")))


def _page_action(p: Mapping[str, Any]) -> str:
    return {"acknowledge": "Acknowledging the page of", "resolve": "Resolving the page of"}.get(
        str(p.get("action")), "Paging"
    )


def message_mrkdwn(payload: Mapping[str, Any]) -> str:
    """The text of a CHANNEL_MESSAGE effect: its fact (`fact` and fields) in words. A row queued before facts
    (a `text` already written) is posted as it is."""
    if "fact" not in payload:
        return str(payload.get("text") or "")
    return _MESSAGES[payload["fact"]](payload)
