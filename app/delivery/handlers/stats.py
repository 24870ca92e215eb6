"""Effect.UPLOAD_STATS and Effect.DIGEST: the metrics across incidents in Slack.

UPLOAD_STATS uploads the three charts to the conversation `/incident stats` was asked in; DIGEST posts last week's
incidents and numbers in the digest channel, then the charts under it. Both compute the report when they run, for
the period the effect carries, and upload with `files_upload_v2`. Idempotent by steps: each chart's file id (and
the digest's message ts) is kept on the outbox row as soon as Slack returns it, so a retry does not repeat it.
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
from incidents.outbox import Handler, RetryLater


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

    def upload(progress: Progress, channel_id: str, charts: list[Chart], comment: str | None) -> dict[str, str]:
        files = {}
        for index, chart in enumerate(charts):
            step = f"chart:{chart.name}"
            file_id = progress.get(step)
            if file_id is None:

                def send(chart: Chart = chart, index: int = index) -> Any:
                    return deps.client.files_upload_v2(
                        channel=channel_id,
                        filename=chart.filename,
                        content=chart.png,
                        title=chart.title,
                        initial_comment=comment if index == 0 else None,
                    )

                with slack_step(f"upload the {chart.title.lower()} chart"):
                    response = joining(channel_id, send)
                file_id = response["file"]["id"]
                progress.mark(step, file_id)
            files[chart.name] = file_id
        return files

    def upload_stats(message: OutboxMessage) -> dict[str, Any]:
        payload = message.payload
        progress = Progress(deps.runtime.sessions, message)
        report = report_for(payload)
        by = payload.get("by")
        # The figures went only to the person who asked; the channel sees the charts and who asked for them.
        comment = f"Incident metrics charts, asked for by <@{by}>." if by else None
        files = upload(progress, payload["channel"], all_charts(report), comment)
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
