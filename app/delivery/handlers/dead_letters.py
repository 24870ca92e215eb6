"""Effects a person asked for that never reached Slack: when the outbox gives one up (dead-letters it: Slack
refused it for good, or the attempts ran out), its author is told in a direct message and the incident's
timeline says so (`app.delivery.handlers.problems`, as when a channel cannot be set up). Best effort: a failure
to report is logged, never raised.

Hooked on the outbox's delivery outcomes (`deliver_due(observe=...)`, `OutboxWorker(observe=...)`): "dead" is
reported there, after the settle has recorded it, whatever way the effect failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from app.delivery.handlers import pages, tickets
from app.delivery.handlers.problems import Tell, report_problem
from app.slack.blocks.facts import message_mrkdwn
from app.slack.blocks.text import md, one_line
from app.slack.deps import Deps
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, OutboxStatus
from incidents.queries import get_by_id

logger = structlog.get_logger("app.delivery.handlers")
EXCERPT = 300


def observer(deps: Deps) -> Callable[[OutboxMessage, str], None]:
    """`observe(message, outcome)` for the outbox: reports the dead-lettered effects people asked for."""

    tell_pages = pages.observer(deps)  # a page given up: failed, on the timeline and in the channel
    tell_tickets = tickets.observer(deps)  # a ticket refused or given up: the person who asked is told

    def observe(message: OutboxMessage, outcome: str) -> None:
        tell_pages(message, outcome)
        tell_tickets(message, outcome)
        if outcome != OutboxStatus.DEAD.value or message.kind not in TOLD or message.incident_id is None:
            return
        try:
            report_dead_letter(deps, message)
        except Exception:  # best effort: the outbox row keeps the error for `incidents outbox`
            logger.warning("dead_letter_not_reported", outbox_id=message.id, kind=message.kind, exc_info=True)

    return observe


def report_dead_letter(deps: Deps, message: OutboxMessage) -> None:
    with deps.runtime.sessions() as session:
        row = session.get(OutboxMessage, message.id)
        if row is None or row.status != OutboxStatus.DEAD.value:
            return  # retried by hand meanwhile
        incident = get_by_id(session, row.incident_id)  # type: ignore[arg-type]
        reason = _reason(row.last_error)
        steps = (row.result or {}).get("steps") or {}
        told = TOLD[row.kind](deps, incident, row.payload, reason, steps)
    if told is None:
        return
    author, timeline, direct = told
    tell = Tell(author, direct, key=f"tell_author:{row.key}") if author else None
    report_problem(deps, incident.id, step=f"dead:{row.key}", text=timeline, tell=tell)


def _reason(error: str | None) -> str:
    """The outbox error without the step it names ("post the update in the incident channel: Slack answered
    channel_not_found" -> "Slack answered channel_not_found"): the message says what was being done."""
    return (error or "it kept failing").split(": ", 1)[-1].rstrip(".")


Told = tuple[str | None, str, str]  # (the author, the timeline text, the direct message)


def _update(deps: Deps, incident: Incident, payload: dict[str, Any], reason: str, steps: dict[str, Any]) -> Told | None:
    update = next((u for u in incident.updates if u.id == payload.get("update_id")), None)
    if update is None:
        return None
    if "channel" in steps:
        where = "was posted in the incident channel, but not under the announcement"
        missing = "It is missing under the announcement"
    else:
        where = "did not reach Slack"
        missing = "Nobody saw it in Slack"
    command = deps.settings.slash_command
    timeline = f"The stakeholder update by <@{update.author_id}> {where}: {reason}."
    direct = (
        f"Your stakeholder update for *{incident.ref}* {where}, because {reason}. {missing}; it is saved on the "
        f"incident's timeline. Post it again with `{command} update` once this is fixed, or share it by hand:\n"
        f"> {md(one_line(update.text), EXCERPT)}"
    )
    return update.author_id, timeline, direct


def _channel_message(
    deps: Deps, incident: Incident, payload: dict[str, Any], reason: str, steps: dict[str, Any]
) -> Told:
    said = md(one_line(message_mrkdwn(payload)), EXCERPT)
    timeline = f"A message for the incident channel was not posted: {reason}."
    direct = (
        f"I could not tell *{incident.ref}*'s channel about your change, because {reason}. The change itself is "
        f"recorded. The message was:\n> {said}"
    )
    return payload.get("by"), timeline, direct


TOLD: dict[str, Callable[..., Told | None]] = {
    Effect.POST_UPDATE.value: _update,
    Effect.CHANNEL_MESSAGE.value: _channel_message,
}
