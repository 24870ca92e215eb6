"""Effect.UPLOAD_POSTMORTEM: render the Markdown draft and upload it to the incident channel (`files_upload_v2`:
files.getUploadURLExternal, the bytes, files.completeUploadExternal), with the incident's timeline chart as a PNG
beside it in the same upload (one message, two files; the draft links the PNG by its file name). A chart that
cannot be drawn is logged and the draft goes out alone.

Idempotent: the uploaded file id is saved on the outbox row as soon as Slack returns it and recorded on the
timeline keyed by this request, so a retry after a successful upload uploads nothing.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.charts import incident as incident_chart
from app.delivery.handlers.common import load, require_channel
from app.delivery.handlers.progress import Progress
from app.postmortem.markup import mentions
from app.postmortem.render import TemplateProblem, render_markdown
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents.effects import Effect
from incidents.incident_picture import picture_of
from incidents.models import OutboxMessage
from incidents.outbox import Handler, PermanentFailure
from incidents.postmortem import OwnersOf, PostmortemData, build, owners_from_map, people_in
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
            return progress.result(file_id=done, picture_file_id=progress.get("picture"))
        file_id = progress.get("uploaded")
        if file_id is None:
            text, png = draft(incident.id)
            names = {"draft": f"{incident.ref}-postmortem.md", "picture": incident_chart.filename(incident.ref)}
            uploads = [{"filename": names["draft"], "content": text, "title": f"{incident.ref} post-mortem draft"}]
            if png is not None:
                uploads.append({"filename": names["picture"], "file": png, "title": f"{incident.ref} timeline"})
            with slack_step("upload the post-mortem draft"):
                response = deps.client.files_upload_v2(
                    channel=channel_id, file_uploads=uploads, initial_comment=_comment(incident.ref, by)
                )
            ids = _file_ids(response.get("files") or [], uploads)
            if ids.get(names["picture"]):  # saved before "uploaded", so that a retry that skips the upload knows it
                progress.mark("picture", ids[names["picture"]])
            # Slack said the upload was done: a draft whose id it left out is uploaded all the same ("": no id),
            # never sent again
            file_id = ids.get(names["draft"]) or ""
            if not file_id:
                logger.warning("postmortem_file_id_missing", incident=incident.ref, files=len(ids))
            progress.mark("uploaded", file_id)
        picture_id = progress.get("picture")
        with sessions.begin() as session:
            record_upload(
                session,
                get_by_id(session, incident.id, for_update=True),
                request_id=message.id,
                file_id=file_id,
                picture_file_id=picture_id,
                by=by,
                now=deps.now(),
            )
        return progress.result(file_id=file_id, picture_file_id=picture_id)

    def draft(incident_id: int) -> tuple[str, bytes | None]:
        """The Markdown draft, and the timeline chart's PNG it links (None when it could not be drawn)."""
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
        png = _chart(data)
        picture = incident_chart.filename(data.ref) if png is not None else None
        try:
            return render_markdown(data, template_path=settings.postmortem_template, picture=picture), png
        except TemplateProblem as exc:
            raise PermanentFailure(str(exc)) from None

    return {Effect.UPLOAD_POSTMORTEM: upload_postmortem}


def _comment(ref: str, by: str | None) -> str:
    asked = f", asked for by <@{by}>" if by else ""
    return (
        f"Post-mortem draft for {ref}{asked}. It is blameless by design: it describes systems and decisions. "
        "Edit it together before the review."
    )


def _chart(data: PostmortemData) -> bytes | None:
    try:
        return incident_chart.draw(picture_of(data), people=data.people)
    except Exception:  # the draft goes out without its picture rather than not at all
        logger.warning("postmortem_picture_failed", incident=data.ref, exc_info=True)
        return None


def _file_ids(files: list[dict[str, Any]], uploads: list[dict[str, Any]]) -> dict[str, str]:
    """Each uploaded file's id by its name, else by its title; else by position when Slack answered with as many
    files as were sent (in their order). A file Slack's answer does not account for has no id here."""
    by_name = {f.get("name"): f.get("id") for f in files if f.get("name")}
    by_title = {f.get("title"): f.get("id") for f in files if f.get("title")}
    in_order = len(files) == len(uploads)
    ids: dict[str, str] = {}
    for i, upload in enumerate(uploads):
        found = by_name.get(upload["filename"]) or by_title.get(upload["title"])
        if found is None and in_order:
            found = files[i].get("id")
        if found:
            ids[upload["filename"]] = found
    return ids


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
