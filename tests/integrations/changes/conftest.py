"""The change-event tests' fixtures: the real app (tests/slack) with CHANGE_EVENTS_TOKEN, GITHUB_WEBHOOK_SECRET
and the ownership map of `ownership.yml` (checkout depends on ledger and auth)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.bootstrap import load_ownership
from app.settings import Settings
from tests.integrations.changes.changes_helpers import GITHUB_SECRET, MAP, TOKEN
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import Harness


@pytest.fixture
def change_settings(settings: Settings) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "change_events_token": SecretStr(TOKEN),
            "github_webhook_secret": SecretStr(GITHUB_SECRET),
            "ownership_map_path": (MAP,),
            "changes_window_hours": 6.0,
        }
    )


@pytest.fixture
def bot(harness: Harness, change_settings: Settings) -> Harness:  # noqa: F811
    """The harness serving with the change-event settings and the map, as `incidents serve` builds it."""
    runtime = harness.runtime
    runtime.settings = change_settings  # type: ignore[misc]
    runtime.__dict__.pop("process", None)  # built again from these settings (a cached_property)
    harness.use_deps(owners=load_ownership(change_settings))
    return harness
