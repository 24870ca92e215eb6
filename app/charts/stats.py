"""The metrics charts: time to mitigate by week, incidents per service, the stakeholder-update gaps' histogram.

Each chart is a `Chart`: the data drawn (what tests assert, never the pixels) and the PNG's bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from matplotlib.figure import Figure

from app.charts import DRAWING
from incidents.metrics import Report

GAP_BINS_MINUTES = (0, 15, 30, 60, 120, 240, 480)  # the last bin takes everything longer


@dataclass(frozen=True)
class Chart:
    name: str  # time-to-mitigate, incidents-per-service, update-gaps
    title: str
    labels: tuple[str, ...]  # the x axis
    values: tuple[float | None, ...]  # one per label; None: nothing to draw there (no incident that week)
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


def _render(draw, title: str, xlabel: str, ylabel: str) -> bytes:  # type: ignore[no-untyped-def]
    with DRAWING:  # one lock for every chart (app.charts)
        return _render_unlocked(draw, title, xlabel, ylabel)


def _render_unlocked(draw, title: str, xlabel: str, ylabel: str) -> bytes:  # type: ignore[no-untyped-def]
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    draw(axes)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    out = BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def time_to_mitigate_trend(report: Report) -> Chart:
    """The weekly median time to mitigate, in minutes (weeks without a mitigated incident are gaps in the line)."""
    labels = tuple(w.start.strftime("%d %b") for w in report.weeks)
    values = tuple(
        None if w.to_mitigate.median is None else round(w.to_mitigate.median.total_seconds() / 60, 1)
        for w in report.weeks
    )
    title = "Time to mitigate, median by week"

    def draw(axes) -> None:  # type: ignore[no-untyped-def]
        xs = range(len(labels))
        axes.plot(list(xs), [float("nan") if v is None else v for v in values], marker="o", color="#d9480f")
        axes.set_xticks(list(xs), labels, rotation=45, ha="right")
        axes.set_ylim(bottom=0)

    return Chart("time-to-mitigate", title, labels, values, _render(draw, title, "week starting", "minutes"))


def incidents_per_service(report: Report, *, top: int = 15) -> Chart:
    items = list(report.by_service.items())[:top]
    labels = tuple(name for name, _ in items)
    values = tuple(float(count) for _, count in items)
    title = "Incidents per service"

    def draw(axes) -> None:  # type: ignore[no-untyped-def]
        axes.bar(range(len(labels)), values, color="#1c7ed6")
        # a service's name is anyone's words: a `$` in it is a dollar, not TeX
        axes.set_xticks(list(range(len(labels))), labels, rotation=45, ha="right", parse_math=False)

    return Chart("incidents-per-service", title, labels, values, _render(draw, title, "service", "incidents"))


def gap_bins(minutes: Sequence[float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Counts per bin: `0-15`, `15-30`, ... `480+` minutes (a gap on a boundary goes in the higher bin)."""
    edges = GAP_BINS_MINUTES
    labels = [f"{a}-{b}" for a, b in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]
    counts = [0.0] * len(labels)
    for value in minutes:
        index = sum(1 for edge in edges[1:] if value >= edge)
        counts[index] += 1
    return tuple(labels), tuple(counts)


def update_gap_histogram(report: Report) -> Chart:
    labels, values = gap_bins(report.gap_minutes)
    title = "Stakeholder-update gaps"

    def draw(axes) -> None:  # type: ignore[no-untyped-def]
        axes.bar(range(len(labels)), values, color="#5f3dc4")
        axes.set_xticks(list(range(len(labels))), labels)

    return Chart("update-gaps", title, labels, values, _render(draw, title, "minutes without an update", "gaps"))


def all_charts(report: Report) -> list[Chart]:
    return [time_to_mitigate_trend(report), incidents_per_service(report), update_gap_histogram(report)]
