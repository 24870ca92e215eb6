"""A status page served over real HTTP (a threaded WSGI server) from a real database, the bot's own WSGI app
behind it (a stand-in that answers "the bot"), and the domain's use cases to make incidents happen."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from app.runtime import Runtime
from app.sandbox.server import RunningServer, serve_in_thread
from app.settings import load_settings
from app.statuspage.wsgi import with_status_page
from incidents import service
from incidents.models import Incident
from incidents.queries import get_incident

START = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
REPORTER = "U0REPORTER"


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def the_bot(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """What stands for the bot's own WSGI app (Slack events, webhooks): it says who answered."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the bot: " + environ.get("PATH_INFO", "").encode()]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Site:
    runtime: Runtime
    clock: Clock
    server: RunningServer
    prefix: str = "/status"
    _servers: list[RunningServer] = field(default_factory=list)

    # --- incidents happening -------------------------------------------------------------------------------

    def declare(self, title: str, *, severity: str = "SEV2", private: bool = False, ago: float = 0) -> str:
        with self.runtime.sessions.begin() as session:
            incident = service.declare(
                session,
                title=title,
                severity=severity,
                reporter_id=REPORTER,
                now=self.clock.now - timedelta(minutes=ago),
                process=self.runtime.process,
                private=private,
                summary=f"summary of {title} (internal)",
            )
            return incident.ref

    def update(self, ref: str, text: str, **fields: str) -> None:
        self.change(
            ref,
            lambda s, i: service.post_status_update(
                s, i, text=text, author_id="U0AUTHOR", now=self.clock.now, process=self.runtime.process, **fields
            ),
        )

    def resolve(self, ref: str) -> None:
        self.change(
            ref, lambda s, i: service.resolve(s, i, by=REPORTER, now=self.clock.now, process=self.runtime.process)
        )

    def change(self, ref: str, use_case: Any) -> None:
        with self.runtime.sessions.begin() as session:
            incident: Incident = get_incident(session, ref, for_update=True)
            use_case(session, incident)

    # --- reading it over HTTP ------------------------------------------------------------------------------

    def get(self, target: str = "/", method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
        """`target` is relative to the page (`/feed.json?days=7`), sent exactly as written."""
        return request(self.server, method, self.prefix + target, headers)


def request(server: RunningServer, method: str, target: str, headers: dict[str, str] | None = None) -> Answer:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def make_runtime(database_url: str, clock: Clock, **settings: Any) -> Runtime:
    values = {"status_page_enabled": True} | settings
    return Runtime(load_settings(_env_file=None, database_url=database_url, **values), clock=clock)


def serve(runtime: Runtime, port: int = 0) -> RunningServer:
    return serve_in_thread(with_status_page(runtime, the_bot), port=port)
