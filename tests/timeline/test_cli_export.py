"""`incidents export INC-1 --format md|json [--output FILE]`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli.main import main
from app.postmortem.render import render_markdown
from app.runtime import Runtime
from app.settings import load_settings
from incidents.postmortem import build
from incidents.queries import get_incident
from tests.timeline import timeline_scenario as scenario

OWNERS_YAML = """
teams:
  - name: payments
    channel: "#team-payments"
    members: [U03CAROL]
services:
  - name: checkout
    team: payments
    runbook: https://runbooks.example.com/checkout
"""


@pytest.fixture
def played(sessions, process):
    scenario.play(sessions, process)


@pytest.fixture
def run(database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OWNERSHIP_MAP_PATH", raising=False)

    def invoke(*args: str, **settings: object):
        values = {"database_url": database_url, "timezone": scenario.TIMEZONE} | settings
        runtime = Runtime(load_settings(**values), clock=lambda: scenario.GENERATED)
        try:
            return CliRunner().invoke(main, list(args), obj={"runtime": runtime}, catch_exceptions=False)
        finally:
            runtime.engine.dispose()

    return invoke


def test_export_prints_the_markdown_draft(run, played, sessions, process):
    result = run("export", "INC-1")
    assert result.exit_code == 0, result.output
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=scenario.GENERATED, timezone=scenario.TIMEZONE, process=process)
    assert result.output == render_markdown(data)
    assert result.output.startswith("# INC-1 post-mortem: Checkout is failing\n")


def test_export_as_json_prints_the_versioned_document(run, played):
    result = run("export", "inc-1", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["schema_version"] == 1
    assert document["incident"]["ref"] == "INC-1"
    assert len(document["timeline"]) == 20


def test_export_writes_to_a_file_when_told(run, played, tmp_path):
    target = tmp_path / "out" / "INC-1.md"
    target.parent.mkdir()
    result = run("export", "INC-1", "--output", str(target))
    assert result.exit_code == 0
    assert "Wrote INC-1's post-mortem draft (md) to" in result.output  # on stderr, mixed in by CliRunner
    assert target.read_text(encoding="utf-8").startswith("# INC-1 post-mortem")


def test_export_of_an_unknown_incident_says_so(run, played):
    result = run("export", "INC-99")
    assert result.exit_code == 1
    assert "Error: There is no incident INC-99." in result.output


def test_export_of_something_that_is_not_a_reference_says_how_to_write_one(run, played):
    result = run("export", "checkout")
    assert result.exit_code == 1
    assert "write it like INC-12" in result.output


def test_export_refuses_an_unknown_format(run, played):
    result = run("export", "INC-1", "--format", "pdf")
    assert result.exit_code == 2
    assert "'pdf' is not one of 'md', 'json'" in result.output


def test_export_uses_the_time_zone_it_is_given(run, played):
    result = run("export", "INC-1", "--timezone", "UTC")
    assert "| Declared | 14:00 | — |" in result.output
    assert run("export", "INC-1", "--timezone", "Mars/Olympus").exit_code == 2


def test_export_uses_the_postmortem_template_setting(run, played, tmp_path):
    template = tmp_path / "ours.md.j2"
    template.write_text("Our review of {{ pm.ref }} ({{ pm.timeline | length }} events)\n")
    result = run("export", "INC-1", postmortem_template=template)
    assert result.output == "Our review of INC-1 (20 events)\n"


def test_export_names_owners_from_the_ownership_map(run, played, tmp_path):
    owners = tmp_path / "owners.yml"
    owners.write_text(OWNERS_YAML)
    result = run("export", "INC-1", "--owners", str(owners))
    assert "- **checkout**: owned by payments (#team-payments); first contact @U03CAROL;" in result.output
    assert "- **payments**: no owner found in the ownership map" in result.output


def test_export_goes_on_without_owners_when_the_map_is_broken(run, played, tmp_path):
    owners = tmp_path / "owners.yml"
    owners.write_text("teams: [{name: x}]\nservices: [{name: checkout, team: nobody}]\n")
    result = run("export", "INC-1", "--owners", str(owners))
    assert result.exit_code == 0
    assert "warning: the ownership map has" in result.output
    assert "No ownership map was configured" in result.output
