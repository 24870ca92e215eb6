"""`incidents report` on the fixture month, with the clock frozen at its NOW: each format, the charts' data, and
what bad options are told."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from app.charts.stats import all_charts, gap_bins, incidents_per_service, time_to_mitigate_trend, update_gap_histogram
from app.cli.main import main
from incidents import metrics_query
from incidents.metrics import IncidentRow, Rows, report
from tests.metrics.fixture import NOW, SINCE, seed

PNG = b"\x89PNG\r\n\x1a\n"
OWNERS = """
teams:
  - name: storefront
  - name: payments
  - name: discovery
services:
  - name: checkout
    team: storefront
  - name: payments
    team: payments
  - name: search
    team: discovery
"""


@pytest.fixture
def run(database_url, sessions, process, monkeypatch, tmp_path, time_machine):
    seed(sessions, process)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FOLLOWUP_OVERDUE_DAYS", "14")
    monkeypatch.delenv("OWNERSHIP_MAP_PATH", raising=False)
    time_machine.move_to(NOW, tick=False)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def month_report(sessions, process):
    seed(sessions, process)
    with sessions() as s:
        return metrics_query.build_report(s, since=SINCE, until=NOW, now=NOW)


def test_json_report_has_the_hand_checked_figures(run):
    result = run("--since", "30d", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["incidents"]["total"] == 6 and data["incidents"]["open"] == 2 and data["incidents"]["reopened"] == 1
    assert data["durations"]["to_mitigate"] == {
        "measured": 4,
        "skipped": 1,
        "open": 1,
        "median_seconds": 1650.0,  # 27m 30s
        "p90_seconds": 5400.0,  # 90m
    }
    assert data["followups"]["opened"] == 4  # INC-7's is outside the period
    # Overdue after 14 days, whenever the incident was declared: INC-7's (20 Oct, 41 days), INC-1's open one
    # (2 Nov, 28 days), INC-4's (11 Nov, 19 days); INC-5's is 6 days old
    assert [o["incident"] for o in data["followups"]["overdue"]] == ["INC-7", "INC-1", "INC-4"]
    assert sorted(data["update_gaps"]["minutes"]) == [70.0, 80.0]


def test_teams_come_from_the_ownership_map(run, tmp_path):
    (tmp_path / "owners.yml").write_text(OWNERS)
    data = json.loads(run("--since", "30d", "--format", "json", "--owners", str(tmp_path / "owners.yml")).output)
    assert data["incidents"]["by_team"] == {"storefront": 3, "payments": 2, "discovery": 2}
    assert data["update_gaps"]["by_team"]["storefront"]["silent_seconds"] == 80 * 60


def test_markdown_and_csv_reports(run, tmp_path):
    md = run("--since", "30d", "--severity", "sev1").output  # severities are matched regardless of case
    assert "# Incident metrics" in md and "severity SEV1" in md
    assert "| to acknowledge | 12m 30s | 20m 00s | 2 | 0 | 0 |" in md  # INC-1 5m and INC-5 20m
    result = run("--since", "30d", "--format", "csv", "--output", str(tmp_path / "r.csv"))
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text())))
    assert rows[0] == ["section", "key", "measure", "value"]
    assert ["to_resolve", "all", "median_seconds", str(9000)] in rows  # 2h 30m
    assert ["service", "checkout", "incidents", "3"] in rows


def test_png_writes_three_non_empty_charts(run, tmp_path):
    result = run("--since", "30d", "--format", "png", "--output", str(tmp_path / "charts"))
    assert result.exit_code == 0, result.output
    for name in ("time-to-mitigate", "incidents-per-service", "update-gaps"):
        data = (tmp_path / "charts" / f"{name}.png").read_bytes()
        assert data.startswith(PNG) and len(data) > 2000


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "soon"], "is not a duration"),
        (["--since", "0d"], "longer than zero"),
        (["--severity", "SEV9"], "the severities are SEV1, SEV2, SEV3, SEV4"),
        (["--format", "pdf"], "'pdf' is not one of"),
        (["--since", "2d", "--since", "3d"], "--since is given twice; give it once."),  # click would keep 3d
        (["--format", "md", "--format=json"], "--format is given twice"),
    ],
)
def test_bad_options_say_what_to_write(run, args, expected):
    result = run(*args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_chart_data_is_what_the_report_says(month_report):
    ttm = time_to_mitigate_trend(month_report)
    assert ttm.labels == ("26 Oct", "02 Nov", "09 Nov", "16 Nov", "23 Nov", "30 Nov")
    assert ttm.values == (None, 60.0, 20.0, None, 25.0, None)  # medians in minutes; empty weeks are gaps
    services = incidents_per_service(month_report)
    assert (services.labels, services.values) == (("checkout", "payments", "search"), (3.0, 2.0, 2.0))
    gaps = update_gap_histogram(month_report)
    assert gaps.labels == ("0-15", "15-30", "30-60", "60-120", "120-240", "240-480", "480+")
    assert gaps.values == (0, 0, 0, 2, 0, 0, 0)  # 70 and 80 minutes
    assert all(c.png.startswith(PNG) for c in all_charts(month_report))


def test_gap_bins_put_a_boundary_in_the_higher_bin():
    assert gap_bins([0, 14.9, 15, 480, 10_000])[1] == (2, 1, 0, 0, 0, 0, 2)


def test_a_service_name_with_dollar_signs_is_drawn_as_text_not_as_math():
    """matplotlib reads `$...$` in a tick label as TeX; "a $x_$ b" is not valid TeX and failed at savefig."""
    row = IncidentRow(1, 1, "t", "SEV1", ("a $x_$ b",), "triage", SINCE, None, None, None)
    chart = incidents_per_service(report(Rows(SINCE, NOW, (row,), ()), now=NOW))
    assert chart.labels == ("a $x_$ b",) and chart.png.startswith(PNG)
