"""The picture of one incident drawn as a PNG: its phases as coloured bands, stakeholder updates as ticks over the
missed update windows, and role changes and pinned moments as labelled points; times on the axis in the
incident's time zone (the TIMEZONE setting).

`labels()` chooses the points' words and where each label goes (the data the drawing follows, which tests
assert); `draw()` returns the PNG's bytes. Labels are capped at MAX_LABELS (role changes first, then pinned
messages, each in time order) and staggered over LEVELS rows so that neighbours do not overlap; the other points
are drawn as marks without words and counted in a note under the chart.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib.dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from app.charts import DRAWING
from incidents.incident_picture import PHASES, IncidentPicture, Point
from incidents.timeline import EventKind

MAX_LABELS = 12
LEVELS = 5
LABEL_CHARS = 36  # a label longer than this is cut with an ellipsis
MIN_WINDOW = timedelta(minutes=10)  # a very short incident is drawn over at least this long
WIDTH_IN, HEIGHT_IN, DPI = 12.0, 4.8, 100
AXES_PX = WIDTH_IN * DPI * 0.78  # the plot area's width, to tell how much time a label's text covers
CHAR_PX = 7.4  # the width of one character at the labels' font size, roughly

COLOURS = {"triage": "#d9534f", "acknowledged": "#f0ad4e", "mitigated": "#5bc0de", "resolved": "#5cb85c"}
MISSED_COLOUR = "#c9302c"
TICK_COLOUR = "#333333"
ROW_PHASE, ROW_UPDATES, ROW_POINTS = 0.0, 1.0, 2.0


def filename(ref: str) -> str:
    """The PNG's file name, which the Markdown draft links to."""
    return f"{ref}-timeline.png"


@dataclass(frozen=True)
class Label:
    point: Point
    text: str
    level: int  # 0 is the lowest row of labels
    at: datetime  # where the text starts: the point's time, or later when its row is taken there


@dataclass(frozen=True)
class Labels:
    placed: tuple[Label, ...]  # in time order
    unlabelled: tuple[Point, ...]  # drawn as marks only (beyond MAX_LABELS)


def label_text(point: Point, people: Mapping[str, str] | None = None) -> str:
    """A point's words: `mitigate: @carol`, `communicate: @erin → @alice`, `pinned: @dan: Rolling back…`."""
    people = people or {}

    def who(user_id: str | None) -> str:
        return "@" + people.get(user_id, user_id) if user_id else "someone"

    if point.kind == EventKind.ROLE_HANDOVER:
        text = f"{point.role}: {who(point.from_user_id)} → {who(point.user_id)}"
    elif point.kind == EventKind.ROLE_ASSIGNED:
        text = f"{point.role}: {who(point.user_id)}"
    else:
        text = f"pinned: {who(point.actor_id)}: {_plain(point.text, people)}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def labels(picture: IncidentPicture, people: Mapping[str, str] | None = None) -> Labels:
    """Which points get words, and where: each label on the lowest row where it does not run into the previous
    one there; when every row is taken at its time, on the row that frees up first, moved right to that time."""
    ranked = sorted(picture.points, key=lambda p: (p.kind == EventKind.MESSAGE, p.at, p.event_id))
    chosen = {p.event_id for p in ranked[:MAX_LABELS]}
    start, end = window(picture)
    per_char = (end - start) * (CHAR_PX / AXES_PX)
    free_from: list[datetime] = [start - timedelta(days=1)] * LEVELS
    placed = []
    for point in sorted((p for p in picture.points if p.event_id in chosen), key=lambda p: (p.at, p.event_id)):
        text = label_text(point, people)
        level = next((i for i, free in enumerate(free_from) if free <= point.at), None)
        if level is None:  # every row is taken here: the text moves right, to where a row frees up first
            level = min(range(LEVELS), key=lambda i: free_from[i])
        at = max(point.at, free_from[level])
        free_from[level] = at + per_char * (len(text) + 2)
        placed.append(Label(point, text, level, at))
    unlabelled = tuple(p for p in picture.points if p.event_id not in chosen)
    return Labels(tuple(placed), unlabelled)


def window(picture: IncidentPicture) -> tuple[datetime, datetime]:
    """The span the axis shows: the picture's, at least MIN_WINDOW long, with a margin on each side."""
    start, end = picture.starts_at, picture.ends_at
    if end - start < MIN_WINDOW:
        middle = start + (end - start) / 2
        start, end = middle - MIN_WINDOW / 2, middle + MIN_WINDOW / 2
    margin = (end - start) * 0.03
    return start - margin, end + margin


def draw(picture: IncidentPicture, *, people: Mapping[str, str] | None = None) -> bytes:
    """The chart as PNG bytes."""
    with DRAWING:  # one lock for every chart (app.charts)
        return _draw(picture, people)


def _draw(picture: IncidentPicture, people: Mapping[str, str] | None) -> bytes:
    tz = ZoneInfo(picture.timezone)
    start, end = window(picture)
    placed = labels(picture, people)
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    status = "still open" if picture.still_open else "resolved"
    title = f"{picture.ref} ({picture.severity}, {status}): {picture.title}"
    ax.set_title(title, loc="left", fontsize=11, parse_math=False)  # a `$` in a title is a dollar, not TeX

    for band in picture.bands:
        ax.broken_barh(
            [(mdates.date2num(band.started_at), _width(band.started_at, band.ended_at))],
            (ROW_PHASE - 0.35, 0.7),
            facecolors=COLOURS.get(band.phase, "#999999"),
            edgecolor="white",
        )
    for missed in picture.missed:
        ax.broken_barh(
            [(mdates.date2num(missed.due_at), _width(missed.due_at, missed.ended_at))],
            (ROW_UPDATES - 0.3, 0.6),
            facecolors="none",
            edgecolor=MISSED_COLOUR,
            hatch="///",
        )
    if picture.ticks:
        ax.vlines([t.at for t in picture.ticks], ROW_UPDATES - 0.3, ROW_UPDATES + 0.3, colors=TICK_COLOUR, lw=2)
    else:
        ax.text(mdates.date2num(start), ROW_UPDATES, "  no stakeholder update", va="center", fontsize=8, color="#777")

    for label in placed.placed:
        y = ROW_POINTS + 0.45 * label.level
        ax.plot([label.point.at], [ROW_POINTS - 0.25], marker=_marker(label.point), color="#444", ms=6)
        ax.annotate(
            label.text,
            xy=(mdates.date2num(label.point.at), ROW_POINTS - 0.25),
            xytext=(mdates.date2num(label.at), y),
            fontsize=8,
            va="bottom",
            ha="left",
            arrowprops={"arrowstyle": "-", "color": "#aaaaaa", "lw": 0.6},
            annotation_clip=False,
            parse_math=False,
        )
    for point in placed.unlabelled:
        ax.plot([point.at], [ROW_POINTS - 0.25], marker=_marker(point), color="#999", ms=4)
    if placed.unlabelled:
        more = len(placed.unlabelled)
        figure.text(
            0.01,
            0.01,
            f"{more} more point{'s' if more > 1 else ''} without labels: see the timeline.",
            fontsize=8,
            color="#666",
        )

    edge = picture.ends_at
    ax.axvline(edge, color="#666", ls="--" if picture.still_open else "-", lw=1)
    ax.annotate(
        "now" if picture.still_open else "resolved",
        xy=(mdates.date2num(edge), ROW_PHASE + 0.4),
        fontsize=8,
        color="#666",
        ha="right",
        xytext=(-3, 0),
        textcoords="offset points",
    )

    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    ax.set_ylim(ROW_PHASE - 0.6, ROW_POINTS + 0.45 * LEVELS + 0.2)
    ax.set_yticks([ROW_PHASE, ROW_UPDATES, ROW_POINTS], ["Phase", "Updates", "Roles, pins"])
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    days = start.astimezone(tz).date() != end.astimezone(tz).date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M" if days else "%H:%M", tz=tz))
    ax.set_xlabel(f"Time ({picture.timezone})", fontsize=9)
    ax.grid(axis="x", color="#eeeeee")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    legend = [Patch(facecolor=COLOURS[p], label=p) for p in PHASES]
    legend.append(Patch(facecolor="none", edgecolor=MISSED_COLOUR, hatch="///", label="update overdue"))
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)

    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph the font lacks (an emoji someone pinned) is not a failure
        figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _width(started: datetime, ended: datetime) -> float:
    return mdates.date2num(ended) - mdates.date2num(started)


def _marker(point: Point) -> str:
    return "o" if point.kind == EventKind.MESSAGE else "D"


_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def _plain(text: str | None, people: Mapping[str, str]) -> str:
    """Slack mrkdwn as plain text for a label: mentions as @name, links as their label, one line."""

    def one(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (people.get(target[1:]) or label or target[1:])
        if target.startswith(("#", "!")):
            return (label or target[1:]).lstrip("@")
        return label or target

    return html.unescape(" ".join(_LINK.sub(one, text or "").replace("*", "").split()))
