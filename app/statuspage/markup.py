"""What people wrote in Slack (mrkdwn) as safe HTML and as plain text, for readers outside Slack.

Everything is escaped. No Slack id ever comes out: a person mentioned (`<@U123>`) reads "a team member" (the
status page never calls Slack, so it knows no names, and stakeholders need none), a user group "a team", a
channel its name when the mention carries one (`<#C1|ops>` reads #ops) or "a channel". `<!here>` and the like
are left out. Links are kept only when they are http(s); `*bold*`, `_italic_`, `~struck~` and `` `code` `` become
<strong>, <em>, <del> and <code> (plain text drops the marks)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markupsafe import Markup

PERSON, TEAM, CHANNEL = "a team member", "a team", "a channel"

_ANGLE = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_STYLES = (
    (re.compile(r"(?<![\w`])`([^`\n]+)`(?![\w`])"), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "del"),
)
_SPACES = re.compile(r"[ \t]{2,}")
_STRAY = re.compile(r"[<>]")


@dataclass(frozen=True)
class Piece:
    text: str  # as a person reads it (Slack's &amp; &lt; &gt; undone)
    href: str | None = None  # a link's address (http or https only)
    styled: bool = True  # the text's *marks* are read as styles (not in a link's label or a mention)


def pieces(mrkdwn: str) -> list[Piece]:
    """`mrkdwn` cut into plain text, links and the words that stand for mentions."""
    out: list[Piece] = []
    at = 0
    for match in _ANGLE.finditer(mrkdwn or ""):
        out.append(Piece(_literal(mrkdwn[at : match.start()])))
        out.append(_angle(match.group(1).strip(), match.group(2)))
        at = match.end()
    out.append(Piece(_literal((mrkdwn or "")[at:])))
    return [p for p in out if p.text]


def _literal(raw: str) -> str:
    """Text between the <...> parts: Slack escapes a written < and > (&lt; &gt;), so a bare one is a broken
    fragment of markup and is left out; the escapes are undone."""
    return html.unescape(_STRAY.sub("", raw))


def _angle(target: str, label: str | None) -> Piece:
    label = html.unescape(label.strip()) if label and label.strip() else None
    if target.startswith("@"):
        return Piece(PERSON, styled=False)
    if target.startswith("#"):
        return Piece("#" + label.lstrip("#") if label else CHANNEL, styled=False)
    if target.startswith("!subteam^"):
        return Piece(TEAM, styled=False)
    if target.startswith("!"):  # <!here>, <!channel>; <!date^...|fallback> reads as its fallback text
        return Piece(label or "", styled=False) if target.startswith("!date^") else Piece("", styled=False)
    address = html.unescape(target)
    if re.match(r"https?://[^\s]+$", address, re.IGNORECASE):
        return Piece(label or address, href=address, styled=False)
    return Piece(label or address, styled=False)  # mailto:, tel: and anything else: the words, no link


def to_html(mrkdwn: str) -> Markup:
    """Escaped HTML (no block elements: keep the line breaks with `white-space: pre-line`)."""
    parts: list[str] = []
    for piece in pieces(mrkdwn):
        text = html.escape(piece.text, quote=False)
        if piece.href is not None:
            href = html.escape(piece.href, quote=True)
            parts.append(f'<a href="{href}" rel="nofollow noopener noreferrer">{text}</a>')
        elif piece.styled:
            for pattern, tag in _STYLES:
                text = pattern.sub(rf"<{tag}>\1</{tag}>", text)
            parts.append(text)
        else:
            parts.append(text)
    return Markup(_SPACES.sub(" ", "".join(parts)).strip())  # every piece was escaped above


def to_text(mrkdwn: str) -> str:
    """Plain text: links as `label (address)` when the label is not the address, marks dropped."""
    parts: list[str] = []
    for piece in pieces(mrkdwn):
        if piece.href is not None:
            parts.append(piece.text if piece.text == piece.href else f"{piece.text} ({piece.href})")
        elif piece.styled:
            text = piece.text
            for pattern, _tag in _STYLES:
                text = pattern.sub(r"\1", text)
            parts.append(text)
        else:
            parts.append(piece.text)
    return _SPACES.sub(" ", "".join(parts)).strip()
