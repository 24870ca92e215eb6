"""The JSON export keeps the picture's data under `picture`; `incidents export --picture FILE` writes the chart
and the Markdown draft links it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from app.cli.main import main
from app.postmortem.render import SCHEMA_VERSION, render_json, render_markdown
from app.runtime import Runtime
from app.settings import load_settings
from incidents.incident_picture import picture_of
from incidents.models import Incident
from tests.timeline import timeline_scenario as scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_json_export_keeps_the_data_the_chart_is_drawn_from(scripted):
    document = json.loads(render_json(scripted))
    assert document["schema_version"] == SCHEMA_VERSION == 1, "a new field within the version"
    picture = document["picture"]
    assert (picture["starts_at"], picture["ends_at"], picture["still_open"]) == (
        "2026-11-21T14:00:00Z",
        "2026-11-21T15:30:00Z",
        False,
    )
    assert [(b["phase"], b["started_at"], b["ended_at"]) for b in picture["bands"]] == [
        ("triage", "2026-11-21T14:00:00Z", "2026-11-21T14:04:00Z"),
        ("acknowledged", "2026-11-21T14:04:00Z", "2026-11-21T14:45:00Z"),
        ("mitigated", "2026-11-21T14:45:00Z", "2026-11-21T15:30:00Z"),
    ]
    assert picture["update_ticks"] == [
        {"at": "2026-11-21T14:12:00Z", "author_id": "U05ERIN"},
        {"at": "2026-11-21T15:15:00Z", "author_id": "U01ALICE"},
    ]
    assert picture["missed_updates"] == [
        {
            "started_at": "2026-11-21T14:12:00Z",
            "due_at": "2026-11-21T14:42:00Z",
            "ended_at": "2026-11-21T15:15:00Z",
            "open": False,
        }
    ]
    timeline = {e["id"]: e for e in document["timeline"]}
    assert [p["kind"] for p in picture["points"]] == [p.kind for p in picture_of(scripted).points]
    for point in picture["points"]:
        assert timeline[point["event_id"]]["kind"] == point["kind"]
        assert timeline[point["event_id"]]["occurred_at"] == point["at"]


def test_the_markdown_draft_links_the_chart_only_when_one_goes_with_it(scripted):
    assert "timeline.png" not in render_markdown(scripted)
    linked = render_markdown(scripted, picture="INC-1-timeline.png")
    assert "role changes and pinned messages](INC-1-timeline.png)\n" in linked


@pytest.fixture
def run(database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OWNERSHIP_MAP_PATH", raising=False)

    def invoke(*args: str):
        settings = load_settings(_env_file=None, database_url=database_url, timezone=scenario.TIMEZONE)
        runtime = Runtime(settings, clock=lambda: scenario.GENERATED)
        try:
            return CliRunner().invoke(main, list(args), obj={"runtime": runtime}, catch_exceptions=False)
        finally:
            runtime.engine.dispose()

    return invoke


def test_export_writes_the_chart_and_the_draft_links_it_from_its_folder(run, sessions, process, tmp_path):
    scenario.play(sessions, process)
    (tmp_path / "drafts").mkdir()
    result = run("export", "INC-1", "-o", "drafts/INC-1.md", "--picture", "drafts/img/INC-1.png")
    assert result.exit_code != 0 and "Cannot write drafts/img/INC-1.png" in result.output
    assert not (tmp_path / "drafts" / "INC-1.md").exists(), "nothing half-written"
    (tmp_path / "drafts" / "img").mkdir()
    result = run("export", "INC-1", "-o", "drafts/INC-1.md", "--picture", "drafts/img/INC-1.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "drafts" / "img" / "INC-1.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "](img/INC-1.png)" in (tmp_path / "drafts" / "INC-1.md").read_text(encoding="utf-8")
    assert "Wrote INC-1's timeline chart to drafts/img/INC-1.png." in result.output


def test_export_as_json_with_a_picture_writes_both(run, sessions, process, tmp_path):
    scenario.play(sessions, process)
    result = run("export", "INC-1", "--format", "json", "--picture", "INC-1.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "INC-1.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "Wrote INC-1's timeline chart to INC-1.png." in result.stderr
    assert json.loads(result.stdout)["picture"]["bands"]


def test_export_draws_a_title_with_dollar_signs(run, sessions, process, tmp_path):
    scenario.play(sessions, process)
    with sessions.begin() as s:
        s.execute(update(Incident).where(Incident.number == 1).values(title="Refunds of a $x_$ b"))
    result = run("export", "INC-1", "--picture", "INC-1.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "INC-1.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "Refunds of a $x_$ b" in result.stdout
