"""The App Home: `app_home_opened` (the Home tab) remembers who opened it and asks for it to be drawn now, through
the outbox (REFRESH_HOME, `app.delivery.handlers.home`); its **Declare incident** button opens the same declare
form as `/incident declare`, and **Post update** the stakeholder-update form of that incident. Both open within
the click's 3 seconds; a form that cannot open is explained in a direct message (a Home has no channel)."""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from app.observability import request_log
from app.slack.apology import tell
from app.slack.blocks.modals import declare_modal, update_modal
from app.slack.deps import Deps
from app.slack.ids import HomeAction
from app.slack.listeners.common import open_modal, read_incident, refused
from app.slack.payloads import EventCallback, typed
from incidents import home
from incidents.errors import IncidentError

HOME_TAB = "home"


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(context: BoltContext) -> None:
        envelope = typed(context, EventCallback)
        user_id = envelope.event.who
        if envelope.event.tab != HOME_TAB or not user_id:
            request_log.set_outcome("ignored", f"the {envelope.event.tab or 'unnamed'} tab")
            return
        with deps.runtime.sessions.begin() as session:
            home.opened(session, user_id=user_id, now=deps.now(), event_id=envelope.event_id or uuid.uuid4().hex)
        deps.wake_outbox()

    @app.action(HomeAction.DECLARE)
    def on_declare(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        view = declare_modal(deps.runtime.process, services=deps.service_names())
        open_modal(client, body["trigger_id"], view, tell=lambda text: tell(context, body, text))

    @app.action(HomeAction.POST_UPDATE)
    def on_post_update(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        ref = str(action.get("value") or "")
        request_log.bind(incident=ref)
        try:
            incident = read_incident(deps, ref)
        except IncidentError as exc:
            tell(context, body, refused(exc))
            return
        request_log.bind_incident(incident)
        open_modal(client, body["trigger_id"], update_modal(incident), tell=lambda text: tell(context, body, text))
