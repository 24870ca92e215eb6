"""The metrics across incidents in mrkdwn: the answer to `/incident stats` (only to the asker) and the weekly
digest (in the digest channel). Words only: the figures come from `incidents.metrics.Report`, in which a private
incident is already blanked (no title, services or follow-up texts): it is shown by reference and severity only."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from app.slack.blocks.text import cut, date, md, user
from incidents.durations import humanize
from incidents.metrics import GapTotals, Report, Spread

TOP = 8  # rows per count list
OVERDUE_SHOWN = 10


def spread_line(name: str, s: Spread) -> str:
    """`*Time to mitigate* median 27m 30s, p90 1h 30m (4 measured, 1 skipped, 1 still open)`."""
    figures = "no figure yet" if s.median is None else f"median {humanize(s.median)}, p90 {humanize(s.p90)}"
    counts = [f"{s.measured} measured"]
    if s.skipped:
        counts.append(f"{s.skipped} skipped")
    if s.open:
        counts.append(f"{s.open} still open")
    return f"*{name}* {figures} ({', '.join(counts)})"


def _counts(title: str, counts: dict[str, int]) -> str:
    if not counts:
        return f"*{title}:* none"
    items = list(counts.items())
    shown = ", ".join(f"{md(name, 80)} {n}" for name, n in items[:TOP])
    more = f", and {len(items) - TOP} more" if len(items) > TOP else ""
    return f"*{title}:* {shown}{more}"


def _gaps(totals: GapTotals) -> str:
    ongoing = f", {totals.ongoing} ongoing" if totals.ongoing else ""
    return f"{totals.gaps} gap{'s' if totals.gaps != 1 else ''} ({humanize(totals.silent)} silent{ongoing})"


def scope(report: Report) -> str:
    filters = []
    if report.service:
        filters.append(f"service *{md(report.service, 100)}*")
    if report.severity:
        filters.append(f"severity *{md(report.severity, 20)}*")
    where = f" for {' and '.join(filters)}" if filters else ""
    return f"Incidents declared from {date(report.since)} to {date(report.until)}{where}"


def summary_text(report: Report) -> str:
    """The notification text (and what a screen reader says)."""
    return (
        f"{report.total} incident{'s' if report.total != 1 else ''}: {report.open} open, {report.resolved} resolved; "
        f"time to mitigate median {humanize(report.to_mitigate.median)}"
    )


def stats_blocks(report: Report, *, title: str = "Incident metrics", charts_note: str | None = None) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=cut(title, 150)),
        ContextBlock(elements=[MarkdownTextObject(text=scope(report))]),
    ]
    if report.total == 0:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No incident was declared in this period.")))
        return blocks
    reopened = f", {report.reopened} reopened" if report.reopened else ""
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join(
                    [
                        f"*{report.total}* incidents: {report.open} open, {report.resolved} resolved{reopened}",
                        _counts("By severity", report.by_severity),
                        _counts("By service", report.by_service),
                        _counts("By team", report.by_team),
                    ]
                )
            )
        )
    )
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join(
                    [
                        spread_line("Time to acknowledge", report.to_acknowledge),
                        spread_line("Time to mitigate", report.to_mitigate),
                        spread_line("Time to resolve", report.to_resolve),
                    ]
                )
            )
        )
    )
    gap_lines = [f"*Stakeholder-update gaps:* {_gaps(report.gap_total)}"]
    for team, totals in list(report.gaps_by_team.items())[:TOP]:
        gap_lines.append(f"• {md(team, 80)}: {_gaps(totals)}")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(gap_lines))))
    f = report.followups
    lines = [f"*Follow-ups:* {f.opened} opened, {f.done} done, {len(f.overdue)} overdue"]
    for o in f.overdue[:OVERDUE_SHOWN]:
        if o.private:
            lines.append(f"• {o.incident_ref}: a follow-up of a private incident ({o.age.days} days)")
        else:
            lines.append(f"• {o.incident_ref}: {md(o.text, 150)} ({user(o.owner_id, 'no owner')}, {o.age.days} days)")
    if len(f.overdue) > OVERDUE_SHOWN:
        lines.append(f"…and {len(f.overdue) - OVERDUE_SHOWN} more")
    blocks.append(SectionBlock(text=MarkdownTextObject(text=cut("\n".join(lines), 3000))))
    if charts_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=charts_note)]))
    return blocks


def digest_blocks(report: Report) -> list[Block]:
    blocks = stats_blocks(report, title="Last week's incidents")
    if report.incidents:
        listed = [
            f"• {i.ref} {md(i.severity, 20)} {'private incident' if i.private else md(i.title, 120)} "
            f"({'open' if i.resolved_at is None else 'resolved'})"
            for i in report.incidents[:20]
        ]
        more = [f"…and {len(report.incidents) - 20} more"] if len(report.incidents) > 20 else []
        blocks.insert(2, SectionBlock(text=MarkdownTextObject(text=cut("\n".join(listed + more), 3000))))
    return blocks


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]
