"""Fixtures for the sandbox: a seeded workspace on an injectable clock, served over real HTTP, and a real
slack_sdk WebClient pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from app.sandbox.webapi import RunningServer, make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from tests.sandbox.sandbox_helpers import BOT_TOKEN, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def workspace(clock: FakeClock) -> Workspace:
    return Workspace(clock=clock).seed_default()


@pytest.fixture
def server(workspace: Workspace) -> Iterator[RunningServer]:
    running = serve_in_thread(make_web_api(workspace))
    yield running
    running.stop()


@pytest.fixture
def client(server: RunningServer) -> WebClient:
    return WebClient(base_url=server.base_url, token=BOT_TOKEN)
