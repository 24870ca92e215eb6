"""The triage channel's **Declare incident** button (value: the alert's id): the declare form, prefilled from the
alert (title, severity, service, description), opened within the click's 3 seconds. Submitting it declares the
incident and attaches the alert (`alert` in the form's private_metadata, read by the declare submission)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.observability import request_log
from app.slack.blocks.alerts import already_declared_text
from app.slack.blocks.modals import TEXT_MAX, declare_modal
from app.slack.blocks.text import cut
from app.slack.deps import Deps
from app.slack.ids import AlertAction
from app.slack.listeners.common import ephemeral, open_modal
from incidents.alerts import get_alert
from incidents.queries import get_by_id


def register(app: App, deps: Deps) -> None:
    @app.action(AlertAction.DECLARE)
    def on_declare_alert(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        tell = ephemeral(respond)
        value = str(action.get("value") or "")
        if not value.isdigit():
            request_log.set_outcome("refused", "no alert id")
            tell("That button is not attached to an alert.")
            return
        with deps.runtime.sessions() as session:
            alert = get_alert(session, int(value))
            incident = get_by_id(session, alert.incident_id) if alert and alert.incident_id else None
        if alert is None:
            request_log.set_outcome("refused", "unknown alert")
            tell(f"Alert #{value} is not known here any more.")
            return
        if incident is not None:
            request_log.bind_incident(incident)
            request_log.set_outcome("refused", "declared already")
            tell(already_declared_text(incident))
            return
        view = declare_modal(
            deps.runtime.process,
            services=deps.service_names(),
            title=alert.title,
            impact=cut(str((alert.details or {}).get("description") or ""), TEXT_MAX),
            severity=alert.severity,
            picked_services=[alert.service] if alert.service else [],
            origin_channel=(body.get("channel") or {}).get("id"),
            alert_id=alert.id,
        )
        open_modal(client, body["trigger_id"], view, tell=tell)

    @app.action(AlertAction.OPEN_LINK)
    def on_open_link(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL, and tells the app too
