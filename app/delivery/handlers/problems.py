"""Telling people that a Slack step failed: on the incident's timeline (once per step) and, when someone waits
for the outcome, in a direct message (once per key). Used while an incident's channel cannot be set up
(`app.delivery.handlers.channel`) and when an effect a person asked for is given up
(`app.delivery.handlers.dead_letters`)."""

from __future__ import annotations

from dataclasses import dataclass

from app.slack.deps import Deps
from app.slack.queue import direct_message
from incidents import coordinates


@dataclass(frozen=True)
class Tell:
    """A direct message to `user_id`, sent once per `key`."""

    user_id: str
    text: str
    key: str


def report_problem(deps: Deps, incident_id: int, *, step: str, text: str, tell: Tell | None = None) -> None:
    """Record `text` on the timeline (once per `step`) and queue the direct message, in one transaction."""
    with deps.runtime.sessions.begin() as session:
        coordinates.record_slack_problem(session, incident_id, step=step, text=text, now=deps.now())
        if tell is not None and tell.user_id:
            direct_message(
                session, user_id=tell.user_id, text=tell.text, key=tell.key, now=deps.now(), incident_id=incident_id
            )
    deps.wake_outbox()
