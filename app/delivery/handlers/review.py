"""The post-mortem review in Slack: REVIEW_MESSAGE posts a message in the incident channel (once, even when
Slack's answer is lost: `post_once`), unless it became moot meanwhile (`incidents.review.still_due`);
REVIEW_INVITE uploads the calendar invite (.ics, `files_upload_v2`) with the announcement as its comment.

The invite's attendees are the incident's role holders and the owners of its services (the ownership map's
first contacts), by their Slack profile emails (users.info, scope `users:read.email`; an owner given by email
in the map is taken as written); the organizer is whoever scheduled it. People without a known email are left
out of the file (the channel message still mentions them). An invite superseded by a later reschedule is skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.delivery.handlers.channel import blocks_json
from app.delivery.handlers.common import load, require_channel
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.progress import Progress
from app.postmortem.invite import Invite, Person, invite_ics
from app.slack.blocks.messages import message_block_id
from app.slack.blocks.review import invite_comment, message_blocks, message_text
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, ReviewMeeting
from incidents.outbox import Handler, PermanentFailure
from incidents.postmortem import owners_from_map
from incidents.review import ends_at, still_due

logger = structlog.get_logger("app.delivery.handlers.review")
PEOPLE_LOOKED_UP = 50  # users.info calls per invite at most


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    settings = deps.settings
    client = deps.client

    def review_for(message: OutboxMessage) -> tuple[Incident, ReviewMeeting]:
        incident = load(sessions, message)
        with sessions() as session:
            review = session.get(ReviewMeeting, message.payload.get("review_id"))
        if review is None or review.incident_id != incident.id:
            raise PermanentFailure(f"review {message.payload.get('review_id')} of {incident.ref} not found")
        return incident, review

    def review_message(message: OutboxMessage) -> dict[str, Any]:
        incident, review = review_for(message)
        if not still_due(review, message.payload, now=deps.now()):
            return {"skipped": "moot"}
        channel_id = require_channel(sessions, incident)
        progress = Progress(sessions, message)
        text = message_text(message.payload, tz=settings.timezone, command=settings.slash_command)
        block_id = message_block_id(message.id)
        blocks = blocks_json(message_blocks(message.payload, text, block_id))
        with slack_step("post about the post-mortem review"):
            ts = post_once(
                deps,
                progress,
                "message_sent",
                channel_id=channel_id,
                block_id=block_id,
                ref=None,
                post=lambda: client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"],
            )
        return progress.result(ts=ts)

    def review_invite(message: OutboxMessage) -> dict[str, Any]:
        incident, review = review_for(message)
        payload = message.payload
        if review.sequence != payload.get("sequence"):
            return {"skipped": f"superseded by sequence {review.sequence}"}
        if review.starts_at is None:
            raise PermanentFailure(f"the review of {incident.ref} has no time")
        channel_id = require_channel(sessions, incident)
        progress = Progress(sessions, message)
        if progress.done("uploaded"):
            return progress.result(file_id=progress.get("uploaded"))
        cancel = bool(payload.get("cancel"))
        by = payload.get("by")
        content = invite_ics(build_invite(deps, incident, review, by=by, stamp=payload.get("stamp"), cancel=cancel))
        comment = invite_comment(
            incident,
            starts_at=review.starts_at,
            minutes=review.duration_minutes,
            tz=settings.timezone,
            by=by,
            cancel=cancel,
            rescheduled=bool(payload.get("rescheduled")),
        )
        with slack_step("upload the post-mortem review invite"):
            response = client.files_upload_v2(
                channel=channel_id,
                filename=f"{incident.ref}-review{'-cancelled' if cancel else ''}.ics",
                content=content,
                title=f"{incident.ref} post-mortem review{' (cancelled)' if cancel else ''}",
                initial_comment=comment,
            )
        file_id = response["file"]["id"]
        progress.mark("uploaded", file_id)
        return progress.result(file_id=file_id)

    return {Effect.REVIEW_MESSAGE: review_message, Effect.REVIEW_INVITE: review_invite}


def build_invite(
    deps: Deps, incident: Incident, review: ReviewMeeting, *, by: str | None, stamp: str | None, cancel: bool
) -> Invite:
    """The invite's facts: who (role holders, owners; by email), when, and where to find the incident. The
    organizer is whoever first scheduled it, for every later version (RFC 5546: updates of a UID come from its
    organizer); whoever moved it since is an attendee."""
    holders = [a.user_id for a in incident.roles if a.ended_at is None]
    first = review.organizer_id or by
    contacts = list(dict.fromkeys([*(c for c in [first, by] if c), *holders, *_owner_contacts(deps, incident)]))
    people = _people(deps.client, contacts[:PEOPLE_LOOKED_UP])
    organizer = people.get(first) if first else None
    attendees = [person for contact, person in people.items() if contact != first]
    link = f"https://slack.com/app_redirect?channel={incident.channel_id}" if incident.channel_id else None
    channel = f"#{incident.channel_name}" if incident.channel_name else "the incident channel"
    description = (
        f"Blameless post-mortem review of {incident.ref} ({incident.severity}): {incident.title}.\n"
        f"Discuss the draft in {channel}"
        + (f": {link}" if link else "")
        + ". Ask the bot for the latest draft there with /incident postmortem."
    )
    assert review.starts_at is not None
    return Invite(
        uid=review.uid,
        sequence=review.sequence,
        starts_at=review.starts_at,
        ends_at=ends_at(review),  # type: ignore[arg-type]
        stamp=datetime.fromisoformat(stamp) if stamp else deps.now(),
        summary=f"Post-mortem review: {incident.ref} {incident.title}",
        description=description,
        url=link,
        timezone=deps.settings.timezone,
        organizer=organizer,
        attendees=attendees,
        cancel=cancel,
    )


def _owner_contacts(deps: Deps, incident: Incident) -> list[str]:
    if deps.owners is None or not incident.services:
        return []
    try:
        owners_of = owners_from_map(deps.owners.current())
    except Exception:  # the invite goes out without owners rather than not at all
        logger.warning("review_owners_unavailable", exc_info=True)
        return []
    found: list[str] = []
    for name in incident.services:
        owner = owners_of(name)
        found.extend(owner.contacts if owner else ())
    return found


def _people(client: WebClient, contacts: list[str]) -> dict[str, Person]:
    """Contact (a Slack user id or an email) -> Person; those without a known email are left out."""
    people: dict[str, Person] = {}
    for contact in contacts:
        if "@" in contact:
            people[contact] = Person(contact.strip())
            continue
        try:
            user = client.users_info(user=contact)["user"]
        except SlackApiError:
            continue
        profile = user.get("profile") or {}
        email = profile.get("email")
        if email and not user.get("deleted") and not user.get("is_bot"):
            name = profile.get("real_name") or user.get("real_name") or user.get("name") or ""
            people[contact] = Person(email, name)
    unique: dict[str, Person] = {}
    seen: set[str] = set()
    for contact, person in people.items():
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            unique[contact] = person
    return unique
