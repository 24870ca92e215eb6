"""Effect.UPLOAD_POSTMORTEM: render the Markdown draft and upload it to the incident channel (`files_upload_v2`:
files.getUploadURLExternal, the bytes, files.completeUploadExternal).

Idempotent: the uploaded file id is saved on the outbox row as soon as Slack returns it and recorded on the
timeline keyed by this request, so a retry after a successful upload uploads nothing.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.delivery.handlers.common import load, require_channel
from app.delivery.handlers.progress import Progress
from app.postmortem.markup import mentions
from app.postmortem.render import TemplateProblem, render_markdown
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents.effects import Effect
from incidents.models import OutboxMessage
from incidents.outbox import Handler, PermanentFailure
from incidents.postmortem import OwnersOf, build, owners_from_map, people_in
from incidents.postmortem_upload import record_upload, uploaded_file
from incidents.queries import get_by_id

logger = structlog.get_logger("app.delivery.handlers.postmortem")
NAMES_LOOKED_UP = 50  # users.info calls per draft at most (Tier 4); beyond that, ids are shown


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    settings = deps.settings

    def upload_postmortem(message: OutboxMessage) -> dict[str, Any]:
        incident = load(sessions, message)
        channel_id = require_channel(sessions, incident)
        by = message.payload.get("by")
        progress = Progress(sessions, message)
        with sessions() as session:
            done = uploaded_file(session, incident, message.id)
        if done:
            return progress.result(file_id=done)
        file_id = progress.get("uploaded")
        if file_id is None:
            text = draft(incident.id)
            with slack_step("upload the post-mortem draft"):
                response = deps.client.files_upload_v2(
                    channel=channel_id,
                    filename=f"{incident.ref}-postmortem.md",
                    content=text,
                    title=f"{incident.ref} post-mortem draft",
                    initial_comment=_comment(incident.ref, by),
                )
            file_id = response["file"]["id"]
            progress.mark("uploaded", file_id)
        with sessions.begin() as session:
            record_upload(
                session,
                get_by_id(session, incident.id, for_update=True),
                request_id=message.id,
                file_id=file_id,
                by=by,
                now=deps.now(),
            )
        return progress.result(file_id=file_id)

    def draft(incident_id: int) -> str:
        with sessions() as session:
            data = build(
                session,
                get_by_id(session, incident_id),
                now=deps.now(),
                timezone=settings.timezone,
                process=deps.runtime.process,
                owners_of=_owners(deps),
            )
        data.people.update(_names(deps.client, people_in(data, mentions)[:NAMES_LOOKED_UP]))
        try:
            return render_markdown(data, template_path=settings.postmortem_template)
        except TemplateProblem as exc:
            raise PermanentFailure(str(exc)) from None

    return {Effect.UPLOAD_POSTMORTEM: upload_postmortem}


def _comment(ref: str, by: str | None) -> str:
    asked = f", asked for by <@{by}>" if by else ""
    return (
        f"Post-mortem draft for {ref}{asked}. It is blameless by design: it describes systems and decisions. "
        "Edit it together before the review."
    )


def _owners(deps: Deps) -> OwnersOf | None:
    if deps.owners is None:
        return None
    try:
        return owners_from_map(deps.owners.current())
    except Exception:  # the draft goes out without owners rather than not at all
        logger.warning("postmortem_owners_unavailable", exc_info=True)
        return None


def _names(client: WebClient, user_ids: list[str]) -> dict[str, str]:
    """Display names for the draft; a person Slack cannot tell us about is shown by id."""
    names: dict[str, str] = {}
    for user_id in user_ids:
        if not user_id.startswith(("U", "W")):
            continue
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError:
            continue
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        if name:
            names[user_id] = name
    return names
