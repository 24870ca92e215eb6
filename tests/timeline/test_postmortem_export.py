"""Both exports of a scripted incident, compared with reviewed expected files (tests/timeline/expected).

After a deliberate change to the draft, regenerate with `UPDATE_EXPECTED=1 pytest tests/timeline`, then read
the diff as a reviewer would before committing it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.postmortem.render import SCHEMA_VERSION, render_json, render_markdown
from incidents.postmortem import PostmortemData, build
from incidents.queries import get_incident
from tests.timeline import timeline_scenario as scenario

EXPECTED = Path(__file__).parent / "expected"


@pytest.fixture
def exported(sessions, process) -> PostmortemData:
    scenario.play(sessions, process)
    with sessions() as s:
        return build(
            s,
            get_incident(s, 1),
            now=scenario.GENERATED,
            timezone=scenario.TIMEZONE,
            process=process,
            owners_of=scenario.owners_of,
            name_of=scenario.PEOPLE.get,
        )


def matches_expected(name: str, text: str) -> bool:
    path = EXPECTED / name
    if os.environ.get("UPDATE_EXPECTED"):
        path.write_text(text, encoding="utf-8")
    return text == path.read_text(encoding="utf-8")


def test_the_markdown_draft_matches_the_reviewed_file(exported):
    assert matches_expected("INC-1.md", render_markdown(exported))


def test_the_json_export_matches_the_reviewed_file(exported):
    assert matches_expected("INC-1.json", render_json(exported))


def test_the_json_export_is_versioned(exported):
    document = json.loads(render_json(exported))
    assert document["schema_version"] == SCHEMA_VERSION == 1


def test_an_unpinned_message_appears_in_neither_export(exported):
    assert "lunch order" not in render_markdown(exported)
    assert "lunch order" not in render_json(exported)


def test_the_draft_has_every_section_the_review_needs(exported):
    draft = render_markdown(exported)
    for heading in (
        "## Summary and impact",
        "## Key times",
        "## Roles",
        "## Affected services and owners",
        "## Stakeholder updates",
        "## Communication gaps",
        "## Timeline",
        "## Contributing factors: five whys",
        "## What went well",
        "## What went badly",
        "## Where we got lucky",
        "## Follow-up actions",
    ):
        assert heading in draft


def test_the_draft_asks_about_systems_not_culprits(exported):
    draft = render_markdown(exported).lower()
    assert "blameless" in draft and "not culprits" in draft
    for word in ("fault", "blame ", "culprit:", "responsible person", "human error"):
        assert word not in draft
