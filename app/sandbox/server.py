"""A real threaded HTTP server around a WSGI app, for tests and the sandbox: slack_sdk's WebClient talks to it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow (fault-delayed) request never blocks stop()
    request_queue_size = 256
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RunningServer:
    url: str  # "http://127.0.0.1:PORT/"
    _server: _ThreadingWSGIServer
    _thread: threading.Thread

    @property
    def base_url(self) -> str:
        """The Web API root, for `WebClient(base_url=...)`."""
        return f"{self.url}api/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `app` on a daemon thread (port 0: any free port). If `app` has a `workspace`, its response_urls
    point at this server."""
    server = _ThreadingWSGIServer((host, port), _QuietHandler)
    server.set_app(app)
    url = f"http://{host}:{server.server_address[1]}/"
    workspace = getattr(app, "workspace", None)
    if workspace is not None:
        workspace.server_url = url
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name=f"sandbox-http-{server.server_address[1]}",
    )
    thread.start()
    return RunningServer(url, server, thread)
