"""Socket Mode: Slack's own WebSocket, so no signature to verify, and slack_sdk has parsed each payload already.
Bolt's handler hands that payload to Bolt as is, and Bolt builds its context from it before any middleware
runs (`len(body["response_urls"])`...); here it is validated first, as the HTTP edge validates its bodies
(`app.slack.payloads`), and a malformed one is answered 400 instead of raising in slack_sdk's thread."""

from __future__ import annotations

from time import time

import structlog
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler as BoltSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from app.slack import payloads

logger = structlog.get_logger("app.http.socket_mode")


class SocketModeHandler(BoltSocketModeHandler):
    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time()
        send_response(client, req, dispatch(self.app, req), started)


def dispatch(app: App, req: SocketModeRequest) -> BoltResponse:
    """Bolt's `run_bolt_app`, after validating the payload; the typed payload rides in Bolt's context."""
    try:
        payload = payloads.validate(req.payload, where="payload")
    except payloads.Malformed as exc:
        logger.warning("slack_request_malformed", reason=str(exc), socket_mode=req.type)
        return BoltResponse(status=400, body=f"malformed request: {exc}")
    request = BoltRequest(
        mode="socket_mode", body=req.payload, headers=build_headers(req), context={payloads.CONTEXT_KEY: payload}
    )
    return app.dispatch(request)
