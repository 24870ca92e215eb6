"""The status page served over real HTTP from a migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.statuspage.site import Clock, Site, make_runtime, serve


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    clock = Clock()
    runtime = make_runtime(database_url, clock)
    server = serve(runtime)
    yield Site(runtime, clock, server)
    server.stop()
    runtime.close()
