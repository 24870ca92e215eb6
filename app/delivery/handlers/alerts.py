"""TRIAGE_ALERT: post an alert to the triage channel with its Declare incident button, once; and, once an
incident is declared from it (payload `declared`), redraw that message to say which incident it became; once it
stopped firing without one (payload `resolved`), redraw it to say so (the button stays: it may still deserve one).

The message's ts is recorded on the alert row as soon as Slack returns it; a retry finds it there, or (when the
answer was lost) in the channel's history by its block id, which names the alert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.delivery.handlers.channel import blocks_json
from app.delivery.handlers.common import setup_gave_up
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.progress import Progress
from app.slack.blocks.alerts import summary_block_id, triage_blocks, triage_text
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents.effects import Effect
from incidents.models import Alert, OutboxMessage, OutboxStatus
from incidents.outbox import Handler, NotReady, PermanentFailure
from incidents.queries import get_by_id


def handlers(deps: Deps) -> dict[str, Handler]:
    return {Effect.TRIAGE_ALERT: TriageAlert(deps)}


class TriageAlert:
    def __init__(self, deps: Deps):
        self.deps = deps
        self.sessions = deps.runtime.sessions

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        alert_id = int((message.payload or {}).get("alert_id") or 0)
        with self.sessions() as session:
            alert = session.get(Alert, alert_id)
        if alert is None:
            raise PermanentFailure(f"alert {alert_id} does not exist")
        if (message.payload or {}).get("declared"):
            return self._declared(alert)
        if (message.payload or {}).get("resolved"):
            return self._resolved(alert)
        if alert.triage_ts:
            return {"channel": alert.triage_channel_id, "ts": alert.triage_ts, "skipped": "posted already"}
        rules = self.deps.alert_rules
        name = rules.triage_channel if rules else None
        if not name:
            raise PermanentFailure("no triage_channel is named in the alert rules")
        progress = Progress(self.sessions, message)
        with slack_step("find the triage channel"):
            channel_id = self.deps.directory.channel_id(name)
        if channel_id is None:
            raise PermanentFailure(f"the triage channel {name!r} does not exist (or the bot cannot see it)")
        block_id = summary_block_id(alert.id)
        with slack_step("post the alert in the triage channel"):
            ts = post_once(
                self.deps,
                progress,
                "triage_sent",
                channel_id=channel_id,
                block_id=block_id,
                ref=None,
                post=lambda: self.deps.client.chat_postMessage(
                    channel=channel_id, text=triage_text(alert), blocks=blocks_json(triage_blocks(alert))
                )["ts"],
            )
        with self.sessions.begin() as session:
            row = session.get(Alert, alert.id, with_for_update=True)
            if row is not None:
                row.triage_channel_id, row.triage_ts = channel_id, ts
        return progress.result(channel=channel_id, ts=ts)

    def _resolved(self, alert: Alert) -> dict[str, Any]:
        if alert.incident_id is not None:
            return {"skipped": "declared: the message says which incident it became"}
        if not alert.triage_ts or not alert.triage_channel_id:
            if self._still_to_post(alert.id):
                raise NotReady(f"alert {alert.id} is not posted in the triage channel yet")
            return {"skipped": "no triage message to redraw"}
        with slack_step("redraw the triage message"):
            self.deps.client.chat_update(
                channel=alert.triage_channel_id,
                ts=alert.triage_ts,
                text=triage_text(alert),
                blocks=blocks_json(triage_blocks(alert)),
            )
        return {"channel": alert.triage_channel_id, "ts": alert.triage_ts, "resolved": True}

    def _still_to_post(self, alert_id: int) -> bool:
        """The alert's first TRIAGE_ALERT is still queued (it may have drawn the alert before it resolved)."""
        with self.sessions() as session:
            status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == f"triage_alert:{alert_id}"))
        return status == OutboxStatus.PENDING.value

    def _declared(self, alert: Alert) -> dict[str, Any]:
        if not alert.triage_ts or not alert.triage_channel_id or alert.incident_id is None:
            return {"skipped": "no triage message to redraw"}
        with self.sessions() as session:
            incident = get_by_id(session, alert.incident_id)
        if not incident.channel_id and not setup_gave_up(self.sessions, incident.id):
            raise NotReady(f"{incident.ref}'s channel is not created yet")
        with slack_step("redraw the triage message"):
            self.deps.client.chat_update(
                channel=alert.triage_channel_id,
                ts=alert.triage_ts,
                text=triage_text(alert),
                blocks=blocks_json(triage_blocks(alert, incident)),
            )
        return {"channel": alert.triage_channel_id, "ts": alert.triage_ts, "incident": incident.ref}
