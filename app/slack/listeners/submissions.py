"""Modal submissions. Each runs its use case before the ack: one quick local transaction that makes the change
durable before Slack is told OK, so that a refusal can be shown in the form itself (`response_action: errors`).

A submission counts once per view: Slack resending it, or a second click on Submit before the form closed,
finds its view id already handled (remembered in the same transaction as the change) and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from app.observability import request_log
from app.slack import payloads
from app.slack.blocks.modals import declared_view
from app.slack.deps import Deps
from app.slack.forms import read_declare, read_roles, read_update
from app.slack.ids import Callback, DeclareField, RoleField, UpdateField
from incidents import alerts, coordinates, service
from incidents.capture import first_delivery
from incidents.errors import IncidentError
from incidents.models import Role

logger = structlog.get_logger("app.slack.listeners")


def register(app: App, deps: Deps) -> None:
    def known_service(name: str) -> str | None:
        match = deps.owners.current().find_service(name)
        return match.service.name if match else None

    @app.view(Callback.DECLARE)
    def on_declare(ack: Ack, context: BoltContext, client: WebClient) -> None:
        submitted = payloads.typed(context, payloads.ViewSubmission)  # validated at the edge: a view id, a person
        form = read_declare(
            submitted.view.values, deps.runtime.process, known_service=known_service if deps.owners else None
        )
        if form.errors:
            request_log.set_outcome("invalid")
            ack(response_action="errors", errors=form.errors)
            return
        user_id = submitted.user.id
        request_log.bind(private=form.private)
        alert_id = submitted.view.metadata.get("alert")
        try:
            with deps.runtime.sessions.begin() as session:
                if isinstance(alert_id, int):  # from the triage channel: not when someone declared it meanwhile
                    alerts.refuse_if_declared(session, alert_id, declare_key=submitted.view.id)
                incident = service.declare(
                    session,
                    title=form.title,
                    severity=form.severity,
                    reporter_id=user_id,
                    now=deps.now(),
                    process=deps.runtime.process,
                    summary=form.impact,
                    services=form.services,
                    private=form.private,
                    declare_key=submitted.view.id,  # Slack resending the submission, or a double click: one incident
                )
                if isinstance(alert_id, int):  # declared from the triage channel: the alert joins it
                    alerts.attach_declared(session, alert_id, incident, now=deps.now())
        except IncidentError as exc:
            request_log.set_outcome("refused", type(exc).__name__)
            ack(response_action="errors", errors={DeclareField.TITLE: str(exc)})
            return
        request_log.bind_incident(incident)
        ack(response_action="update", view=declared_view(incident))
        deps.wake_outbox()
        source = submitted.view.metadata.get("source")
        if source:
            try:
                link_source_message(deps, client, incident.id, source, user_id)
            except Exception:  # the incident is declared; the link is a nicety
                logger.exception("source_message_not_linked", incident=incident.ref)

    @app.view(Callback.POST_UPDATE)
    def on_update(ack: Ack, context: BoltContext) -> None:
        submitted = payloads.typed(context, payloads.ViewSubmission)
        form = read_update(submitted.view.values)
        if form.errors:
            request_log.set_outcome("invalid")
            ack(response_action="errors", errors=form.errors)
            return
        ref = submitted.view.metadata.get("incident") or ""
        try:
            with deps.runtime.sessions.begin() as session:
                incident = service.lookup(session, ref)
                request_log.bind_incident(incident)
                fresh = first_submission(session, submitted.view.id, now=deps.now())
                if fresh:
                    service.post_status_update(
                        session,
                        incident,
                        text=form.text,
                        impact=form.impact,
                        next_steps=form.next_steps,
                        eta=form.eta,
                        author_id=submitted.user.id,
                        now=deps.now(),
                        process=deps.runtime.process,
                    )
        except IncidentError as exc:
            request_log.set_outcome("refused", type(exc).__name__)
            ack(response_action="errors", errors={UpdateField.TEXT: str(exc)})
            return
        ack()
        if fresh:
            deps.wake_outbox()

    @app.view(Callback.ASSIGN_ROLES)
    def on_roles(ack: Ack, context: BoltContext) -> None:
        submitted = payloads.typed(context, payloads.ViewSubmission)
        metadata = submitted.view.metadata
        picked = read_roles(submitted.view.values, metadata.get("holders"))
        ref = metadata.get("incident") or ""
        by = submitted.user.id
        try:
            with deps.runtime.sessions.begin() as session:
                incident = service.lookup(session, ref)
                request_log.bind_incident(incident)
                fresh = first_submission(session, submitted.view.id, now=deps.now())
                for role, user_id in picked.items() if fresh else ():
                    service.assign_role(session, incident, role=role, user_id=user_id, by=by, now=deps.now())
        except IncidentError as exc:
            request_log.set_outcome("refused", type(exc).__name__)
            ack(response_action="errors", errors={RoleField.for_role(Role.ACKNOWLEDGE): str(exc)})
            return
        ack()
        if fresh:
            deps.wake_outbox()


def first_submission(session: Session, view_id: str, *, now: datetime) -> bool:
    """Remember this view's submission (in the caller's transaction: undone if the change is refused, so that the
    corrected form can be submitted again); False when it was handled already."""
    if first_delivery(session, f"view:{view_id}", now=now):
        return True
    request_log.set_outcome("duplicate", "this form was submitted already")
    return False


def link_source_message(deps: Deps, client: WebClient, incident_id: int, source: dict[str, Any], user_id: str) -> None:
    """After the ack: put the message the incident was declared from on its timeline, with a link."""
    permalink = None
    try:
        permalink = client.chat_getPermalink(channel=source["channel"], message_ts=source["ts"])["permalink"]
    except (SlackApiError, KeyError) as exc:
        logger.warning("permalink_failed", error=str(exc))
    with deps.runtime.sessions.begin() as session:
        coordinates.link_source_message(
            session,
            incident_id,
            channel_id=source["channel"],
            ts=source["ts"],
            author_id=source.get("user"),
            permalink=permalink,
            by=user_id,
            now=deps.now(),
        )
