"""The domain records facts; words, and Slack's markup in them, are written at the edge (app/slack/blocks/facts.py,
app/postmortem, the CLI). This fails when a string under incidents/ holds Slack markup: a mention or a channel
(`<@U1>`, `<#C1>`), a special mention (`<!here>`), or mrkdwn bold around words (`*mitigated*`, `*{new}*`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

INCIDENTS = Path(__file__).resolve().parents[2] / "incidents"
# Migrations are a frozen record of what was stored: 0002 reads and writes back the sentences 0001 stored.
FROZEN = INCIDENTS / "migrations" / "versions"
ANGLE = re.compile(r"<[@#!]")
# Slack's bold: a `*` not after a word character, then a word (or an f-string value), then a `*` not before one.
# `\s*`, `k*I` and `5 * 3` in regexes and prose are not bold.
BOLD = re.compile(r"(?<![\w*\\])\*(?=[A-Za-z{])[^*\n]*?[A-Za-z0-9}]\*(?![\w*])")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal with its line; an f-string with `{}` in place of each value."""
    found, inside = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            found.append((node.lineno, "".join(str(p) for p in parts)))
            inside.update(id(v) for v in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside:
            found.append((node.lineno, node.value))
    return found


def markup_in(source: str) -> list[tuple[int, str]]:
    return [(line, s) for line, s in _strings(ast.parse(source)) if ANGLE.search(s) or BOLD.search(s)]


def test_no_string_under_incidents_holds_slack_markup():
    problems = []
    for path in sorted(INCIDENTS.rglob("*.py")):
        if FROZEN in path.parents:
            continue
        problems += [f"{path.relative_to(INCIDENTS.parent)}:{line}: {s!r}" for line, s in markup_in(path.read_text())]
    for path in sorted((INCIDENTS / "templates").iterdir()):
        problems += [f"{path.relative_to(INCIDENTS.parent)}: {m.group(0)!r}" for m in ANGLE.finditer(path.read_text())]
    assert problems == []


def test_the_check_sees_mentions_channels_and_bold_but_not_regexes_or_arithmetic():
    """The rule itself: what it flags and what it leaves alone."""
    flagged = [
        'x = f"Acknowledged by <@{user}>"',
        'x = "see <#C123|ops>"',
        'x = "<!here> look"',
        'x = f"Severity changed to *{new}* by someone"',
        'x = "marked as *mitigated*: restored"',
        '"""A docstring naming <@U1>."""',
    ]
    ignored = [
        r'x = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[ap]m)?"',
        'x = "stage k at D + k*I, then k*I again"',
        'x = "5 * 3 * 2"',
        'x = "**kwargs and *args"',
        r'x = r"\*(?=\S)([^*\n]*?\S)\*"',
        'x = "Acknowledged by someone"',
    ]
    assert [s for s in flagged if not markup_in(s)] == []
    assert [s for s in ignored if markup_in(s)] == []
