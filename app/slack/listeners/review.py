"""The post-mortem review: `/incident review <date and time>` (schedule or move it), `/incident review` (the
form), `/incident review waive <reason>` (no review, or call the scheduled one off); the Schedule review button
of the bot's messages and the form's submission."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from app.observability import request_log
from app.slack import payloads
from app.slack.blocks.review import review_modal, scheduled_reply, waived_reply
from app.slack.deps import Deps
from app.slack.ids import ReviewId
from app.slack.listeners.common import open_incident_form, open_modal
from app.slack.listeners.submissions import first_submission
from app.slack.subcommands import CommandContext, UsageError, subcommand
from incidents import review, service
from incidents.errors import IncidentError, InvalidInput
from incidents.models import Incident
from incidents.review_time import When, parse_when

WAIVE_WORDS = ("waive", "cancel")


def parse_review(args: str) -> tuple[str, Any]:
    """`` -> ("form", None); `waive no customer impact` -> ("waive", "no customer impact");
    `tomorrow 10:00` -> ("at", When(...)). Malformed: UsageError saying what to write."""
    if not args:
        return "form", None
    word, _, rest = args.partition(" ")
    if word.lower() in WAIVE_WORDS:
        if not rest.strip():
            raise UsageError("Say why there will be no review: `review waive no customer impact, fixed upstream`.")
        return "waive", rest.strip()
    try:
        return "at", parse_when(args)
    except InvalidInput as exc:
        raise UsageError(str(exc)) from None


@subcommand(
    "review",
    usage="review <date and time> | review waive <reason>",
    needs_incident=True,
    parse=parse_review,
    help="Schedule (or move) the post-mortem review, like `review tomorrow 10:00`: announced here with a calendar "
    "invite, reminders the day before and 15 minutes before. Alone: opens the form. `review waive <reason>`: "
    "no review (a scheduled one is called off).",
)
def review_command(ctx: CommandContext) -> None:
    deps, incident = ctx.deps, ctx.incident
    assert incident is not None
    what, value = ctx.parsed
    tz = deps.settings.timezone
    if what == "form":
        open_modal(ctx.client, ctx.trigger_id, _modal(deps, incident), tell=ctx.reply)
        return
    process, now = deps.runtime.process, deps.now()
    if what == "waive":
        called_off = ctx.change(lambda s, i: review.waive(s, i, reason=value, by=ctx.user_id, now=now, process=process))
        ctx.reply(waived_reply(incident, called_off))
        return
    starts_at = _resolve(value, now, tz)
    _meeting, changed = ctx.change(
        lambda s, i: review.schedule(s, i, starts_at=starts_at, by=ctx.user_id, now=now, process=process)
    )
    ctx.reply(scheduled_reply(incident, starts_at, tz=tz, changed=changed))


def _resolve(when: When, now: datetime, tz: str) -> datetime:
    return when.resolve(now=now, tz=ZoneInfo(tz))


def _modal(deps: Deps, incident: Incident) -> Any:
    tz = ZoneInfo(deps.settings.timezone)
    tomorrow = (deps.now().astimezone(tz) + timedelta(days=1)).date()
    return review_modal(incident, tz=deps.settings.timezone, initial=tomorrow)


def register(app: App, deps: Deps) -> None:
    @app.action(ReviewId.SCHEDULE)
    def on_schedule(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        open_incident_form(deps, client, body, respond, action.get("value") or "", lambda i: _modal(deps, i))

    @app.view(ReviewId.FORM)
    def on_submit(ack: Ack, context: BoltContext) -> None:
        submitted = payloads.typed(context, payloads.ViewSubmission)
        values = submitted.view.values
        day = ((values.get(ReviewId.DATE) or {}).get(ReviewId.DATE) or payloads.ElementState()).selected_date
        at = ((values.get(ReviewId.TIME) or {}).get(ReviewId.TIME) or payloads.ElementState()).selected_time
        if not day or not at:
            request_log.set_outcome("invalid")
            errors = {ReviewId.DATE: "Pick a day."} if not day else {ReviewId.TIME: "Pick a time."}
            ack(response_action="errors", errors=errors)
            return
        now, tz = deps.now(), deps.settings.timezone
        try:
            starts_at = _resolve(parse_when(f"{day} {at}"), now, tz)
            with deps.runtime.sessions.begin() as session:
                incident = service.lookup(session, submitted.view.metadata.get("incident") or "")
                request_log.bind_incident(incident)
                fresh = first_submission(session, submitted.view.id, now=now)
                if fresh:
                    review.schedule(
                        session,
                        incident,
                        starts_at=starts_at,
                        by=submitted.user.id,
                        now=now,
                        process=deps.runtime.process,
                    )
        except IncidentError as exc:
            request_log.set_outcome("refused", type(exc).__name__)
            ack(response_action="errors", errors={ReviewId.DATE: str(exc)})
            return
        ack()
        if fresh:
            deps.wake_outbox()
