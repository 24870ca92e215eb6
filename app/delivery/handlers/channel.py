"""OPEN_CHANNEL: create the incident channel, invite the reporter, set the topic, post and pin the card, announce.

Resumable: the channel id, card ts and announcement ts are recorded on the incident as soon as Slack returns
them, the other steps on the outbox row (`Progress`), so a retry carries on where the last attempt stopped. If a
crash came between Slack creating the channel and the bot recording it, the retry meets `name_taken` and adopts
that channel when the bot created it and no other incident owns it.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from app.delivery.handlers.common import load, was_queued
from app.delivery.handlers.names import channel_name
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.problems import Tell, report_problem
from app.delivery.handlers.progress import Progress
from app.slack.blocks.announcement import announcement_blocks, announcement_text
from app.slack.blocks.card import card_blocks, card_text
from app.slack.blocks.messages import channel_failure_text, channel_ready_text
from app.slack.blocks.text import cut, one_line
from app.slack.deps import Deps
from app.slack.errors import error_code, in_plain_words, is_error, slack_step
from app.slack.ids import AnnouncementBlock, CardBlock
from app.slack.queue import direct_message
from incidents import coordinates, outbox
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage
from incidents.outbox import Handler, PermanentFailure, RetryLater

logger = structlog.get_logger("app.delivery.handlers")
NAME_ATTEMPTS = 10
TOPIC_MAX = 250
FINE_INVITE_ERRORS = ("already_in_channel", "cant_invite_self")


def handlers(deps: Deps) -> dict[str, Handler]:
    return {Effect.OPEN_CHANNEL: OpenChannel(deps)}


def blocks_json(blocks: list[Any]) -> list[dict[str, Any]]:
    """Block Kit objects to dicts (slack_sdk checks Slack's limits here)."""
    return [b.to_dict() for b in blocks]


class OpenChannel:
    def __init__(self, deps: Deps):
        self.deps = deps
        self.client = deps.client
        self.sessions = deps.runtime.sessions

    def __call__(self, message: OutboxMessage) -> dict[str, Any]:
        incident = load(self.sessions, message)
        progress = Progress(self.sessions, message)
        step = "create the channel"
        try:
            if not incident.channel_id:
                with slack_step(step):
                    channel_id, name = self._create(incident)
                with self.sessions.begin() as session:
                    incident = coordinates.attach_channel(session, incident.id, channel_id, name)
            channel_id = incident.channel_id
            assert channel_id is not None
            step = "invite the reporter"
            if not progress.done("invited"):
                with slack_step(step):
                    invite(self.client, channel_id, incident.reporter_id)
                progress.mark("invited")
            step = "set the topic"
            if not progress.done("topic"):
                with slack_step(step):
                    self.client.conversations_setTopic(channel=channel_id, topic=topic(incident))
                progress.mark("topic")
            step = "post the incident card"
            if not incident.card_ts:
                with slack_step(step):
                    ts = post_once(
                        self.deps,
                        progress,
                        "card_sent",
                        channel_id=channel_id,
                        block_id=CardBlock.HEADER,
                        ref=incident.ref,
                        post=lambda: post_card(self.deps, incident),
                    )
                with self.sessions.begin() as session:
                    incident = coordinates.set_card_ts(session, incident.id, ts)
            step = "pin the incident card"
            if not progress.done("pinned"):
                with slack_step(step):
                    pin(self.client, channel_id, incident.card_ts)  # type: ignore[arg-type]
                progress.mark("pinned")
            step = "announce the incident"
            if not incident.announcement_ts:
                announce(self.deps, incident, progress)
        except (RetryLater, PermanentFailure) as exc:
            self._report(incident, step, exc)
            raise
        self._tell_ready(incident)
        return progress.result(channel=incident.channel_id, name=incident.channel_name)

    def _create(self, incident: Incident) -> tuple[str, str]:
        prefix = self.deps.settings.channel_prefix
        for attempt in range(NAME_ATTEMPTS):
            name = channel_name(prefix, incident.number, incident.title, attempt=attempt)
            try:
                return self._create_named(incident, name)
            except SlackApiError as exc:
                if not is_error(exc, "name_taken"):
                    raise
            adopted = self._adopt(incident, name)
            if adopted is not None:
                logger.info("channel_adopted", incident=incident.ref, channel=adopted[0])
                return adopted
        name = channel_name(prefix, incident.number, incident.title, tag=uuid.uuid4().hex[:6])
        return self._create_named(incident, name)

    def _create_named(self, incident: Incident, name: str) -> tuple[str, str]:
        channel = self.client.conversations_create(name=name, is_private=incident.private)["channel"]
        return channel["id"], channel["name"]

    def _adopt(self, incident: Incident, name: str) -> tuple[str, str] | None:
        """The existing channel called `name`, when the bot created it and no other incident has it."""
        channel = find_channel_named(self.client, name)
        if channel is None or channel.get("creator") != self.deps.directory.bot_user_id():
            return None
        with self.sessions() as session:
            owner = session.scalar(select(Incident.id).where(Incident.channel_id == channel["id"]))
        if owner is not None and owner != incident.id:
            return None
        return channel["id"], channel["name"]

    def _report(self, incident: Incident, step: str, exc: Exception) -> None:
        """Record the problem on the timeline (once per step); tell the reporter (once per incident) while the
        channel is not usable yet."""
        tell = None
        if not incident.channel_id or not incident.card_ts:
            reason = in_plain_words(exc.__cause__ or exc)
            tell = Tell(
                incident.reporter_id,
                channel_failure_text(incident, reason, step=step),
                key=f"tell_reporter:open_channel:{incident.id}",
            )
        report_problem(self.deps, incident.id, step=f"open_channel:{step}", text=f"Could not {step}: {exc}", tell=tell)

    def _tell_ready(self, incident: Incident) -> None:
        """If the reporter was told setting up failed, tell them it works now."""
        with self.sessions.begin() as session:
            if was_queued(session, f"tell_reporter:open_channel:{incident.id}"):
                direct_message(
                    session,
                    user_id=incident.reporter_id,
                    text=channel_ready_text(incident),
                    key=f"tell_reporter:channel_ready:{incident.id}",
                    now=self.deps.now(),
                    incident_id=incident.id,
                )
        self.deps.wake_outbox()


def invite(client: Any, channel_id: str, *user_ids: str) -> None:
    """Invite people; those already there (or the bot itself) are fine."""
    for user_id in dict.fromkeys(u for u in user_ids if u):
        try:
            client.conversations_invite(channel=channel_id, users=user_id)
        except SlackApiError as exc:
            if is_error(exc, *FINE_INVITE_ERRORS):
                continue
            if is_error(exc, "user_not_found", "user_is_restricted", "user_is_ultra_restricted"):
                logger.warning("invite_skipped", user=user_id, error=error_code(exc))
                continue
            raise


def topic(incident: Incident) -> str:
    """Plain text (topics show no formatting), at most 250 characters."""
    return cut(one_line(f"{incident.ref}: {incident.title} · the pinned card shows status and roles"), TOPIC_MAX)


def post_card(deps: Deps, incident: Incident) -> str:
    response = deps.client.chat_postMessage(
        channel=incident.channel_id,
        text=card_text(incident),
        blocks=blocks_json(card_blocks(incident, deps.runtime.process)),
    )
    return response["ts"]


def pin(client: Any, channel_id: str, ts: str) -> None:
    try:
        client.pins_add(channel=channel_id, timestamp=ts)
    except SlackApiError as exc:
        if not is_error(exc, "already_pinned"):
            raise


def announce(deps: Deps, incident: Incident, progress: Progress | None = None) -> None:
    target = deps.settings.announcements_channel
    with slack_step("find the announcements channel"):
        channel_id = deps.directory.channel_id(target)
    if channel_id is None:
        raise RetryLater(
            f"announce the incident: there is no public channel #{target.lstrip('#')}; "
            "create it or set ANNOUNCEMENTS_CHANNEL"
        )
    text, blocks = announcement_text(incident), blocks_json(announcement_blocks(incident))
    with slack_step(f"announce the incident in #{target.lstrip('#')}"):
        try:
            if progress is None:
                ts = deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]
            else:
                ts = post_once(
                    deps,
                    progress,
                    "announcement_sent",
                    channel_id=channel_id,
                    block_id=AnnouncementBlock.SUMMARY,
                    ref=incident.ref,
                    post=lambda: deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"],
                )
        except SlackApiError as exc:
            if is_error(exc, "channel_not_found"):
                deps.directory.forget_channel(target)
            if not is_error(exc, "not_in_channel"):
                raise
            deps.client.conversations_join(channel=channel_id)
            ts = deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]
    with deps.runtime.sessions.begin() as session:
        current = coordinates.set_announcement(session, incident.id, channel_id, ts)
        if (announcement_text(current), blocks_json(announcement_blocks(current))) != (text, blocks):
            # The incident changed since this snapshot was drawn, and a redraw that ran meanwhile could not know
            # of the announcement yet: redraw now that it is recorded.
            outbox.request_card_refresh(session, incident.id, now=deps.now())
    deps.wake_outbox()


def find_channel_named(client: Any, name: str) -> dict[str, Any] | None:
    # Iterating a SlackResponse follows `response_metadata.next_cursor` page by page.
    for page in client.conversations_list(types="public_channel,private_channel", exclude_archived=True, limit=1000):
        for channel in page.get("channels", []):
            if channel.get("name") == name:
                return channel
    return None
