"""The Slack layer's fixtures for the metrics' Slack tests (the real app against the Slack double)."""

from __future__ import annotations

from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
