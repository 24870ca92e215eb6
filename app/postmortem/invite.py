"""The post-mortem review as a calendar invite: an iCalendar file (RFC 5545) built with `icalendar`.

One VEVENT per review, whose UID stays the same for good (the review's `uid`): rescheduling sends it again with a
higher SEQUENCE, so calendars move the meeting instead of adding another; waiving a scheduled review sends
METHOD:CANCEL with STATUS:CANCELLED. DTSTART and DTEND carry the TZID of TIMEZONE, and the VTIMEZONE is included
(none for UTC, written as `...Z`). ORGANIZER and ATTENDEE are `mailto:` addresses (Slack profile emails); the
caller keeps the ORGANIZER the same for every SEQUENCE of a UID."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//incident-bot//post-mortem review//EN"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Invite:
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    stamp: datetime  # DTSTAMP: when this version was made (scheduled, moved or called off)
    summary: str
    description: str
    url: str | None
    timezone: str
    organizer: Person | None
    attendees: Sequence[Person]
    cancel: bool = False


def invite_ics(invite: Invite) -> bytes:
    """The invite as an .ics file. Without an organizer (nobody's email is known) it is published, not sent as
    a request: RFC 5546 requires an ORGANIZER on REQUEST and CANCEL."""
    tz = ZoneInfo(invite.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    method = ("CANCEL" if invite.cancel else "REQUEST") if invite.organizer else "PUBLISH"
    calendar.add("method", method)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", invite.stamp)
    event.add("dtstart", invite.starts_at.astimezone(tz))
    event.add("dtend", invite.ends_at.astimezone(tz))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    if invite.url:
        event.add("url", invite.url)
    event.add("status", "CANCELLED" if invite.cancel else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if invite.organizer:
        event.add("organizer", _address(invite.organizer), encode=False)
    for person in invite.attendees:
        attendee = _address(person)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
        attendee.params["RSVP"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    year = invite.starts_at.astimezone(tz).year  # the zone's rules around the meeting, not since 1970
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return calendar.to_ical()


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    return address
