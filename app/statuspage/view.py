"""The status page's view: the public incidents (`incidents.status_page`) in the words stakeholders read, with
the times in the team's time zone and what people wrote made safe (`markup`). The page and both feeds are drawn
from one `View`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from app.settings import Settings
from app.statuspage import markup
from incidents.durations import humanize
from incidents.models import Status
from incidents.status_page import PublicIncident, PublicUpdate, public_incidents

# What each status means to a reader outside the team.
STATUS_WORDS = {
    Status.TRIAGE.value: "Investigating",
    Status.ACKNOWLEDGED.value: "Identified",
    Status.MITIGATED.value: "Monitoring",
    Status.RESOLVED.value: "Resolved",
}
FEED_ITEMS = 100  # the newest updates a feed carries


@dataclass(frozen=True)
class Config:
    """The status page's settings, read once."""

    title: str
    days: int
    url: str  # the page's public address, without a trailing slash
    max_age: int
    tz: ZoneInfo
    epoch: str  # the date in tag: ids (fixed: ids never change)

    @classmethod
    def of(cls, settings: Settings) -> Config:
        return cls(
            title=settings.status_page_title,
            days=settings.status_page_days,
            url=public_url(settings),
            max_age=settings.status_page_max_age_seconds,
            tz=ZoneInfo(settings.timezone),
            epoch="2026",
        )

    @property
    def authority(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    def tag(self, specific: str) -> str:
        """A stable RFC 4151 tag: URI (`tag:status.example.com,2026:INC-3/update/17`)."""
        return f"tag:{self.authority},{self.epoch}:{specific}"


def public_url(settings: Settings) -> str:
    """STATUS_PAGE_URL; unset: the bot's address (BOT_URL) under /status, or with STATUS_PAGE_PORT on that port."""
    if settings.status_page_url:
        return settings.status_page_url
    if settings.status_page_port:
        parts = urlsplit(settings.bot_url)
        return f"{parts.scheme}://{parts.hostname}:{settings.status_page_port}"
    return f"{settings.bot_url}/status"


@dataclass(frozen=True)
class UpdateView:
    id: int
    incident: IncidentView
    posted_at: datetime
    posted: str
    html: Markup
    text: str
    fields: tuple[tuple[str, Markup, str], ...]  # (label, html, text) of impact, next steps, ETA when given

    @property
    def html_body(self) -> Markup:
        """The update and its fields, one paragraph each (the feeds' content_html)."""
        rows = [Markup("<p>{}</p>").format(self.html)]
        rows += [Markup("<p><strong>{}:</strong> {}</p>").format(label, value) for label, value, _ in self.fields]
        return Markup("").join(rows)

    @property
    def text_body(self) -> str:
        return "\n".join([self.text, *(f"{label}: {text}" for label, _, text in self.fields)])


@dataclass(frozen=True)
class IncidentView:
    ref: str
    title: str
    severity: str
    status: str
    status_words: str
    is_open: bool
    declared_at: datetime
    declared: str
    resolved_at: datetime | None
    resolved: str | None
    duration: str | None
    changed_at: datetime
    updates: list[UpdateView]  # newest first


@dataclass(frozen=True)
class View:
    config: Config
    days: int
    current: Sequence[IncidentView]
    past: Sequence[IncidentView]
    changed_at: datetime | None  # the latest change shown; None when nothing is shown

    @property
    def incidents(self) -> list[IncidentView]:
        return [*self.current, *self.past]

    @property
    def updates(self) -> list[UpdateView]:
        """The newest FEED_ITEMS updates of every incident shown, newest first."""
        every = [u for i in self.incidents for u in i.updates]
        return sorted(every, key=lambda u: (u.posted_at, u.id), reverse=True)[:FEED_ITEMS]


def build(session: Session, config: Config, *, now: datetime, days: int, number: int | None = None) -> View:
    found = [_incident(i, config) for i in public_incidents(session, now=now, days=days, number=number)]
    changed = max((i.changed_at for i in found), default=None)
    return View(
        config=config,
        days=days,
        current=[i for i in found if i.is_open],
        past=[i for i in found if not i.is_open],
        changed_at=changed,
    )


def _incident(incident: PublicIncident, config: Config) -> IncidentView:
    view = IncidentView(
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        status_words=STATUS_WORDS.get(incident.status, incident.status.title()),
        is_open=incident.is_open,
        declared_at=incident.declared_at,
        declared=when(incident.declared_at, config.tz),
        resolved_at=incident.resolved_at,
        resolved=when(incident.resolved_at, config.tz) if incident.resolved_at else None,
        duration=humanize(incident.duration) if incident.duration is not None else None,
        changed_at=incident.changed_at,
        updates=[],
    )
    view.updates.extend(_update(u, view, config) for u in reversed(incident.updates))
    return view


def _update(update: PublicUpdate, incident: IncidentView, config: Config) -> UpdateView:
    fields = tuple(
        (label, markup.to_html(value), markup.to_text(value))
        for label, value in (("Impact", update.impact), ("Next steps", update.next_steps), ("ETA", update.eta))
        if value.strip()
    )
    return UpdateView(
        id=update.id,
        incident=incident,
        posted_at=update.posted_at,
        posted=when(update.posted_at, config.tz),
        html=markup.to_html(update.text),
        text=markup.to_text(update.text),
        fields=fields,
    )


def when(moment: datetime, tz: ZoneInfo) -> str:
    """`21 Nov 2026, 15:05 CET`."""
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"
