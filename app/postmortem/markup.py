"""Slack's markup in what people wrote (captured messages, updates, notes) read as Markdown, and the people
it mentions."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")  # Slack's *bold*, not 5 * 3 * 2
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")


def mentions(text: str) -> list[str]:
    """The Slack user ids `text` mentions (`<@U1>`, `<@U1|bob>`), in order."""
    return _MENTION.findall(text or "")


def slack_to_markdown(text: str, people: dict[str, str] | None = None) -> str:
    """Slack mrkdwn as Markdown: `<@U1>` -> @name, `<#C1|ops>` -> #ops, `<url|label>` -> [label](url),
    `<!here>` -> @here, `*bold*` -> `**bold**`, `~struck~` -> `~~struck~~`; Slack's HTML escapes are undone."""
    people = people or {}

    def one(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (people.get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            if label:
                return label if label.startswith("@") else f"@{label}"
            return "@" + target[1:].split("^")[0]
        return f"[{label}]({target})" if label else f"<{target}>"

    text = _BOLD.sub(r"**\1**", _STRIKE.sub(r"~~\1~~", _LINK.sub(one, text)))
    return html.unescape(text)
