"""Change events in: `POST /changes` (our JSON or a PagerDuty change event, one or a list; `Authorization:
Bearer CHANGE_EVENTS_TOKEN`) and `POST /changes/github` (GitHub's `deployment_status` webhook, signed with
GITHUB_WEBHOOK_SECRET in `X-Hub-Signature-256`). The shapes are in `formats` and `github`.

Each endpoint authenticates before it parses (401, nothing stored), reads every item before it stores any (400
with each problem's field path), and stores all of a document in one transaction; a redelivery (the same
external id: yours, the PagerDuty event's hash, the GitHub delivery id) stores nothing new and answers 200.
A service the ownership map knows by an alias is stored under its name; one the map does not know is stored as
sent, and the answer warns. Without its secret configured an endpoint answers 404 saying which setting turns it on
(the route stays, so the answer says why)."""

from __future__ import annotations

import dataclasses
from typing import Any

import structlog
from pydantic import ValidationError

from app.http.webhook import Answer, Endpoint, Rejected, Request, WSGIApp, require_bearer, require_signature, serve
from app.integrations.changes import formats
from app.integrations.changes.github import RECORDED_STATES, DeploymentStatusEvent
from app.slack.deps import Deps
from incidents import changes
from incidents.changes import NewChange
from incidents.errors import InvalidInput

logger = structlog.get_logger("app.integrations.changes")

PATH = "/changes"
GITHUB_PATH = "/changes/github"
API_SOURCE = "api"


def webhooks(deps: Deps) -> dict[str, WSGIApp]:
    limit = deps.settings.webhook_max_body_bytes
    return {
        PATH: serve(change_events(deps), max_body=limit, name="changes"),
        GITHUB_PATH: serve(github_deployments(deps), max_body=limit, name="changes_github"),
    }


def change_events(deps: Deps) -> Endpoint:
    token = deps.settings.change_events_token

    def endpoint(request: Request) -> Answer:
        if token is None:
            raise Rejected(404, "change events are not enabled on this bot: set CHANGE_EVENTS_TOKEN")
        require_bearer(request, token.get_secret_value())
        return store(deps, formats.read(request.json(), source=API_SOURCE))

    return endpoint


def github_deployments(deps: Deps) -> Endpoint:
    secret = deps.settings.github_webhook_secret

    def endpoint(request: Request) -> Answer:
        if secret is None:
            raise Rejected(404, "the GitHub webhook is not enabled on this bot: set GITHUB_WEBHOOK_SECRET")
        require_signature(request, secret.get_secret_value(), header="x-hub-signature-256", prefix="sha256=")
        event = request.header("x-github-event").strip()
        if event == "ping":
            return Answer(200, {"ok": True, "pong": True})
        if event != "deployment_status":
            reason = f"event {event or '(no X-GitHub-Event)'} is not taken; subscribe to Deployment statuses only"
            return Answer(202, {"ok": True, "ignored": reason})
        delivery = request.header("x-github-delivery").strip()
        if not delivery:
            raise Rejected(400, "the X-GitHub-Delivery header is missing")
        if request.header("content-type").lower().startswith("application/x-www-form-urlencoded"):
            raise Rejected(415, "the webhook sends a form: set its content type to application/json in GitHub")
        try:
            status_event = DeploymentStatusEvent.model_validate(request.json())
        except ValidationError as exc:
            problems = formats.field_errors(exc)
            raise Rejected(400, "not a deployment_status event: " + "; ".join(problems), details=problems) from None
        if status_event.state not in RECORDED_STATES:
            reason = f"deployment state {status_event.state} is not recorded (only {', '.join(RECORDED_STATES)})"
            return Answer(202, {"ok": True, "ignored": reason})
        return store(deps, [status_event.change(delivery=delivery)])

    return endpoint


def store(deps: Deps, items: list[NewChange]) -> Answer:
    """Store every item in one transaction (or none); 201 when something new was stored, 200 when all of it
    was there already."""
    items, warnings = canonical(deps, items)
    try:
        with deps.runtime.sessions.begin() as session:
            recorded = changes.record_all(session, items, now=deps.now())
            answers = [
                {"id": r.change.id, "service": r.change.service, "kind": r.change.kind, "duplicate": not r.created}
                for r in recorded
            ]
    except InvalidInput as exc:
        raise Rejected(400, f"the change event is not valid: {exc}") from None
    created = sum(1 for a in answers if not a["duplicate"])
    logger.info("changes_recorded", created=created, duplicates=len(answers) - created)
    body: dict[str, Any] = {"ok": True, "recorded": created, "duplicates": len(answers) - created}
    body["changes"] = answers
    if warnings:
        body["warnings"] = warnings
    return Answer(201 if created else 200, body)


def canonical(deps: Deps, items: list[NewChange]) -> tuple[list[NewChange], list[str]]:
    """Services named as the ownership map names them (an alias becomes the name); a warning for each name the
    map does not know (the change is stored anyway)."""
    if deps.owners is None:
        return items, []
    ownership = deps.owners.current()
    out, warnings = [], []
    for item in items:
        match = ownership.find_service(item.service) if item.service.strip() else None
        if match is None:
            if item.service.strip():
                hint = ownership.suggest(item.service)
                also = f" (did you mean {', '.join(hint)}?)" if hint else ""
                warnings.append(f"service {item.service.strip()!r} is not in the ownership map{also}")
            out.append(item)
            continue
        out.append(dataclasses.replace(item, service=match.service.name))
    return out, list(dict.fromkeys(warnings))
