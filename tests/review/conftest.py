"""Fixtures for the post-mortem review tests: a team in Europe/Paris, a clock frozen on a Thursday afternoon."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.sandbox.webapi import RunningServer
from app.settings import Settings, load_settings
from incidents.process import Process
from tests.slack.conftest import clock, harness, slack_api, workspace  # noqa: F401
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET

TIMEZONE = "Europe/Paris"


@pytest.fixture
def now() -> datetime:
    """Thursday 3 December 2026, 16:00 in Paris."""
    return datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def process() -> Process:
    return Process(timezone=TIMEZONE, review_within_working_days=5, review_minutes=60)


@pytest.fixture
def settings(database_url: str, slack_api: RunningServer, tmp_path) -> Settings:  # type: ignore[no-untyped-def]  # noqa: F811
    return load_settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api.base_url,
        slack_timeout_seconds=2,
        slack_retry_max_wait_seconds=0,
        listener_threads=16,
        timezone=TIMEZONE,
        review_within_working_days=5,
        review_duration_minutes=60,
    )
