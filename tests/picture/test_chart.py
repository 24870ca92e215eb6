"""The chart (app/charts/incident.py): a non-empty PNG of the picture, and the labels it draws (their words and
rows: the data the drawing follows, not its pixels)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import matplotlib.image
import pytest

from app.charts import incident as chart
from incidents.incident_picture import Band, IncidentPicture, Point, picture_of

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes):
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def a_picture(*, points: tuple[Point, ...] = (), minutes: float = 60, still_open: bool = False) -> IncidentPicture:
    end = T0 + timedelta(minutes=minutes)
    return IncidentPicture(
        ref="INC-7",
        title="Search is slow",
        severity="SEV3",
        timezone="Europe/Paris",
        starts_at=T0,
        ends_at=end,
        still_open=still_open,
        bands=(Band("triage", T0, end, open=still_open),),
        ticks=(),
        missed=(),
        points=points,
    )


def pinned(i: int, minute: float, text: str = "look at this") -> Point:
    return Point("message", T0 + timedelta(minutes=minute), i, "U03CAROL", text=text)


def test_the_scripted_incident_is_drawn_as_a_png_with_every_point_labelled(scripted):
    picture = picture_of(scripted)
    png = chart.draw(picture, people=scripted.people)
    assert png.startswith(PNG_SIGNATURE)
    height, width, _ = pixels(png).shape
    assert (width, height) == (chart.WIDTH_IN * chart.DPI, chart.HEIGHT_IN * chart.DPI)
    placed = chart.labels(picture, scripted.people)
    assert placed.unlabelled == ()
    assert [label.text for label in placed.placed] == [
        "acknowledge: @bob",
        "pinned: @carol: payments-api error…",
        "mitigate: @carol",
        "pinned: @dan: Rolling back 2026.11.…",
        "communicate: @erin",
        "communicate: @erin → @alice",
    ]


def test_labels_in_one_row_never_run_into_each_other(scripted):
    picture = picture_of(scripted)
    start, end = chart.window(picture)
    per_char = (end - start) * (chart.CHAR_PX / chart.AXES_PX)
    rows: dict[int, list[chart.Label]] = {}
    for label in chart.labels(picture, scripted.people).placed:
        rows.setdefault(label.level, []).append(label)
        assert label.at >= label.point.at, "a label starts at its point or to its right"
    assert len(rows) > 1, "close points are staggered"
    for row in rows.values():
        for before, after in zip(row, row[1:], strict=False):
            assert before.at + per_char * len(before.text) <= after.at


def test_many_points_label_the_first_ones_and_count_the_rest():
    points = tuple(pinned(i, i * 1.5) for i in range(40))
    picture = a_picture(points=points)
    placed = chart.labels(picture)
    assert len(placed.placed) == chart.MAX_LABELS
    assert [p.event_id for p in placed.unlabelled] == list(range(chart.MAX_LABELS, 40))
    assert {label.level for label in placed.placed} <= set(range(chart.LEVELS))
    assert pixels(chart.draw(picture)).shape[0] == chart.HEIGHT_IN * chart.DPI


def test_role_changes_are_labelled_before_pinned_messages_when_the_labels_run_out():
    messages = tuple(pinned(i, i) for i in range(20))
    role = Point("role_assigned", T0 + timedelta(minutes=50), 99, "U02BOB", role="mitigate", user_id="U03CAROL")
    placed = chart.labels(a_picture(points=(*messages, role)), {"U03CAROL": "carol"})
    assert "mitigate: @carol" in [label.text for label in placed.placed]
    assert len(placed.unlabelled) == 21 - chart.MAX_LABELS


def test_pinned_text_is_shown_plain_and_short():
    point = pinned(1, 5, "<@U04DAN> rolled back *now* &amp; see <https://grafana.example.com/d/1|the board>")
    assert chart.label_text(point, {"U03CAROL": "carol", "U04DAN": "dan"}) == "pinned: @carol: @dan rolled back no…"
    short = pinned(2, 5, "costs $5 &lt;a&gt; $1")
    assert chart.label_text(short) == "pinned: @U03CAROL: costs $5 <a> $1"


@pytest.mark.parametrize("text", ["costs $5 and $6", "🔥 fire 🔥", "日本語のメッセージ", "x" * 500, "$\\frac{1}{0}$"])
def test_any_text_people_pinned_draws(text):
    assert chart.draw(a_picture(points=(pinned(1, 5, text),))).startswith(PNG_SIGNATURE)


def test_a_very_short_incident_is_drawn_over_the_minimum_window():
    picture = a_picture(minutes=0.5)
    start, end = chart.window(picture)
    assert end - start >= chart.MIN_WINDOW
    assert start <= picture.starts_at and picture.ends_at <= end
    assert chart.draw(picture).startswith(PNG_SIGNATURE)


def test_an_open_incident_with_nothing_but_its_triage_is_drawn():
    picture = a_picture(still_open=True)
    assert chart.labels(picture).placed == ()
    assert chart.draw(picture).startswith(PNG_SIGNATURE)


def test_an_incident_over_several_days_is_drawn():
    picture = replace(a_picture(minutes=3 * 24 * 60), points=(pinned(1, 2000),))
    assert chart.draw(picture).startswith(PNG_SIGNATURE)


def test_a_title_with_dollar_signs_is_drawn_as_text_not_as_math():
    """matplotlib reads `$...$` as TeX; "a $x_$ b" is not valid TeX and failed at savefig."""
    png = chart.draw(replace(a_picture(), title="Costs a $x_$ b"))
    assert png.startswith(PNG_SIGNATURE) and pixels(png).size
