"""What people are told about pages in Slack: the replies to `/incident page` and the Page owners button."""

from __future__ import annotations

from collections.abc import Sequence

from app.slack.blocks.text import md
from incidents.models import Page

VENDORS = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}
NO_PAGER_HINT = "add `pager: {service: pagerduty, key_env: PAGERDUTY_<TEAM>_KEY}` (or opsgenie) to the team in the map"


def vendor(name: str) -> str:
    return VENDORS.get(name, name)


def team_name(name: str) -> str:
    return f"*{md(name, 150)}*"


def paging_text(page: Page) -> str:
    return (
        f"Paging team {team_name(page.team)} through {vendor(page.pager)}. I will say in the channel when it went out."
    )


def already_text(page: Page, ref: str) -> str:
    by = f" by <@{page.requested_by}>" if page.requested_by else " automatically"
    when = page.requested_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Team {team_name(page.team)} was already paged for {ref} at {when}{by}: the page is *{page.status}*"
    if page.last_error:
        text += f" (last error: {md(page.last_error, 300)})"
    return text + ". One page per team per incident."


def no_pager_text(team: str) -> str:
    return f"Team {team_name(team)} has no pager in the ownership map: {NO_PAGER_HINT}."


def owners_paged_text(
    ref: str, *, paged: Sequence[Page], already: Sequence[Page], no_pager: Sequence[str], unknown: Sequence[str]
) -> str:
    """The ephemeral answer to the Page owners button: what was done for each owning team."""
    lines = []
    if paged:
        lines.append("Paging " + ", ".join(f"{team_name(p.team)} ({vendor(p.pager)})" for p in paged) + ".")
    for page in already:
        lines.append(already_text(page, ref))
    if no_pager:
        lines.append(
            "No pager in the ownership map for " + ", ".join(team_name(t) for t in no_pager) + f": {NO_PAGER_HINT}."
        )
    if unknown:
        lines.append("Not in the ownership map: " + ", ".join(f"*{md(s, 150)}*" for s in unknown) + ".")
    if not lines:
        lines.append(f"{ref} names no service, so there is no owner to page. Use `page <service|team>`.")
    return "\n".join(lines)
