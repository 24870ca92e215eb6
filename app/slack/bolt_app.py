"""The Bolt app: built once per process from `Deps`, with every listener module registered.

Every listener module's `register(app, deps)` is listed in `app.slack.routes.LISTENERS`.
Listeners ack first (Bolt answers Slack as soon as `ack()` is called, `process_before_response=False`), then do
their work in the listener pool (`app.slack.listener_pool`), which copies the request's log context into its threads
and never lets an ack wait behind another request's post-ack work.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse

from app.observability import request_log
from app.settings import SettingsError
from app.slack import payloads
from app.slack.apology import SORRY, sorry_view, tell
from app.slack.deps import Deps
from app.slack.listener_pool import ContextExecutor, current_ack
from app.slack.routes import LISTENERS

logger = structlog.get_logger("app.slack.bolt_app")
ACK_UNHANDLED = ("event_callback", "block_actions")
ACK_WAIT_SECONDS = 3.0  # Bolt's own limit (a listener's ack_timeout): past it, Bolt gives up as before
_REF = re.compile(r"^INC-\d+")


class PromptAck(Ack):
    """Bolt's `ack`, answered without Bolt's 10 ms polling delay.

    With `process_before_response=False` the request thread polls `ack.response` every 10 ms until the listener
    (in the pool) calls `ack()`, so every answer to Slack waited up to 10 ms for nothing. Here the request thread
    that created this object waits for the call itself when it reads `response`, until Bolt's own limit (then
    Bolt's loop gives up as before): a listener that takes longer than one poll interval to ack (a declaration
    on a busy database) is not answered up to 10 ms late either. Any other reader gets the value at once."""

    def __init__(self) -> None:
        self._acked = threading.Event()
        self._waiter = threading.get_ident()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        super().__init__()

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        if not self._acked.is_set() and threading.get_ident() == self._waiter:
            self._acked.wait(ACK_WAIT_SECONDS)
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        self._response = value
        if value is not None:
            with self._lock:
                self._acked.set()
                callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback()

    def when_answered(self, callback: Callable[[], None]) -> None:
        """Call `callback` once Slack's answer is set (at once if it is): the listener pool frees the slot."""
        with self._lock:
            if not self._acked.is_set():
                self._callbacks.append(callback)
                return
        callback()


class IncidentApp(App):
    observe_request: request_log.Observer | None = (
        None  # the latency histogram (app.observability.metrics), when served
    )

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if payloads.of(req.context) is None:
            refused = _validate(req)
            if refused is not None:
                return refused
        log = request_log.start(self.observe_request)
        try:
            response = super().dispatch(req)
            if response.status == 404 and isinstance(req.body, dict) and req.body.get("type") in ACK_UNHANDLED:
                # An event no listener wants (Slack would retry it three times), or a click on an element nobody
                # handles (a link button, a card drawn by an older version): say OK rather than show an error.
                log.set_outcome("ignored")
                response = BoltResponse(status=200, body="")
            log.acked(response.status)
            return response
        finally:
            current_ack.set(None)
            request_log.end()


def _validate(req: BoltRequest) -> BoltResponse | None:
    """A request that did not come through the HTTP edge (`app.http.wsgi`, which verified, parsed and validated
    it): over Socket Mode, slack_sdk parsed it off Slack's own connection, so it is validated here as the edge
    would; over HTTP it skipped the signature check (Bolt's is off), so it is refused."""
    if req.mode != "socket_mode":
        logger.warning("slack_request_unsigned", reason="not through the HTTP edge")
        return BoltResponse(status=401, body="invalid request signature")
    try:
        req.context[payloads.CONTEXT_KEY] = payloads.validate(req.body, where="payload")
    except payloads.Malformed as exc:
        logger.warning("slack_request_malformed", reason=str(exc))
        return BoltResponse(status=400, body=f"malformed request: {exc}")
    return None


def build_app(deps: Deps, *, socket_mode: bool = False) -> App:
    settings = deps.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not secret and not socket_mode:
        raise SettingsError(
            ["SLACK_SIGNING_SECRET: required to verify requests from Slack (set the environment variable)"]
        )
    app = IncidentApp(
        name="incident-bot",
        client=deps.client,
        signing_secret=secret,
        token_verification_enabled=False,
        request_verification_enabled=False,  # verified once, at the edge (app.http.wsgi), over the raw bytes
        process_before_response=False,
        listener_executor=ContextExecutor(max_workers=settings.listener_threads, thread_name_prefix="listener"),
    )
    if deps.metrics is not None:
        app.observe_request = deps.metrics.observe_request
    app.use(describe_request)
    app.use(no_response_url)
    app.error(handle_error)
    for register in LISTENERS:
        register(app, deps)
    return app


def shutdown(app: App, *, wait: bool = True) -> None:
    """Let listeners that are still working finish (after their ack) before the process exits."""
    executor = app.listener_runner.listener_executor
    if isinstance(executor, Executor):
        executor.shutdown(wait=wait)


# --- middleware: who, what, which incident ------------------------------------------------------------------


def no_response_url(context: BoltContext, next: Callable[[], None]) -> None:
    """A request without a response_url (which Slack always sends where a listener answers through it) gets a
    `respond` that says why it cannot answer, instead of one that raises after the ack."""
    respond = context.get("respond")
    if respond is not None and getattr(respond, "response_url", "") is None:
        context["respond"] = _cannot_respond
    next()


def _cannot_respond(*_: Any, **__: Any) -> None:
    request_log.set_outcome("invalid", "no response_url to answer through")


def describe_request(req: BoltRequest, body: dict[str, Any], next: Callable[[], None]) -> None:
    ack = req.context["ack"] = PromptAck()
    current_ack.set(ack)  # copied into the listener's thread: the pool frees its slot once it is answered
    fields = describe(payloads.of(req.context))
    retry = req.headers.get("x-slack-retry-num")
    if retry:
        fields["slack_retry"] = retry[0]
    request_log.bind(**fields)
    next()


def describe(payload: payloads.Payload | None) -> dict[str, Any]:
    """The summary fields of a Slack payload (ids only, never message text)."""
    if isinstance(payload, payloads.SlashCommand):
        word = payload.text.strip().split(" ", 1)[0].lower()
        return {
            "kind": "command",
            "command": payload.command,
            "subcommand": word[:20] or None,
            "team": payload.team_id,
            "user": payload.user_id,
            "channel": payload.channel_id,
        }
    fields: dict[str, Any] = {
        "kind": getattr(payload, "type", None),
        "team": (payload and _id(payload.team)) or getattr(payload, "team_id", None),
        "user": payload and _id(payload.user),
    }
    if isinstance(payload, payloads.BlockActions):
        action = payload.action
        fields["action"] = action.action_id
        fields["channel"] = _id(payload.channel)
        value = action.value or (action.selected_option.value if action.selected_option else "")
        if match := _REF.match(value):
            fields["incident"] = match.group(0)
    elif isinstance(payload, payloads.ViewSubmission | payloads.ViewClosed):
        fields["callback"] = payload.view.callback_id
        fields["incident"] = payload.view.metadata.get("incident")
    elif isinstance(payload, payloads.Shortcut):
        fields["callback"] = payload.callback_id
        fields["channel"] = _id(payload.channel)
    elif isinstance(payload, payloads.EventCallback):
        fields["slack_event"] = payload.event.type
        fields["event_id"] = payload.event_id
        fields["user"] = payload.event.who
    return fields


def _id(named: str | payloads.Shape | None) -> str | None:
    return named if isinstance(named, str) or named is None else getattr(named, "id", None)


# --- the last resort: log it, tell the person in plain words, never a stack trace to Slack ---------------------


def handle_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, context: BoltContext
) -> BoltResponse | None:
    request_log.set_outcome("error", f"{type(error).__name__}: {error}")
    logger.error("listener_failed", exc_info=error)
    kind = body.get("type") if isinstance(body, dict) else None
    if response is not None and context.ack is not None and context.ack.response is None:
        # Not acked yet: the answer to Slack carries the apology.
        if kind == "view_submission":
            return BoltResponse(
                status=200,
                headers={"content-type": ["application/json;charset=utf-8"]},
                body=json.dumps({"response_action": "update", "view": sorry_view().to_dict()}),
            )
        if isinstance(body, dict) and "command" in body:
            return BoltResponse(
                status=200,
                headers={"content-type": ["application/json;charset=utf-8"]},
                body=json.dumps({"response_type": "ephemeral", "text": SORRY}),
            )
        tell(context, body)
        return BoltResponse(status=200, body="")
    if response is None:
        tell(context, body)
    return None
