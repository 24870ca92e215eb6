"""Fixtures for the incident picture: the scripted incident of tests/timeline (a fixed clock, played through the use
cases), its post-mortem data, and the Slack layer's harness for the upload."""

from __future__ import annotations

import pytest

from incidents.postmortem import PostmortemData, build
from incidents.queries import get_incident
from tests.timeline import timeline_scenario as scenario


@pytest.fixture
def scripted(sessions, process) -> PostmortemData:
    """INC-1 of the timeline scenario, resolved at 15:30 UTC, exported at 16:00 UTC in Europe/Paris."""
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


# The Slack layer's harness (signed requests into the real app, against the Web API double), for test_upload.
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: E402, F401
from tests.timeline.conftest import change, declared  # noqa: E402, F401
