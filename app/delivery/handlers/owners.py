"""ENGAGE_OWNERS: bring the owners of affected services (or a team asked for by name) into the incident channel.

For each owning team: invite its first contacts (with `whole_team`, everyone the map lists), put the outcome on
the timeline, and mention its user group in a message that says why they were brought in. Then tell the person
who asked (`/incident engage`) what came of it, and bookmark each service's runbook in the channel. Services of
the same team are engaged together (one mention, not one per service). Waits (NotReady) until the channel exists
and its card is posted.

Resumable and idempotent: each person's invitation, the timeline entry, the message and each bookmark are kept
on the outbox row (`Progress`) as soon as done; a runbook already bookmarked in the channel is not added again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from app.delivery.handlers.channel import blocks_json
from app.delivery.handlers.common import load, require_channel, setup_gave_up
from app.delivery.handlers.progress import Progress
from app.slack.blocks.facts import engagement_mrkdwn
from app.slack.blocks.owners import engagement_blocks, engagement_text
from app.slack.deps import Deps
from app.slack.errors import error_code, slack_step
from incidents import engagement
from incidents.effects import Effect
from incidents.engagement import Missed, Outcome
from incidents.models import Incident, OutboxMessage
from incidents.outbox import Handler, NotReady
from incidents.owners import OwnershipMap, Service, Team
from incidents.owners.model import is_email, is_slack_user_id

logger = structlog.get_logger("app.delivery.handlers")

NO_MAP = "no ownership map (OWNERSHIP_MAP_PATH is not set)"
PRESENT_ERRORS = ("already_in_channel", "cant_invite_self")
# Slack's per-person refusals, in plain words; any other failure is retried by the outbox.
NOT_INVITED = {
    "user_not_found": "not in this Slack workspace, or deactivated",
    "cant_invite": "Slack does not let the bot invite them here",
    "user_is_restricted": "a guest account, which the bot cannot invite",
    "user_is_ultra_restricted": "a single-channel guest, who cannot join",
    "ura_max_channels": "a single-channel guest already in their one channel",
}
NO_SLACK_ACCOUNT = "no Slack account has this email"
NOT_A_PERSON = "not a Slack user id or an email"
BACKSTAGE_REF = "a Backstage user with no email in the catalog"
BOOKMARK_TITLE_MAX = 80
SOURCE_KEY_MAX = 200  # timeline_events.source_key


@dataclass(frozen=True)
class Group:
    """One team to engage, and the affected services it owns (empty when the team was asked for by name)."""

    team: Team
    services: tuple[Service, ...]


def plan(ownership: OwnershipMap, payload: dict[str, Any]) -> tuple[list[Group], list[str]]:
    """The teams to engage, in the order their services were named, and the names the map does not know."""
    groups: dict[str, list[Service]] = {}
    teams: dict[str, Team] = {}
    unknown: list[str] = []
    for name in payload.get("services") or []:
        match = ownership.find_service(name)
        if match is None:
            unknown.append(name)
            continue
        team = ownership.team_of(match.service)
        teams.setdefault(team.name, team)
        services = groups.setdefault(team.name, [])
        if match.service not in services:
            services.append(match.service)
    if payload.get("team"):
        team = ownership.find_team(payload["team"])
        if team is None:
            unknown.append(payload["team"])
        else:
            teams.setdefault(team.name, team)
            groups.setdefault(team.name, [])
    return [Group(teams[name], tuple(services)) for name, services in groups.items()], unknown


def handlers(deps: Deps) -> dict[str, Handler]:
    return {Effect.ENGAGE_OWNERS: EngageOwners(deps)}


class EngageOwners:
    def __init__(self, deps: Deps):
        self.deps = deps
        self.client = deps.client
        self.sessions = deps.runtime.sessions

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        if self.deps.owners is None:
            return {"skipped": NO_MAP}
        ownership: OwnershipMap = self.deps.owners.current()
        payload = message.payload
        groups, unknown = plan(ownership, payload)
        if unknown:
            logger.info("engage_unknown_services", names=unknown, key=message.key)
        if not groups:
            return {"skipped": "no service or team of the ownership map", "unknown": unknown}
        incident = load(self.sessions, message)
        channel_id = self._channel(incident)
        progress = Progress(self.sessions, message)
        outcomes = [self._engage(message, incident, channel_id, ownership, group, progress) for group in groups]
        if payload.get("trigger") == engagement.REQUESTED and payload.get("by") and not progress.done("reply"):
            self._reply(channel_id, payload["by"], outcomes)
            progress.mark("reply")
        for name, url in [(s.name, s.runbook) for group in groups for s in group.services if s.runbook]:
            if not progress.done(f"bookmark:{name}"):
                progress.mark(f"bookmark:{name}", self._bookmark(channel_id, name, url))
        return progress.result(unknown=unknown)

    def _channel(self, incident: Incident) -> str:
        """The channel, once its card is there (so the card stays the first thing in it)."""
        channel_id = require_channel(self.sessions, incident)
        if not incident.card_ts and not setup_gave_up(self.sessions, incident.id):
            raise NotReady(f"{incident.ref}'s card is not posted yet")
        return channel_id

    def _engage(
        self,
        message: OutboxMessage,
        incident: Incident,
        channel_id: str,
        ownership: OwnershipMap,
        group: Group,
        progress: Progress,
    ) -> Outcome:
        payload, team = message.payload, group.team
        wanted = ownership.engagement(team, whole_team=bool(payload.get("whole_team")))
        outcome = self._invite(channel_id, team, group, wanted.invite, progress)
        by, declared = payload.get("by"), payload.get("trigger") == engagement.DECLARED
        if not progress.done(f"recorded:{team.name}"):
            with self.sessions.begin() as session:
                engagement.record(
                    session,
                    incident.id,
                    outcome,
                    by=by,
                    trigger=payload.get("trigger") or engagement.REQUESTED,
                    key=f"{message.key}:{team.name}"[:SOURCE_KEY_MAX],
                    now=self.deps.now(),
                )
            progress.mark(f"recorded:{team.name}")
        if not progress.done(f"message:{team.name}"):
            runbooks = [(s.name, s.runbook) for s in group.services if s.runbook]
            mention, note = self._mention(team, outcome)
            links = [d for s in group.services for d in s.dashboards]
            with slack_step(f"tell {team.name} why they were brought in"):
                ts = self.client.chat_postMessage(
                    channel=channel_id,
                    text=engagement_text(incident, outcome, mention=mention, by=by, declared=declared),
                    blocks=blocks_json(
                        engagement_blocks(
                            incident,
                            outcome,
                            mention=mention,
                            by=by,
                            declared=declared,
                            runbooks=runbooks,
                            links=links,
                            contact=team.contact,
                            note=note,
                        )
                    ),
                )["ts"]
            progress.mark(f"message:{team.name}", ts)
        return outcome

    def _invite(
        self, channel_id: str, team: Team, group: Group, contacts: tuple[str, ...], progress: Progress
    ) -> Outcome:
        """Invite each contact once; each result is kept as soon as it is known."""
        step = f"invite:{team.name}"
        results: dict[str, dict[str, Any]] = dict(progress.get(step) or {})
        for contact in contacts:
            if contact in results:
                continue
            results[contact] = self._invite_one(channel_id, contact)
            progress.mark(step, results)
        return outcome_of(team, group, contacts, results)

    def _invite_one(self, channel_id: str, contact: str) -> dict[str, Any]:
        if is_slack_user_id(contact):
            user_id: str | None = contact
        elif is_email(contact):
            with slack_step("look a person up by email"):
                user_id = self.deps.people.users.lookup_by_email(contact)
            if user_id is None:
                return {"result": "missed", "reason": NO_SLACK_ACCOUNT}
        else:
            reason = BACKSTAGE_REF if contact.lower().startswith("user:") else NOT_A_PERSON
            return {"result": "missed", "reason": reason}
        with slack_step("invite an owner"):
            try:
                self.client.conversations_invite(channel=channel_id, users=user_id)
            except SlackApiError as exc:
                code = error_code(exc)
                if code in PRESENT_ERRORS:
                    return {"result": "present", "user": user_id}
                if code in NOT_INVITED:
                    logger.info("owner_not_invited", user=user_id, error=code)
                    return {"result": "missed", "user": user_id, "reason": NOT_INVITED[code]}
                raise
        return {"result": "invited", "user": user_id}

    def _mention(self, team: Team, outcome: Outcome) -> tuple[str, str | None]:
        """The team's user group; without one (or when Slack does not know it), the people brought in."""
        people = " ".join(f"<@{u}>" for u in (*outcome.invited, *outcome.present)) or f"Team *{team.name}*:"
        if not team.slack_usergroup:
            return people, None
        with slack_step("find the team's user group"):
            group_id = self.deps.people.usergroups.id_for(team.slack_usergroup)
        if group_id is None:
            logger.warning("usergroup_not_found", team=team.name, usergroup=team.slack_usergroup)
            return people, f"(Slack has no user group {team.slack_usergroup}: fix the ownership map.)"
        return f"<!subteam^{group_id}>", None

    def _bookmark(self, channel_id: str, service: str, url: str) -> str:
        """Bookmark a runbook, unless the channel has it already. Returns the bookmark id."""
        with slack_step("list the channel's bookmarks"):
            try:
                existing = self.client.bookmarks_list(channel_id=channel_id).get("bookmarks") or []
            except SlackApiError as exc:
                if error_code(exc) != "missing_scope":  # bookmarks:read is optional: only for this check
                    raise
                existing = []
        for bookmark in existing:
            if bookmark.get("link") == url:
                return str(bookmark.get("id"))
        title = f"Runbook: {service}"[:BOOKMARK_TITLE_MAX]
        with slack_step("bookmark the runbook"):
            bookmark = self.client.bookmarks_add(channel_id=channel_id, title=title, type="link", link=url)
        return str(bookmark["bookmark"]["id"])

    def _reply(self, channel_id: str, user_id: str, outcomes: list[Outcome]) -> None:
        """Tell the person who asked what came of it (only them)."""
        text = "\n".join(engagement_mrkdwn(o) for o in outcomes)
        with slack_step("tell the person who asked"):
            try:
                self.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
            except SlackApiError as exc:
                if error_code(exc) != "user_not_in_channel":
                    raise
                self.client.chat_postMessage(channel=user_id, text=text)


def outcome_of(team: Team, group: Group, contacts: tuple[str, ...], results: dict[str, dict[str, Any]]) -> Outcome:
    """The results of the invitations, in the map's order; one person named twice counts once."""
    invited: dict[str, None] = {}
    present: dict[str, None] = {}
    missed: list[Missed] = []
    for contact in contacts:
        result = results.get(contact)
        if result is None:
            continue
        if result["result"] == "invited":
            invited[result["user"]] = None
        elif result["result"] == "present":
            present[result["user"]] = None
        else:
            missed.append(Missed(contact, result["reason"]))
    return Outcome(
        team=team.name,
        services=tuple(s.name for s in group.services),
        invited=tuple(invited),
        present=tuple(u for u in present if u not in invited),
        missed=tuple(missed),
    )
