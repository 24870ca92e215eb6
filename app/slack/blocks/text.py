"""Text for Slack: escaping user text for mrkdwn, cutting it to a limit without breaking it, dates."""

from __future__ import annotations

import re
from datetime import datetime

ELLIPSIS = "…"
# Kept as they are in user text: person and channel mentions, links, and entities Slack already escaped.
_KEEP = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^<>]*)?>|<#[CG][A-Z0-9]+(?:\|[^<>]*)?>|<https?://[^<>\s]+>|&(?:amp|lt|gt);")
_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """mrkdwn-safe user text: `&`, `<`, `>` escaped (so `<!channel>` cannot ping anyone); mentions kept."""
    out, last = [], 0
    for match in _KEEP.finditer(text):
        out.append(_escape_all(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_all(text[last:]))
    return "".join(out)


def _escape_all(text: str) -> str:
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters; a cut ends with an ellipsis (plain text)."""
    text = text or ""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def md(text: str, limit: int) -> str:
    """User text escaped for mrkdwn and cut so that the escaped result fits `limit` (no half entities)."""
    text = text or ""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    # The longest prefix of the raw text whose escaped form and the ellipsis fit (escaping only lengthens text,
    # so the fit is monotonic in the prefix length): a binary search, never cutting inside an entity.
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(text[:middle].rstrip())) + len(ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle - 1
    return escape(text[:low].rstrip()) + ELLIPSIS if limit >= len(ELLIPSIS) else ""


def one_line(text: str) -> str:
    return " ".join((text or "").split())


def first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def date(moment: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's time zone; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def user(user_id: str | None, missing: str = "_unassigned_") -> str:
    return f"<@{user_id}>" if user_id else missing


def channel(channel_id: str | None, missing: str = "_channel being created_") -> str:
    return f"<#{channel_id}>" if channel_id else missing
