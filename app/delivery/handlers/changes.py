"""SHOW_CHANGES: post "What changed recently" in the incident channel and put what it showed on the timeline.

On declare (`incidents.changes.request_on_declare`) the services are the incident's and, from the ownership
map, what they depend on, since CHANGES_WINDOW_HOURS before the declaration; `/incident changes` asks with its
own services and window. No service named: every service's changes; nothing recorded: one line that says so.
A bot that takes no change events (neither CHANGE_EVENTS_TOKEN nor GITHUB_WEBHOOK_SECRET set) posts nothing on
declare. Waits (NotReady) until the channel exists and its card is posted, so the card stays the first message.

Idempotent and resumable: the list is read once, when it is first sent, and kept on the outbox row (a retry
posts and records the same list); the post goes through `post_once` (marked before the call, adopted by its
block id when Slack's answer was lost); CHANGES_SHOWN is recorded once per outbox row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.delivery.handlers.channel import blocks_json
from app.delivery.handlers.common import load, require_channel, setup_gave_up
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.progress import Progress
from app.slack.blocks.changes import MAX_SHOWN, changes_blocks, changes_text, marker
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents import changes
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage
from incidents.outbox import Handler, NotReady

NOT_ENABLED = "no change events come in (neither CHANGE_EVENTS_TOKEN nor GITHUB_WEBHOOK_SECRET is set)"


def handlers(deps: Deps) -> dict[str, Handler]:
    return {Effect.SHOW_CHANGES: ShowChanges(deps)}


class ShowChanges:
    def __init__(self, deps: Deps):
        self.deps = deps
        self.sessions = deps.runtime.sessions

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        settings = self.deps.settings
        declared = message.payload.get("trigger") == changes.DECLARED
        if declared and not settings.process().show_changes_on_declare:  # queued before the secrets were unset
            return {"skipped": NOT_ENABLED}
        incident = load(self.sessions, message)
        channel_id = require_channel(self.sessions, incident)
        if not incident.card_ts and not setup_gave_up(self.sessions, incident.id):
            raise NotReady(f"{incident.ref}'s card is not posted yet")
        progress = Progress(self.sessions, message)
        shown = progress.get("shown")
        if shown is None:
            shown = self._read(incident, message.payload)
            progress.mark("shown", shown)
        if not progress.done("posted"):
            text = changes_text(shown)
            blocks = blocks_json(
                changes_blocks(shown, command=self.deps.settings.slash_command, marker=marker(message.id))
            )

            def post() -> str:
                return self.deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]

            with slack_step("post what changed recently"):
                ts = post_once(
                    self.deps,
                    progress,
                    "post_sent",
                    channel_id=channel_id,
                    block_id=marker(message.id),
                    ref=None,
                    post=post,
                )
            progress.mark("posted", ts)
        if not progress.done("recorded"):
            with self.sessions.begin() as session:
                changes.record_shown(
                    session,
                    incident.id,
                    services=[*shown["services"], *shown["dependencies"]],
                    since=datetime.fromisoformat(shown["since"]),
                    changes=shown["changes"],
                    by=message.payload.get("by"),
                    key=message.key,
                    now=self.deps.now(),
                )
            progress.mark("recorded")
        return progress.result()

    def _read(self, incident: Incident, payload: dict[str, Any]) -> dict[str, Any]:
        ownership = self.deps.owners.current() if self.deps.owners is not None else None
        where = changes.scope(payload.get("services") or (), ownership, expand=bool(payload.get("expand", True)))
        if payload.get("since"):
            since = datetime.fromisoformat(payload["since"])
        else:
            since = incident.declared_at - timedelta(hours=self.deps.settings.changes_window_hours)
        with self.sessions() as session:
            return changes.snapshot(session, where, since=since, now=self.deps.now(), limit=MAX_SHOWN)
