"""The Slack layer's fixtures (a seeded workspace double, the real app, the simulator) with the ownership map
and the alert routing rules of this folder loaded as `incidents serve` loads them, their secrets in the
environment, and the triage channel in the workspace."""

from __future__ import annotations

import pytest

from app.bootstrap import load_alert_rules, load_ownership
from app.settings import Settings
from tests.integrations.alerts.alert_helpers import MAP, RULES, SECRETS, TRIAGE_CHANNEL
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import ALICE, Harness

PAYMENTS_PRIMARY = "U0PAYPRIM"
TRIAGE_ID = "C0TRIAGE1"


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:  # noqa: F811
    return settings.model_copy(update={"ownership_map_path": (MAP,), "alert_rules_path": RULES})


@pytest.fixture
def alerting(harness: Harness, alert_settings: Settings) -> Harness:  # noqa: F811
    """The harness serving /alerts/<source> with this folder's map and rules."""
    ws = harness.workspace
    ws.add_user("pat", "Pat Payments", email="pat@example.com", user_id=PAYMENTS_PRIMARY)
    ws.create_channel(TRIAGE_CHANNEL, creator=ALICE, channel_id=TRIAGE_ID, members=[ALICE, ws.bot.id])
    rules = load_alert_rules(alert_settings, harness.runtime.process, environ=SECRETS)
    harness.use_deps(owners=load_ownership(alert_settings), alert_rules=rules)
    return harness
