"""Owner lookup and engagement messages: the `/incident owner` answer, and the message that tells a team why it
was brought into an incident channel. Values from the ownership map are escaped like user text.

People are shown through `show(contact)`, which the caller gives (a Slack user id becomes a mention, an email
the mention of whoever has it in Slack, or the email marked as not found): these builders do no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, MarkdownTextObject, SectionBlock

from app.slack.blocks.text import cut, md
from incidents.engagement import Outcome
from incidents.models import Incident
from incidents.owners import Link, OwnershipMap, Service, ServiceMatch, Team
from incidents.owners.model import SLACK_CHANNEL_ID

Show = Callable[[str], str]
SECTION_MAX = 3000
LABEL_MAX = 200
DEPENDENCIES_SHOWN = 15


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=cut(text, SECTION_MAX))])


def link(url: str, label: str) -> str:
    """A mrkdwn link; the URL was validated by the map (http/https, no spaces)."""
    safe = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{md(label, LABEL_MAX).replace('|', '¦')}>"


def dashboards(links: Sequence[Link]) -> str:
    return ", ".join(link(d.url, d.title or d.url) for d in links)


def team_channel(reference: str | None) -> str | None:
    """A channel id becomes a link; a name is shown as written (`#payments`)."""
    if not reference:
        return None
    return f"<#{reference}>" if SLACK_CHANNEL_ID.match(reference) else md(reference, 80)


def usergroup_label(reference: str | None) -> str | None:
    """Shown, never mentioned: an answer to one person should not notify a whole team."""
    return f"`{md(reference, 80)}`" if reference else None


def _reach(team: Team) -> str:
    return " · ".join(filter(None, [usergroup_label(team.slack_usergroup), team_channel(team.channel)]))


def _team_lines(ownership: OwnershipMap, team: Team, show: Show) -> list[str]:
    first = ownership.first_contacts(team)
    lines = [f"*Contact first:* {', '.join(show(c) for c in first) if first else '_nobody listed_'}"]
    if len(team.escalation) > 1:
        steps = [f"{n}. {show(step.user)} ({md(step.role, 40)})" for n, step in enumerate(team.escalation, 1)]
        lines.append("*Escalation:* " + " → ".join(steps))
    if team.contact:
        lines.append(f"*How to reach them:* {md(team.contact, 500)}")
    return lines


def owner_blocks(ownership: OwnershipMap, match: ServiceMatch, show: Show, *, command: str) -> list[Block]:
    """Who owns a service, who to call first, its runbook and dashboards, and who owns what it depends on."""
    service = match.service
    owners = ownership.owners_of(service)
    team = owners.team
    heading = f":busts_in_silhouette: *{md(service.name, 150)}*"
    if match.by_alias:
        heading += f" (alias _{md(match.matched, 80)}_)"
    if service.tier:
        heading += f" · tier {service.tier}"
    reach = _reach(team)
    lines = [heading, f"Owned by *{md(team.name, 150)}*" + (f" · {reach}" if reach else "")]
    lines += _team_lines(ownership, team, show)
    lines.append(f"*Runbook:* {link(service.runbook, 'open the runbook') if service.runbook else '_none listed_'}")
    if service.dashboards:
        lines.append(f"*Dashboards:* {dashboards(service.dashboards)}")
    blocks: list[Block] = [_section("\n".join(lines))]
    if owners.dependencies:
        shown = owners.dependencies[:DEPENDENCIES_SHOWN]
        deps = [
            f"• *{md(d.service.name, 150)}*: {md(d.team.name, 150)}, first {_first(ownership, d.team, show)}"
            for d in shown
        ]
        if len(owners.dependencies) > len(shown):
            deps.append(f"• …and {len(owners.dependencies) - len(shown)} more")
        blocks += [DividerBlock(), _section("*It depends on*\n" + "\n".join(deps))]
    blocks.append(_context(f"In an incident channel, `{command} engage {md(service.name, 150)}` brings them in."))
    return blocks


def _first(ownership: OwnershipMap, team: Team, show: Show) -> str:
    first = ownership.first_contacts(team)
    return ", ".join(show(c) for c in first) if first else "_nobody listed_"


def team_blocks(ownership: OwnershipMap, team: Team, show: Show, *, command: str) -> list[Block]:
    reach = _reach(team)
    lines = [f":busts_in_silhouette: *Team {md(team.name, 150)}*" + (f" · {reach}" if reach else "")]
    lines += _team_lines(ownership, team, show)
    services = ownership.services_of(team)
    lines.append("*Services:* " + (", ".join(md(s.name, 150) for s in services) if services else "_none_"))
    return [
        _section("\n".join(lines)),
        _context(f"In an incident channel, `{command} engage {md(team.name, 150)}` brings them in."),
    ]


def owner_text(service: Service) -> str:
    return cut(f"Owners of {service.name}", 300)


def not_found_text(query: str, suggestions: Sequence[str]) -> str:
    name = md(query, 80).replace("`", "'")
    text = f"No service or team is called `{name}` in the ownership map."
    if suggestions:
        text += " Did you mean " + " or ".join(f"*{md(s, 150)}*" for s in suggestions) + "?"
    return text


NO_MAP = (
    "There is no service ownership map: an admin can point the `OWNERSHIP_MAP_PATH` setting at one "
    "(see docs/ownership-map.example.yml)."
)


# --- in the incident channel: why a team was brought in ------------------------------------------------------


def engagement_text(incident: Incident, outcome: Outcome, *, mention: str, by: str | None, declared: bool) -> str:
    """`<!subteam^S1> you own checkout, affected by INC-12: Checkout is failing. <@U1> brought you in.`"""
    title = md(incident.title, 300)
    who = f"<@{by}>" if by else "Someone"
    if outcome.services:
        names = " and ".join(", ".join(f"*{md(s, 150)}*" for s in outcome.services).rsplit(", ", 1))
        why = f"{mention} you own {names}, affected by *{incident.ref}*: {title}."
    else:
        why = f"{mention} team *{md(outcome.team, 150)}* is asked to help with *{incident.ref}*: {title}."
    if declared and not by:
        return f"{why} An alert declared it."  # no person did (incidents.alerts)
    return f"{why} {who} {'declared it' if declared else 'brought you in'}."


def engagement_blocks(
    incident: Incident,
    outcome: Outcome,
    *,
    mention: str,
    by: str | None,
    declared: bool,
    runbooks: Sequence[tuple[str, str]],
    links: Sequence[Link],
    contact: str | None,
    note: str | None = None,
) -> list[Block]:
    lines = [f":rotating_light: {engagement_text(incident, outcome, mention=mention, by=by, declared=declared)}"]
    if runbooks:
        lines.append("*Runbooks* (bookmarked in this channel): " + ", ".join(link(u, n) for n, u in runbooks))
    if links:
        lines.append(f"*Dashboards:* {dashboards(links)}")
    if contact:
        lines.append(f"*How to reach them:* {md(contact, 500)}")
    blocks: list[Block] = [_section("\n".join(lines))]
    blocks.append(_context(outcome_text(outcome) + (f" {note}" if note else "")))
    return blocks


def outcome_text(outcome: Outcome) -> str:
    """Who was invited, who was there already, who could not be invited and why."""
    parts = []
    if outcome.invited:
        parts.append("Invited " + ", ".join(f"<@{u}>" for u in outcome.invited) + ".")
    if outcome.present:
        parts.append("Already here: " + ", ".join(f"<@{u}>" for u in outcome.present) + ".")
    if outcome.missed:
        parts.append(
            "Could not invite " + "; ".join(f"{md(m.contact, 120)} ({m.reason})" for m in outcome.missed) + "."
        )
    return " ".join(parts) or "The ownership map lists nobody to invite for this team."
