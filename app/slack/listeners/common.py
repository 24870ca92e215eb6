"""What several listeners share: reading incidents, opening modals in time, telling people what went wrong."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.error import URLError

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from app.observability import request_log
from app.slack.blocks.messages import incidents_list
from app.slack.deps import Deps
from app.slack.errors import error_code, status_code
from incidents import queries, service
from incidents.errors import IncidentError
from incidents.models import Incident

logger = structlog.get_logger("app.slack.listeners")

MODAL_PROBLEMS = {
    "expired_trigger_id": "Slack's window to open the form passed before I could open it",
    "exchanged_trigger_id": "Slack already opened a form for that click",
    "invalid_trigger_id": "Slack did not recognise the request to open the form",
}
# A trigger id dies 3 seconds after the click: views.open gets one short try, never a retry after that.
VIEWS_OPEN_TIMEOUT = 2.5


def read_incident(deps: Deps, ref: str) -> Incident:
    """A detached copy (roles and updates loaded) for reading; raises NotFound / InvalidInput."""
    with deps.runtime.sessions() as session:
        return queries.get_incident(session, ref)


def incident_for_channel(deps: Deps, channel_id: str | None) -> Incident | None:
    if not channel_id:
        return None
    with deps.runtime.sessions() as session:
        return queries.incident_for_channel(session, channel_id)


def open_incidents(deps: Deps) -> Sequence[Incident]:
    with deps.runtime.sessions() as session:
        return queries.open_incidents(session)


def not_an_incident_channel(deps: Deps, what: str) -> str:
    return f"{what} works inside an incident channel, and this is not one.\n" + incidents_list(open_incidents(deps))


def open_modal(client: WebClient, trigger_id: str, view: View, *, tell: Callable[[str], Any]) -> str | None:
    """views.open right away (the trigger id lives 3 seconds), once, with a short timeout. Returns the view id,
    or None after telling the person in plain words why the form did not open."""
    try:
        return quick(client).views_open(trigger_id=trigger_id, view=view)["view"]["id"]
    except (TimeoutError, URLError) as exc:
        request_log.set_outcome("slack_error", f"views.open: {type(exc).__name__}")
        logger.warning("views_open_failed", error=type(exc).__name__)
        tell("I could not open the form: Slack did not answer in time. Please try again.")
        return None
    except SlackApiError as exc:
        code = error_code(exc)
        reason = MODAL_PROBLEMS.get(code, f"Slack answered `{code or status_code(exc)}`")
        request_log.set_outcome("slack_error", f"views.open: {code}")
        logger.warning("views_open_failed", error=code)
        tell(f"I could not open the form: {reason}. Please try again.")
        return None


def quick(client: WebClient) -> WebClient:
    """The same client with a short timeout and no retry handler that retries (those that only count stay)."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=min(VIEWS_OPEN_TIMEOUT, client.timeout),  # type: ignore[arg-type]  # urllib takes float seconds
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        retry_handlers=[h for h in client.retry_handlers if h.max_retry_count == 0],
    )


def refused(error: IncidentError) -> str:
    request_log.set_outcome("refused", type(error).__name__)
    return str(error)


def ephemeral(respond: Callable[..., Any]) -> Callable[[str], None]:
    """A `tell(text)` that answers only the person, without replacing the message they clicked."""

    def tell(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return tell


def open_incident_form(
    deps: Deps,
    client: WebClient,
    body: dict[str, Any],
    respond: Callable[..., Any],
    ref: str,
    build: Callable[[Incident], View],
) -> None:
    """Open a modal about incident `ref` (a button's value) with the click's trigger id."""
    request_log.bind(incident=ref)
    try:
        incident = read_incident(deps, ref)
    except IncidentError as exc:
        ephemeral(respond)(refused(exc))
        return
    request_log.bind_incident(incident)
    open_modal(client, body["trigger_id"], build(incident), tell=ephemeral(respond))


def change_incident(
    deps: Deps,
    ref: str | int,
    use_case: Callable[[Session, Incident], Any],
    *,
    refuse: Callable[[str], Any] | None = None,
) -> Any:
    """Run `use_case(session, incident)` on incident `ref` (locked) in one transaction, then wake the outbox so
    its Slack effects go out now. With `refuse` (a button's `ephemeral(respond)`), a refusal is told through it
    and gives None; without, it is raised."""
    request_log.bind(incident=ref)
    try:
        with deps.runtime.sessions.begin() as session:
            incident = service.lookup(session, ref)
            request_log.bind_incident(incident)
            result = use_case(session, incident)
    except IncidentError as exc:
        if refuse is None:
            raise
        refuse(refused(exc))
        return None
    deps.wake_outbox()
    return result
