"""The Slack layer's fixtures (a seeded workspace double, the real app, the simulator), with the ownership map of
`ownership.yml` loaded as at start-up and the people and user groups it names added to the workspace."""

from __future__ import annotations

import pytest

from app.bootstrap import load_ownership
from app.settings import Settings
from tests.owners_slack.owners_helpers import (
    ANA,
    IDENTITY_GROUP,
    IDENTITY_PRIMARY,
    MAP,
    PAYMENTS_GROUP,
    PAYMENTS_PRIMARY,
    PLATFORM_MEMBER,
)
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import Harness


@pytest.fixture
def map_settings(settings: Settings) -> Settings:  # noqa: F811
    return settings.model_copy(update={"ownership_map_path": (MAP,)})


@pytest.fixture
def owned(harness: Harness, map_settings: Settings) -> Harness:  # noqa: F811
    """The harness, with the map loaded the way `incidents serve` loads it."""
    ws = harness.workspace
    ws.add_user("pat", "Pat Payments", email="pat@example.com", user_id=PAYMENTS_PRIMARY)
    ws.add_user("ana", "Ana Second", email="ana@example.com", user_id=ANA)
    ws.add_user("ivy", "Ivy Identity", email="ivy@example.com", user_id=IDENTITY_PRIMARY)
    ws.add_user("plato", "Plato Platform", email="plato@example.com", user_id=PLATFORM_MEMBER)
    ws.add_usergroup("payments-oncall", "Payments on-call", [PAYMENTS_PRIMARY, ANA], group_id=PAYMENTS_GROUP)
    ws.add_usergroup("identity-oncall", "Identity on-call", [IDENTITY_PRIMARY], group_id=IDENTITY_GROUP)
    harness.use_owners(load_ownership(map_settings))
    return harness
