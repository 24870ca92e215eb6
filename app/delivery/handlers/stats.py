"""Effect.UPLOAD_STATS and Effect.DIGEST: the metrics across incidents in Slack.

UPLOAD_STATS uploads the three charts to the conversation `/incident stats` was asked in; DIGEST posts last week's
incidents and numbers in the digest channel, then the charts under it. Both compute the report when they run, for
the period the effect carries, and upload with `files_upload_v2`. Idempotent by steps: each chart's file id (and
the digest's message ts) is kept on the outbox row as soon as Slack returns it, so a retry does not repeat it.

The charts of `/incident stats` go to the asker's direct message with the bot instead (told so there) when it was
asked outside a public channel (a DM, a group DM, a private channel: an id not starting with C), or when Slack
says the bot cannot post in that conversation (CANNOT_POST, after trying to join a public one): retrying would
not change that answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from app.charts.stats import Chart, all_charts
from app.delivery.handlers.progress import Progress
from app.slack.blocks.stats import as_dicts, digest_blocks, summary_text
from app.slack.deps import Deps
from app.slack.errors import is_error, slack_step
from incidents.effects import Effect
from incidents.metrics import Report
from incidents.metrics_query import build_report, teams_from_map
from incidents.models import OutboxMessage
from incidents.outbox import Handler, PermanentFailure, RetryLater

CANNOT_POST = ("not_in_channel", "channel_not_found", "method_not_supported_for_channel_type")


def handlers(deps: Deps) -> dict[str, Handler]:
    def report_for(payload: dict[str, Any]) -> Report:
        ownership = deps.owners.current() if deps.owners is not None else None
        with deps.runtime.sessions() as session:
            return build_report(
                session,
                since=datetime.fromisoformat(payload["since"]),
                until=datetime.fromisoformat(payload["until"]),
                now=deps.now(),
                timezone=deps.settings.timezone,
                team_of=teams_from_map(ownership),
                followup_due=timedelta(days=deps.settings.followup_overdue_days),
                service=payload.get("service"),
                severity=payload.get("severity"),
            )

    def joining(channel_id: str, call: Callable[[], Any]) -> Any:
        """`call()`; when the bot is not in the (public) channel, join it and call again."""
        try:
            return call()
        except SlackApiError as exc:
            if not is_error(exc, "not_in_channel") or not channel_id.startswith("C"):
                raise
        deps.client.conversations_join(channel=channel_id)
        return call()

    def upload(
        progress: Progress,
        channel_id: str,
        charts: list[Chart],
        comment: str | None,
        *,
        elsewhere: Callable[[], str] | None = None,
    ) -> dict[str, str]:
        """Upload the charts not uploaded yet to `channel_id`; when Slack says the bot cannot post there, to the
        conversation `elsewhere()` returns (if given) from then on."""
        files = {}
        target = progress.get("target") or channel_id
        for index, chart in enumerate(charts):
            step = f"chart:{chart.name}"
            file_id = progress.get(step)
            if file_id is None:

                def send(chart: Chart = chart, index: int = index, to: str = target) -> Any:
                    return deps.client.files_upload_v2(
                        channel=to,
                        filename=chart.filename,
                        content=chart.png,
                        title=chart.title,
                        initial_comment=comment if index == 0 and to == channel_id else None,
                    )

                with slack_step(f"upload the {chart.title.lower()} chart"):
                    try:
                        response = joining(target, send)
                    except SlackApiError as exc:
                        if elsewhere is None or target != channel_id or not is_error(exc, *CANNOT_POST):
                            raise
                        target = elsewhere()
                        response = send(to=target)
                file_id = response["file"]["id"]
                progress.mark(step, file_id)
            files[chart.name] = file_id
        return files

    def to_the_asker(progress: Progress, asked_in: str, by: str | None) -> str:
        """The asker's direct message with the bot, told why the charts are there (once: steps `target`, `told`)."""
        if progress.get("target"):
            return str(progress.get("target"))
        if not by:
            raise PermanentFailure(f"upload the metrics charts: the bot cannot post in {asked_in}")
        with slack_step("open a direct message with the asker"):
            dm = deps.client.conversations_open(users=by)["channel"]["id"]
        if dm != asked_in and not progress.done("told"):  # asked in the bot's own DM: nothing to explain
            where = f"<#{asked_in}>" if asked_in.startswith("C") else "the conversation you asked in"
            with slack_step("tell the asker where the charts are"):
                deps.client.chat_postMessage(
                    channel=dm, text=f"I cannot post in {where}, so here are the incident metrics charts you asked for."
                )
            progress.mark("told")
        progress.mark("target", dm)
        return str(dm)

    def upload_stats(message: OutboxMessage) -> dict[str, Any]:
        payload = message.payload
        progress = Progress(deps.runtime.sessions, message)
        report = report_for(payload)
        by, asked_in = payload.get("by"), payload["channel"]
        # The figures went only to the person who asked; the channel sees the charts and who asked for them.
        comment = f"Incident metrics charts, asked for by <@{by}>." if by else None
        if not asked_in.startswith("C"):  # a DM, a group DM, a (legacy) private channel: only the asker's DM
            to_the_asker(progress, asked_in, by)
        files = upload(
            progress, asked_in, all_charts(report), comment, elsewhere=lambda: to_the_asker(progress, asked_in, by)
        )
        return progress.result(files=files)

    def send_digest(message: OutboxMessage) -> dict[str, Any]:
        payload = message.payload
        progress = Progress(deps.runtime.sessions, message)
        target = payload["channel"]
        with slack_step("find the digest channel"):
            channel_id = deps.directory.channel_id(target)
        if channel_id is None:
            raise RetryLater(
                f"post the weekly digest: there is no public channel #{target.lstrip('#')}; "
                "create it or set DIGEST_CHANNEL"
            )
        report = report_for(payload)
        if not progress.done("posted"):
            text = f"Weekly incident digest ({payload['week']}): {summary_text(report)}"
            blocks = as_dicts(digest_blocks(report))
            with slack_step("post the weekly digest"):
                ts = joining(
                    channel_id, lambda: deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)
                )["ts"]
            progress.mark("posted", ts)
        files = upload(progress, channel_id, all_charts(report), None) if report.total else {}
        return progress.result(ts=progress.get("posted"), files=files)

    return {Effect.UPLOAD_STATS: upload_stats, Effect.DIGEST: send_digest}
