"""Fixtures for the process-level tests: a seeded Slack workspace double served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.sandbox.webapi import make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace


@pytest.fixture
def workspace() -> Iterator[tuple[Workspace, object]]:
    ws = Workspace().seed_default()
    api = serve_in_thread(make_web_api(ws))
    yield ws, api
    api.stop()
