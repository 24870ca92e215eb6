"""Slack mrkdwn as safe HTML and plain text: escaped, no Slack id ever, links only when http(s)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.statuspage.markup import to_html, to_text

ALLOWED_TAG = re.compile(
    r'</?(strong|em|del|code)>|<a href="https?://[^"<>]*" rel="nofollow noopener noreferrer">|</a>'
)


@pytest.mark.parametrize(
    ("mrkdwn", "html", "text"),
    [
        (
            "*Rolled back*, _slowly_, ~not~ `v1.2`",
            "<strong>Rolled back</strong>, <em>slowly</em>, <del>not</del> <code>v1.2</code>",
            "Rolled back, slowly, not v1.2",
        ),
        ("5 * 3 * 2 and snake_case_name", "5 * 3 * 2 and snake_case_name", "5 * 3 * 2 and snake_case_name"),
        ("ask <@U0ALICE> or <@W0BOB|bob>", "ask a team member or a team member", "ask a team member or a team member"),
        ("<!subteam^S0DB|@db-oncall> paged", "a team paged", "a team paged"),
        ("<!here> <!channel> we are on it", "we are on it", "we are on it"),
        ("in <#C0OPS|ops> and <#C0X>", "in #ops and a channel", "in #ops and a channel"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014> deploy", "Feb 18, 2014 deploy", "Feb 18, 2014 deploy"),
        (
            "<https://example.com/a?b=1&amp;c=2|the graph>",
            '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">the graph</a>',
            "the graph (https://example.com/a?b=1&c=2)",
        ),
        (
            "<https://example.com>",
            '<a href="https://example.com" rel="nofollow noopener noreferrer">https://example.com</a>',
            "https://example.com",
        ),
        ("<javascript:alert(1)|click> <mailto:ops@example.com|mail us>", "click mail us", "click mail us"),
        (
            '<https://x.io/"onmouseover=alert(1)|x>',  # the quote stays inside the attribute
            '<a href="https://x.io/&quot;onmouseover=alert(1)" rel="nofollow noopener noreferrer">x</a>',
            'x (https://x.io/"onmouseover=alert(1))',
        ),
        ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c", "a <b> & c"),
        ("line one\nline two", "line one\nline two", "line one\nline two"),
    ],
)
def test_mrkdwn_reads_as_safe_html_and_plain_text(mrkdwn: str, html: str, text: str) -> None:
    assert to_html(mrkdwn) == html
    assert to_text(mrkdwn) == text


@given(st.text(alphabet=st.sampled_from(list("<>@#!|*_~`&;:/\"' aU0Chtps.x\n")), max_size=80))
def test_whatever_was_written_no_markup_but_ours_and_no_slack_id_comes_out(mrkdwn: str) -> None:
    html = str(to_html(mrkdwn))
    assert "<" not in ALLOWED_TAG.sub("", html) and ">" not in ALLOWED_TAG.sub("", html)
    assert not re.search(r"<[@#!][^<>]*>", to_text(mrkdwn))  # no mention passes through as written
