"""The App Home tab: what `incidents.home.build` says one person sees, in Block Kit.

Block Kit text has no colour, so "red" is a :red_circle: and a danger-styled **Post update** button on an
update that is overdue from the person (a :hourglass_flowing_sand: and a primary button while it is only due).
A home view holds at most 100 blocks and a section's text 3,000 characters: the lists are bounded by the domain
(`incidents.home.*_SHOWN`, about 45 blocks at most) and every text is cut to fit.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from app.slack.blocks.card import STATUS_LABEL
from app.slack.blocks.text import channel, date, md, user
from app.slack.ids import HOME_CALLBACK, HomeAction, HomeBlock
from incidents.durations import humanize
from incidents.home import Duty, Home, OwnedFollowUp, PostMortem, Summary
from incidents.models import Status
from incidents.process import DUTIES

SECTION_MAX = 3000
TITLE_MAX = 300
FOLLOWUP_MAX = 250
OVERDUE = ":red_circle:"
DUE = ":hourglass_flowing_sand:"


def home_view(home: Home, *, command: str = "/incident") -> View:
    blocks: list[Block] = [
        HeaderBlock(block_id=HomeBlock.HEADER, text=PlainTextObject(text="Incidents", emoji=False)),
        ActionsBlock(
            block_id=HomeBlock.ACTIONS,
            elements=[
                ButtonElement(text="Declare incident", action_id=HomeAction.DECLARE, value="declare", style="primary")
            ],
        ),
        _context(f"As of {date(home.now, '{date_short_pretty} at {time}')}. Private incidents show to their members."),
        DividerBlock(),
        *_duties(home),
        DividerBlock(),
        *_open(home, command),
        DividerBlock(),
        *_followups(home),
        DividerBlock(),
        *_postmortems(home),
    ]
    return View(type="home", callback_id=HOME_CALLBACK, blocks=blocks)


# --- the sections ---------------------------------------------------------------------------------------------


def _duties(home: Home) -> list[Block]:
    blocks: list[Block] = [_header("Your incidents")]
    if not home.duties:
        return [*blocks, _section("You hold no role in an open incident.")]
    for duty in home.duties:
        blocks.append(_duty(duty, home.now))
    if (more := home.duties_total - len(home.duties)) > 0:
        blocks.append(_context(f"…and {more} more open incident{'s' if more > 1 else ''} where you hold a role."))
    return blocks


def _duty(duty: Duty, now: datetime) -> SectionBlock:
    incident = duty.incident
    held = ", ".join(f"{DUTIES[role][0]} ({role.value})" for role in duty.roles)
    lines = [_headline(incident), md(incident.title, TITLE_MAX), f"You hold: {held}"]
    accessory = None
    if duty.update_due_at is not None:
        at = date(duty.update_due_at, "{time}")
        if duty.overdue(now):
            lines.append(f"{OVERDUE} *Stakeholder update overdue* by {humanize(now - duty.update_due_at)} (due {at})")
        else:
            lines.append(f"{DUE} Stakeholder update due in {humanize(duty.update_due_at - now)} (at {at})")
        accessory = ButtonElement(
            text="Post update",
            action_id=HomeAction.POST_UPDATE,
            value=incident.ref,
            style="danger" if duty.overdue(now) else "primary",
        )
    return SectionBlock(
        block_id=f"{HomeBlock.DUTIES}:{incident.ref}",
        text=MarkdownTextObject(text=_fit("\n".join(lines))),
        accessory=accessory,
    )


def _open(home: Home, command: str) -> list[Block]:
    blocks: list[Block] = [_header(f"Open incidents ({home.open_total})")]
    if not home.open:
        return [*blocks, _section("No open incidents.")]
    for incident in home.open:
        facts = [f"open {humanize(home.now - incident.declared_at)}", f"lead {user(incident.lead_id)}"]
        text = f"{_headline(incident)} · {' · '.join(facts)}\n{md(incident.title, TITLE_MAX)}"
        blocks.append(SectionBlock(block_id=f"{HomeBlock.OPEN}:{incident.ref}", text=MarkdownTextObject(text=text)))
    if (more := home.open_total - len(home.open)) > 0:
        blocks.append(_context(f"…and {more} more: `{command} list` lists them all."))
    return blocks


def _followups(home: Home) -> list[Block]:
    blocks: list[Block] = [_header("Your follow-ups")]
    if not home.followups:
        return [*blocks, _section("You own no open follow-up.")]
    text = _fit("\n".join(_followup(f) for f in home.followups))
    blocks.append(SectionBlock(block_id=HomeBlock.FOLLOWUPS, text=MarkdownTextObject(text=text)))
    if (more := home.followups_total - len(home.followups)) > 0:
        blocks.append(_context(f"…and {more} more."))
    return blocks


def _followup(followup: OwnedFollowUp) -> str:
    where = f" ({channel(followup.channel_id)})" if followup.channel_id else ""
    return f"• *{followup.ref}*{where}: {md(followup.text, FOLLOWUP_MAX)}"


def _postmortems(home: Home) -> list[Block]:
    blocks: list[Block] = [_header("Latest post-mortems")]
    if not home.postmortems:
        return [*blocks, _section("No incident has been resolved yet.")]
    for postmortem in home.postmortems:
        blocks.append(_postmortem(postmortem))
    return blocks


def _postmortem(postmortem: PostMortem) -> SectionBlock:
    incident = postmortem.incident
    resolved = f" · resolved {date(incident.resolved_at)}" if incident.resolved_at else ""
    draft = (
        ":page_facing_up: Draft uploaded to its channel."
        if postmortem.draft_uploaded
        else "No draft yet: *Post-mortem draft* on its card, or `postmortem` in its channel."
    )
    text = f"{_headline(incident)}{resolved}\n{md(incident.title, TITLE_MAX)}\n{draft}"
    return SectionBlock(block_id=f"{HomeBlock.POSTMORTEMS}:{incident.ref}", text=MarkdownTextObject(text=text))


# --- pieces ---------------------------------------------------------------------------------------------------


def _headline(incident: Summary) -> str:
    """`*INC-12* · SEV1 · :large_yellow_circle: Acknowledged · #inc-12-…` (and :lock: for a private one)."""
    status = status_label_of(incident.status)
    parts = [f"*{incident.ref}*", md(incident.severity, 40), status, channel(incident.channel_id)]
    if incident.private:
        parts.append(":lock: private")
    return " · ".join(parts)


def status_label_of(status: str) -> str:
    try:
        return STATUS_LABEL[Status(status)]
    except (ValueError, KeyError):
        return md(status, 40)


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text[:150], emoji=True))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_fit(text)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_fit(text))])


def _fit(text: str) -> str:
    """Whole lines within a section's 3,000 characters (the pieces are escaped already)."""
    if len(text) <= SECTION_MAX:
        return text
    kept: list[str] = []
    for line in text.split("\n"):
        if sum(len(k) + 1 for k in kept) + len(line) + 2 > SECTION_MAX:
            break
        kept.append(line)
    return "\n".join(kept) + "\n…"
