"""Fixtures for the Slack layer: a seeded workspace double served over HTTP, the real app, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, wsgi_deliver
from app.sandbox.webapi import RunningServer, make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from app.settings import Settings, load_settings
from app.slack.bolt_app import build_app, shutdown
from app.slack.client import build_client
from app.slack.deps import Deps
from tests.slack.slack_harness import BOT_TOKEN, GENERAL, SIGNING_SECRET, Clock, Harness


@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace().seed_default()
    ws.create_channel(
        "general", creator="U01ALICE", channel_id=GENERAL, members=["U01BOB", "U01CAROL", "U01DAN", ws.bot.id]
    )
    return ws


@pytest.fixture
def slack_api(workspace: Workspace) -> Iterator[RunningServer]:
    running = serve_in_thread(make_web_api(workspace))
    yield running
    running.stop()


@pytest.fixture
def settings(database_url: str, slack_api: RunningServer, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
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
    )


@pytest.fixture
def clock(now: datetime) -> Clock:
    return Clock(now)


@pytest.fixture
def harness(settings: Settings, clock: Clock, workspace: Workspace) -> Iterator[Harness]:
    runtime = Runtime(settings, clock=clock)
    h: Harness

    def wake() -> None:
        h.wakes += 1

    deps = Deps.build(runtime, build_client(settings), wake_outbox=wake)
    app = build_app(deps)
    slack = SlackClientSimulator(workspace, wsgi_deliver(lambda *a: h.wsgi(*a)), signing_secret=SIGNING_SECRET)
    h = Harness(workspace=workspace, slack=slack, app=app, deps=deps, clock=clock)
    yield h
    shutdown(h.app)
    runtime.engine.dispose()
