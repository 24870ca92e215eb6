"""The incident card's buttons and severity picker. Each carries the incident reference; every one acks first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from app.slack.blocks.card import parse_severity_value
from app.slack.blocks.modals import roles_modal, update_modal
from app.slack.deps import Deps
from app.slack.ids import CardAction
from app.slack.listeners.common import change_incident, ephemeral, open_incident_form
from incidents import service
from incidents.models import Incident, Role


def register(app: App, deps: Deps) -> None:
    def change(respond: Respond, ref: str, use_case: Callable[[Session, Incident], Any]) -> Any:
        return change_incident(deps, ref, use_case, refuse=ephemeral(respond))

    @app.action(CardAction.ACKNOWLEDGE)
    def on_acknowledge(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        incident = change(
            respond,
            action.get("value", ""),
            lambda s, i: service.acknowledge(s, i, user_id=user_id, now=deps.now(), process=deps.runtime.process),
        )
        lead = incident.holder(Role.ACKNOWLEDGE) if incident is not None else user_id
        if lead != user_id:
            ephemeral(respond)(f"{incident.ref} is already acknowledged; <@{lead}> leads it.")

    @app.action(CardAction.ASSIGN_ROLES)
    def on_assign_roles(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        open_incident_form(deps, client, body, respond, action.get("value", ""), roles_modal)

    @app.action(CardAction.POST_UPDATE)
    def on_post_update(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        open_incident_form(deps, client, body, respond, action.get("value", ""), update_modal)

    @app.action(CardAction.CHANGE_SEVERITY)
    def on_change_severity(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        ref, severity = parse_severity_value((action.get("selected_option") or {}).get("value", ""))
        if ref is None:
            ephemeral(respond)("That severity picker is not attached to an incident.")
            return
        user_id = body["user"]["id"]
        process = deps.runtime.process
        changed = change(
            respond,
            ref,
            lambda s, i: service.change_severity(s, i, severity=severity, by=user_id, now=deps.now(), process=process),
        )
        if changed is False:
            ephemeral(respond)(f"{ref} is already {severity}.")

    @app.action(CardAction.MARK_MITIGATED)
    def on_mark_mitigated(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        changed = change(
            respond, action.get("value", ""), lambda s, i: service.mark_mitigated(s, i, by=user_id, now=deps.now())
        )
        if changed is False:
            ephemeral(respond)(f"{action['value']} is already mitigated.")

    @app.action(CardAction.RESOLVE)
    def on_resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()  # the button's confirm dialog already asked "Resolve the incident?"
        user_id = body["user"]["id"]
        process = deps.runtime.process
        changed = change(
            respond,
            action.get("value", ""),
            lambda s, i: service.resolve(s, i, by=user_id, now=deps.now(), process=process),
        )
        if changed is False:
            ephemeral(respond)(f"{action['value']} is already resolved.")
