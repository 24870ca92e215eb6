"""The ticket tests' fixtures: both tracker doubles, the real app (tests/slack) with the ownership map of
`ownership.yml` (payments in Jira OPS, search in GitHub acme/search, ledger with no tracker) and the trackers
pointed at the doubles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from app.bootstrap import load_ownership
from app.integrations.tracker import build_trackers
from app.settings import Settings
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import (
    GITHUB_TOKEN,
    JIRA_EMAIL,
    JIRA_TOKEN,
    MAP,
    WEBHOOK_SECRET,
)
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import Harness


@pytest.fixture
def jira() -> Iterator[JiraDouble]:
    double = JiraDouble(email=JIRA_EMAIL, token=JIRA_TOKEN, projects={"OPS": {"Bug", "Task"}, "PLAT": {"Task"}})
    double.start()
    yield double
    double.stop()


@pytest.fixture
def github() -> Iterator[GitHubDouble]:
    double = GitHubDouble(token=GITHUB_TOKEN, repos={"acme/search": {"octocat"}, "acme/incidents": set()})
    double.start()
    yield double
    double.stop()


@pytest.fixture
def ticket_settings(settings: Settings, jira: JiraDouble, github: GitHubDouble) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "ownership_map_path": (MAP,),
            "jira_base_url": jira.url,
            "jira_email": JIRA_EMAIL,
            "jira_api_token": SecretStr(JIRA_TOKEN),
            "github_api_url": github.url,
            "github_issues_token": SecretStr(GITHUB_TOKEN),
            "github_issues_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "ticket_default": "github:acme/incidents",
            "tracker_timeout_seconds": 5.0,
        }
    )


@pytest.fixture
def bot(harness: Harness, ticket_settings: Settings) -> Harness:  # noqa: F811
    """The harness serving with the ticket settings, the map and the trackers, as `incidents serve` builds them."""
    return serve(harness, ticket_settings)


def serve(harness: Harness, settings: Settings) -> Harness:  # noqa: F811
    harness.runtime.settings = settings  # type: ignore[misc]
    harness.runtime.__dict__.pop("process", None)  # built again from these settings, as at start-up
    harness.use_deps(owners=load_ownership(settings), trackers=build_trackers(settings))
    return harness
