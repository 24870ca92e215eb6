"""The paging tests' fixtures: both vendor doubles, the real app (tests/slack) with the ownership map of
`ownership.yml` (payments on PagerDuty, search on Opsgenie, ledger with no pager) and pagers pointed at the
doubles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.bootstrap import load_ownership
from app.integrations.pager import build_pagers
from app.settings import Settings
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.integrations.paging.paging_helpers import KEYS, MAP, OPSGENIE_KEY, PAGERDUTY_KEY
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import Harness


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyDouble]:
    double = PagerDutyDouble({PAGERDUTY_KEY}).start()
    yield double
    double.stop()


@pytest.fixture
def opsgenie() -> Iterator[OpsgenieDouble]:
    double = OpsgenieDouble({OPSGENIE_KEY}).start()
    yield double
    double.stop()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    return KEYS


@pytest.fixture
def paging_settings(settings: Settings, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "ownership_map_path": (MAP,),
            "pagerduty_events_url": pagerduty.url,
            "opsgenie_api_url": opsgenie.url,
            "pager_timeout_seconds": 5.0,
            "page_on_declare_severities": ("SEV1",),
        }
    )


@pytest.fixture
def bot(harness: Harness, paging_settings: Settings, keys: dict[str, str]) -> Harness:  # noqa: F811
    """The harness serving with the paging settings, the map and the pagers, as `incidents serve` builds them."""
    return serve(harness, paging_settings)


def serve(harness: Harness, settings: Settings) -> Harness:  # noqa: F811
    harness.runtime.settings = settings  # type: ignore[misc]
    harness.runtime.__dict__.pop("process", None)  # built again from these settings, as at start-up
    harness.use_deps(owners=load_ownership(settings), pagers=build_pagers(settings))
    return harness
