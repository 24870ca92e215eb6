"""`POST /tickets/github`: GitHub's `issues` webhook, signed with GITHUB_ISSUES_WEBHOOK_SECRET in
`X-Hub-Signature-256`, so a follow-up's ticket closed or reopened on GitHub is followed at once (polling still
runs, and catches what a lost delivery missed).

Authenticated before anything is parsed (401, nothing stored). `ping` answers 200; other events and issues
that are not a follow-up's ticket answer 202 saying they were ignored; a body that is not an `issues` event
answers 400 with the field paths. A redelivery changes nothing (a status recorded already is not recorded
again). Without the secret configured the endpoint answers 404 naming the setting."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.http.webhook import Answer, Endpoint, Rejected, Request, WSGIApp, require_signature, serve
from app.integrations.changes.formats import field_errors
from app.integrations.tracker.github import state_of
from app.slack.deps import Deps
from incidents import outbox, tickets
from incidents.tickets import Seen

PATH = "/tickets/github"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Issue(_Model):
    number: int = Field(ge=1)
    state: str = Field(min_length=1)
    state_reason: str | None = None
    html_url: str = ""


class Repository(_Model):
    full_name: str = Field(min_length=3)


class IssuesEvent(_Model):
    action: str
    issue: Issue
    repository: Repository


def webhooks(deps: Deps) -> dict[str, WSGIApp]:
    return {PATH: serve(github_issues(deps), max_body=deps.settings.webhook_max_body_bytes, name="tickets_github")}


def github_issues(deps: Deps) -> Endpoint:
    secret = deps.settings.github_issues_webhook_secret

    def endpoint(request: Request) -> Answer:
        if secret is None:
            raise Rejected(
                404, "the GitHub issues webhook is not enabled on this bot: set GITHUB_ISSUES_WEBHOOK_SECRET"
            )
        require_signature(request, secret.get_secret_value(), header="x-hub-signature-256", prefix="sha256=")
        event = request.header("x-github-event").strip()
        if event == "ping":
            return Answer(200, {"ok": True, "pong": True})
        if event != "issues":
            reason = f"event {event or '(no X-GitHub-Event)'} is not taken; subscribe to Issues only"
            return Answer(202, {"ok": True, "ignored": reason})
        if request.header("content-type").lower().startswith("application/x-www-form-urlencoded"):
            raise Rejected(415, "the webhook sends a form: set its content type to application/json in GitHub")
        try:
            issues_event = IssuesEvent.model_validate(request.json())
        except ValidationError as exc:
            problems = field_errors(exc)
            raise Rejected(400, "not an issues event: " + "; ".join(problems), details=problems) from None
        return follow(deps, issues_event)

    return endpoint


def follow(deps: Deps, event: IssuesEvent) -> Answer:
    key = f"{event.repository.full_name}#{event.issue.number}"
    words, done = state_of(event.issue.model_dump())
    every = _every(deps)
    with deps.runtime.sessions.begin() as session:
        ticket = tickets.find_by_key(session, "github", key)
        if ticket is None:
            return Answer(202, {"ok": True, "ignored": f"issue {key} is not a follow-up's ticket"})
        before = (ticket.status, ticket.remote_status)
        key = ticket.key or key  # as stored: GitHub may spell the repository with other capitals
        seen = Seen(
            key=key,
            external_id=str(event.issue.number),
            url=event.issue.html_url or (ticket.url or ""),
            status=words,
            done=done,
        )
        now = deps.now()
        ticket = tickets.record_seen(session, ticket.id, seen=seen, now=now, sync_every=every, by="webhook")
        changed = before != (ticket.status, ticket.remote_status)
        if changed:
            outbox.request_card_refresh(session, ticket.incident_id, now=now)
        answer = {"ok": True, "ticket": key, "status": ticket.status, "changed": changed}
    if changed:
        deps.wake_outbox()
    return Answer(200, answer)


def _every(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.settings.ticket_sync_seconds)
