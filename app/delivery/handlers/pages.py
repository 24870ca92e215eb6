"""Pages: PAGE_OWNERS (which teams own the services, from the ownership map), PAGE_TRIGGER, PAGE_ACKNOWLEDGE and
PAGE_RESOLVE (the vendor call through `deps.pagers`).

The key is read from the environment variable the team's `pager.key_env` names when the call is made (it is
checked at start-up: app.integrations.pager.check_keys); it goes to the adapter and nowhere else. A vendor
that is down, slow or rate-limiting (`PagerUnavailable`) is retried by the outbox (`RetryLater`, with its
Retry-After); a refusal (`PagerRefused`: a bad key, an invalid event) is not (`PermanentFailure`). Either way
the page row keeps the last error. When the outbox gives a page up (`on_dead`, hooked on the delivery
outcomes like the other dead letters), the page is failed, PAGE_FAILED goes on the timeline and the channel is
told how to repair it (`incidents outbox retry <id>`, which delivers it again).

Idempotent: the vendors fold a repeated call with the same dedup key / alias into the same alert, and the
outcome is recorded once per outbox row (the timeline event's source key). None of these calls Slack: the
worker delivers them while Slack's circuit is open (app.delivery.guard.NOT_SLACK); what goes to the channel is
a CHANNEL_MESSAGE effect of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import structlog

from app.slack.deps import Deps
from incidents import paging
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, OutboxStatus, Page, PageStatus
from incidents.outbox import Handler, PermanentFailure, RetryLater
from incidents.queries import get_by_id

logger = structlog.get_logger("app.delivery.handlers")
KINDS = {Effect.PAGE_TRIGGER.value: "trigger", Effect.PAGE_ACKNOWLEDGE.value: "acknowledge"}
KINDS[Effect.PAGE_RESOLVE.value] = "resolve"


def handlers(deps: Deps) -> dict[str, Handler]:
    return {
        Effect.PAGE_OWNERS: PageOwners(deps),
        Effect.PAGE_TRIGGER: PageCallHandler(deps, "trigger"),
        Effect.PAGE_ACKNOWLEDGE: PageCallHandler(deps, "acknowledge"),
        Effect.PAGE_RESOLVE: PageCallHandler(deps, "resolve"),
    }


class PageOwners:
    """Page every team owning the requested services that has a pager; the rest is told in the channel."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        if self.deps.owners is None:
            return {"skipped": "no ownership map (OWNERSHIP_MAP_PATH is unset)"}
        teams, unknown = paging.owning_teams(self.deps.owners.current(), list(message.payload.get("services") or ()))
        paged, already, no_pager = [], [], []
        with self.deps.runtime.sessions.begin() as session:
            incident = get_by_id(session, message.incident_id, for_update=True)  # type: ignore[arg-type]
            if incident.status == "resolved":
                return {"skipped": f"{incident.ref} was resolved before its owners were paged"}
            for team in teams:
                if team.pager is None:
                    no_pager.append(team.name)
                    continue
                done = paging.request_page(
                    session,
                    incident,
                    team=team.name,
                    pager=team.pager.service,
                    by=message.payload.get("by"),
                    now=self.deps.now(),
                    message=str(message.payload.get("message") or ""),
                )
                (paged if done.created else already).append(team.name)
        self.deps.wake_outbox()
        return {"paged": paged, "already": already, "no_pager": no_pager, "unknown": unknown}


class PageCallHandler:
    def __init__(self, deps: Deps, action: str):
        self.deps = deps
        self.action = action

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        sessions = self.deps.runtime.sessions
        page_id = int(message.payload["page_id"])
        with sessions() as session:
            page = session.get(Page, page_id)
            if page is None:
                raise PermanentFailure(f"page {page_id} does not exist any more")
            incident = get_by_id(session, page.incident_id)
            skip = self._moot(page, incident)
            if skip:
                return {"skipped": skip}
            call = self._call(page, incident)
            pager = self.deps.pagers.get(page.pager)
        if pager is None:
            raise PermanentFailure(f"no {page.pager} pager is configured")
        try:
            answer = getattr(pager, self.action)(call)
        except paging.PagerUnavailable as exc:
            self._note(page_id, str(exc))
            raise RetryLater(str(exc), after=exc.after) from None
        except paging.PagerRefused as exc:
            self._note(page_id, str(exc))
            raise PermanentFailure(str(exc)) from None
        key = f"{message.kind}:{message.id}"
        with sessions.begin() as session:
            now = self.deps.now()
            if self.action == "trigger":
                paging.record_sent(session, page_id, answer=answer, key=key, now=now, process=self.deps.runtime.process)
            elif self.action == "acknowledge":
                paging.record_acknowledged(session, page_id, answer=answer, key=key, now=now)
            else:
                paging.record_resolved(session, page_id, answer=answer, key=key, now=now)
        self.deps.wake_outbox()
        return {"answer": answer}

    def _moot(self, page: Page, incident: Incident) -> str | None:
        if self.action == "trigger" and page.status not in (PageStatus.REQUESTED.value, PageStatus.FAILED.value):
            return f"already {page.status}"
        if self.action == "trigger" and incident.status == "resolved":
            return f"{incident.ref} was resolved before the page went out"
        if self.action != "trigger" and page.status in (PageStatus.REQUESTED.value, PageStatus.FAILED.value):
            # not triggered yet: nothing to acknowledge or resolve at the vendor. A trigger still on its way
            # catches up when it lands (incidents.paging._catch_up).
            return f"the page is {page.status}, never triggered"
        if self.action == "acknowledge" and page.status == PageStatus.RESOLVED.value:
            return "already resolved"
        return None

    def _call(self, page: Page, incident: Incident) -> paging.PageCall:
        ownership = self.deps.owners.current() if self.deps.owners is not None else None
        team = ownership.find_team(page.team) if ownership is not None else None
        if team is None or team.pager is None:
            raise PermanentFailure(f"team {page.team!r} has no pager in the ownership map any more")
        secret = os.environ.get(team.pager.key_env, "").strip()
        if not secret:
            raise PermanentFailure(f"the environment variable {team.pager.key_env} (team {page.team}'s key) is not set")
        summary = f"{incident.ref} ({incident.severity}): {incident.title}"
        if page.message:
            summary = f"{summary}: {page.message}"
        details: dict[str, Any] = {
            "incident": incident.ref,
            "severity": incident.severity,
            "status": incident.status,
            "services": ", ".join(incident.services),
            "team": page.team,
        }
        if page.message:
            details["message"] = page.message
        if page.requested_by:
            details["requested_by"] = page.requested_by
        links: list[tuple[str, str]] = []
        if incident.channel_id:
            links.append((f"{incident.ref} in Slack", f"https://slack.com/app_redirect?channel={incident.channel_id}"))
        return paging.PageCall(
            dedup_key=page.dedup_key,
            secret=secret,
            summary=summary,
            severity=incident.severity,
            source="incident-bot",
            details=details,
            links=links,
        )

    def _note(self, page_id: int, error: str) -> None:
        with self.deps.runtime.sessions.begin() as session:
            paging.record_error(session, page_id, error=error, now=self.deps.now())


def on_dead(deps: Deps, message: OutboxMessage) -> None:
    """A page call given up (refused, or out of attempts): the page failed, on the timeline and in the channel."""
    action = KINDS.get(message.kind)
    if action is None:
        return
    with deps.runtime.sessions.begin() as session:
        row = session.get(OutboxMessage, message.id)
        if row is None or row.status != OutboxStatus.DEAD.value:
            return  # retried by hand meanwhile
        paging.record_failed(
            session,
            int(row.payload["page_id"]),
            error=_reason(row.last_error),
            key=f"page_failed:{row.id}:{deps.now().isoformat()}",
            now=deps.now(),
            action=action,
            outbox_id=row.id,
        )
    deps.wake_outbox()


def _reason(error: str | None) -> str:
    return (error or "it kept failing").strip().rstrip(".")


def observer(deps: Deps) -> Callable[[OutboxMessage, str], None]:
    def observe(message: OutboxMessage, outcome: str) -> None:
        if outcome != OutboxStatus.DEAD.value or message.kind not in KINDS:
            return
        try:
            on_dead(deps, message)
        except Exception:  # best effort: the outbox row keeps the error for `incidents outbox`
            logger.warning("page_dead_letter_not_recorded", outbox_id=message.id, kind=message.kind, exc_info=True)

    return observe
