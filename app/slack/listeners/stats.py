"""`/incident stats [--since 90d] [--service S] [--severity SEV1]`: the metrics across incidents, only to the
person who asked, and the charts uploaded to the conversation it was asked in (an UPLOAD_STATS effect), or to the
asker's direct message with the bot when that conversation is not a public channel or the bot cannot post there.

The flags are checked before the ack (`parse`, pure); the report is computed after it, in the listener pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App

from app.slack.blocks.stats import as_dicts, stats_blocks, summary_text
from app.slack.deps import Deps
from app.slack.subcommands import CommandContext, UsageError, subcommand
from incidents import digest
from incidents.changes import parse_since
from incidents.errors import InvalidInput
from incidents.metrics_query import build_report, teams_from_map

DEFAULT_SINCE = "90d"
FLAGS = ("--since", "--service", "--severity")


@dataclass(frozen=True)
class StatsArgs:
    since: timedelta
    service: str | None = None
    severity: str | None = None


def register(app: App, deps: Deps) -> None:
    """Nothing to add to the app: the subcommand is listed in `app.slack.routes.SUBCOMMANDS`."""


def _quote(text: str) -> str:
    return text.replace("`", "'")[:40]


def parse(args: str) -> StatsArgs:
    """`--since 30d --service checkout --severity sev1` (also `--since=30d`); each flag at most once."""
    words = args.split()
    values: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        flag, eq, inline = word.partition("=")
        flag = flag.lower()
        if flag not in FLAGS:
            if word.startswith("--"):
                raise UsageError(f"I do not know the option `{_quote(flag)}`; the options are {', '.join(FLAGS)}.")
            raise UsageError(f"`{_quote(word)}` is not an option: write it after {', '.join(FLAGS)}.")
        if flag in values:
            raise UsageError(f"`{flag}` is given twice; give it once.")
        if eq:
            value = inline
        elif index + 1 < len(words) and not words[index + 1].startswith("--"):
            index += 1
            value = words[index]
        else:
            value = ""
        if not value:
            example = {"--since": "30d", "--service": "checkout", "--severity": "SEV1"}[flag]
            raise UsageError(f"`{flag}` needs a value, like `{flag} {example}`.")
        values[flag] = value
        index += 1
    try:
        since = parse_since(values.get("--since", DEFAULT_SINCE))
    except InvalidInput as exc:
        raise UsageError(f"`--since`: {exc}.") from None
    return StatsArgs(since, values.get("--service"), values.get("--severity"))


@subcommand(
    "stats",
    aliases=("metrics",),
    usage="stats [--since 90d] [--service S] [--severity SEV1]",
    parse=parse,
    help="Metrics across incidents, only to you: counts, time to acknowledge / mitigate / resolve, update gaps, "
    "follow-ups; the charts are uploaded here.",
)
def stats(ctx: CommandContext) -> None:
    args: StatsArgs = ctx.parsed
    deps = ctx.deps
    severity = args.severity
    if severity is not None:
        names = deps.runtime.process.severity_names
        severity = next((n for n in names if n.lower() == severity.lower()), None)
        if severity is None:
            ctx.reply(f"I know no severity `{_quote(args.severity or '')}`: the severities are {', '.join(names)}.")
            return
    now = deps.now()
    since = now - args.since
    ownership = deps.owners.current() if deps.owners is not None else None
    with deps.runtime.sessions() as session:
        report = build_report(
            session,
            since=since,
            until=now,
            now=now,
            timezone=deps.settings.timezone,
            team_of=teams_from_map(ownership),
            followup_due=timedelta(days=deps.settings.followup_overdue_days),
            service=args.service,
            severity=severity,
        )
    note = None
    if report.total:
        with deps.runtime.sessions.begin() as session:
            digest.request_charts(
                session,
                channel_id=ctx.channel_id,
                by=ctx.user_id,
                since=since,
                until=now,
                now=now,
                service=args.service,
                severity=severity,
            )
        deps.wake_outbox()
        # Outside a public channel only the asker's DM with the bot is sure to take them (app.delivery.handlers.stats)
        where = "here" if ctx.channel_id.startswith("C") else "to you in a direct message from me"
        note = f"The charts (time to mitigate by week, incidents per service, update gaps) are being uploaded {where}."
    ctx.reply(summary_text(report), blocks=as_dicts(stats_blocks(report, charts_note=note)))
