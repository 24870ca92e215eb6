"""The "What changed recently" message: the change events for an incident's services and what they depend on,
newest first.

Rendered from the list as read when the message is sent (`shown`: services, dependencies, since, as_of,
changes as `incidents.changes.as_data` keeps them, total), so what the channel shows is what the timeline
records. At most `MAX_SHOWN` changes are listed (Block Kit takes 50 blocks); the rest are counted, with the
command that narrows them down."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from app.slack.blocks.text import cut, date, md
from app.slack.ids import ChangesBlock

MAX_SHOWN = 15
SECTION_MAX = 3000
KIND_LABELS = {
    "deploy": "Deploy",
    "config": "Config",
    "feature_flag": "Feature flag",
    "migration": "Migration",
    "infrastructure": "Infrastructure",
}
Shown = Mapping[str, Any]


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _names(names: Sequence[str], most: int = 10) -> str:
    shown = ", ".join(f"*{md(n, 100)}*" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def scope_line(shown: Shown) -> str:
    """`for *checkout* and what it depends on (*ledger*, *auth*) since <date>`."""
    services, dependencies = list(shown.get("services") or ()), list(shown.get("dependencies") or ())
    since = date(_moment(shown["since"]))
    if not services:
        return f"Every service, since {since}"
    line = f"For {_names(services)}"
    if dependencies:
        line += f" and what they depend on ({_names(dependencies)})"
    return f"{line}, since {since}"


def ago(moment: datetime, now: datetime) -> str:
    """`just now`, `12m ago`, `3h 05m ago`, `2d 4h ago`."""
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m ago"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h ago"


def change_line(change: Mapping[str, Any], now: datetime) -> str:
    """`*Deploy* · *checkout* · Deployed v2 to production · by jdoe · `abc123` · <link|details> · 25m ago (date)`."""
    at = _moment(change["occurred_at"])
    kind = KIND_LABELS.get(change.get("kind") or "", str(change.get("kind") or "change"))
    parts = [f"*{kind}*", f"*{md(change.get('service') or '', 100)}*", md(change.get("summary") or "", 1500)]
    if change.get("who"):
        parts.append(f"by {md(change['who'], 100)}")
    if change.get("version"):
        version = md(change["version"], 100).replace("`", "'")
        parts.append(f"`{version}`")
    when = f"{ago(at, now)} ({date(at)})"
    link = change.get("link")
    linked = f"<{link}|details>" if link and link.lower().startswith(("http://", "https://")) else ""
    if linked and not any(c in link for c in "<>| ") and len(" · ".join([*parts, linked, when])) <= SECTION_MAX:
        parts.append(linked)  # a link too long to fit is left out rather than cut in half
    return " · ".join([*parts, when])


def changes_text(shown: Shown) -> str:
    """The message's plain text (notifications, screen readers)."""
    count = int(shown.get("total") or 0)
    services = ", ".join([*(shown.get("services") or ()), *(shown.get("dependencies") or ())]) or "every service"
    if not count:
        return cut(f"What changed recently: no changes recorded for {services}", 3000)
    return cut(f"What changed recently: {count} change{'s' if count != 1 else ''} for {services}", 3000)


def changes_blocks(shown: Shown, *, command: str = "/incident", marker: str | None = None) -> list[Block]:
    """Header, the scope, one section per change (newest first, at most MAX_SHOWN), and how many more."""
    now = _moment(shown["as_of"])
    listed = list(shown.get("changes") or ())[:MAX_SHOWN]
    total = max(int(shown.get("total") or 0), len(listed))
    blocks: list[Block] = [
        HeaderBlock(block_id=ChangesBlock.HEADER, text="What changed recently"),
        ContextBlock(block_id=marker or ChangesBlock.SCOPE, elements=[MarkdownTextObject(text=scope_line(shown))]),
    ]
    if not listed:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="No changes recorded in this window. Deploys and config changes show here once your "
                    f"pipelines record them (`incidents changes record`, `POST /changes`); `{command} changes "
                    "<service> --since 24h` looks further back."
                )
            )
        )
        return blocks
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=change_line(c, now))) for c in listed)
    more = total - len(listed)
    if more > 0:
        hint = f"`{command} changes <service> --since <duration>` narrows it down."
        blocks.append(
            ContextBlock(
                block_id=ChangesBlock.MORE,
                elements=[MarkdownTextObject(text=f"…and {more} more not shown. {hint}")],
            )
        )
    return blocks


def marker(message_id: int) -> str:
    """The block id a retry finds this post by (app.delivery.handlers.posted)."""
    return f"{ChangesBlock.POSTED}:{message_id}"
