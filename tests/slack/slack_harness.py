"""The bot as Slack meets it, for tests: the real Bolt app behind the real WSGI app, its real WebClient pointed
at the Slack Web API double served over HTTP, and the Slack-platform simulator sending signed requests.

Work after an ack runs in the listener pool and Slack effects wait in the outbox; `settle()` waits for the
listeners to finish and then delivers the outbox until nothing is due, with the test's clock. No sleeps."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App
from sqlalchemy import select

from app.delivery.handlers import build_handlers, dead_letters
from app.http.wsgi import make_wsgi_app
from app.integrations import webhooks
from app.runtime import Runtime
from app.sandbox.client import Result, SlackClientSimulator
from app.sandbox.models import Message
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from app.slack.bolt_app import ContextExecutor, build_app, shutdown
from app.slack.deps import Deps
from app.slack.ids import Callback, CardAction
from incidents.models import Incident, OutboxMessage, TimelineEvent
from incidents.outbox import RetryPolicy, deliver_due
from incidents.queries import get_incident

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
ALICE, BOB, CAROL, DAN = "U01ALICE", "U01BOB", "U01CAROL", "U01DAN"
GENERAL = "C0GENERAL"


class Clock:
    """The bot's `now()`: moves only when told to."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclasses.dataclass(frozen=True)
class WebhookAnswer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Harness:
    def __init__(self, *, workspace: Workspace, slack: SlackClientSimulator, app: App, deps: Deps, clock: Clock):
        self.workspace = workspace
        self.slack = slack
        self.clock = clock
        self._use(deps, app)
        self.wakes = 0
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        deliver = slack.deliver

        def recording(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            self.sent.append((body, headers))
            return deliver(body, headers)

        slack.deliver = recording

    def _use(self, deps: Deps, app: App) -> None:
        self.deps = deps
        self.app = app
        self.wsgi = make_wsgi_app(app, webhooks=webhooks(deps))
        self.handlers = build_handlers(deps)
        self.observe = dead_letters.observer(deps)  # as the server's outbox worker does

    def use_owners(self, owners: Any) -> None:
        """Serve with this ownership map from now on: the app and its handlers are built again around it, as
        `incidents serve` builds them at start-up (Deps are never changed after they are built)."""
        self.use_deps(owners=owners)

    def use_deps(self, **changes: Any) -> None:
        """Serve with these Deps fields changed (settings, owners, pagers, alert_rules, ...) from now on: the
        app, its webhooks and its handlers are built again around them, as at start-up."""
        shutdown(self.app)
        deps = dataclasses.replace(self.deps, **changes)
        self._use(deps, build_app(deps))

    def post(
        self, path: str, body: bytes | Any, headers: dict[str, str] | None = None, *, method: str = "POST"
    ) -> WebhookAnswer:
        """Send a request to one of the bot's webhooks (alerts, change events) through the real WSGI app; `body`
        that is not bytes is sent as JSON. Header names as on the wire (`Authorization`, `X-Hub-Signature-256`)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_LENGTH": str(len(raw)),
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(raw),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "3000",
            "wsgi.url_scheme": "http",
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        status: list[str] = []
        chunks = self.wsgi(environ, lambda s, h, *a: status.append(s))
        text = b"".join(chunks).decode()
        return WebhookAnswer(int(status[0].split()[0]), text)

    def resend_last(self) -> Result:
        """Deliver the last request again, byte for byte (as Slack does when it retries)."""
        body, headers = self.sent[-1]
        status, answer_headers, answer = self.slack.deliver(body, headers)
        return Result.of(status, answer_headers, answer, 0.0)

    @property
    def runtime(self) -> Runtime:
        return self.deps.runtime

    # --- sending, as Slack does, then letting the bot finish ----------------------------------------------

    def command(self, text: str = "", *, user: str = ALICE, channel: str = GENERAL, settle: bool = True) -> Result:
        result = self.slack.slash_command(user, channel, self.deps.settings.slash_command, text)
        if settle:
            self.settle()
        return result

    def click(
        self, action_id: str, *, user: str = ALICE, incident: int = 1, value: Any = None, settle: bool = True
    ) -> Result:
        """Press a card element of incident `incident`."""
        inc = self.incident(incident)
        result = self.slack.click(user, inc.channel_id, inc.card_ts, action_id, value)
        if settle:
            self.settle()
        return result

    def submit(
        self, view_id: str, values: dict[str, Any] | None = None, *, user: str = ALICE, settle: bool = True
    ) -> Result:
        """Submit a modal; `values` by block id (our input blocks use the same id for block and action)."""
        result = self.slack.submit_view(user, view_id, {k: {k: v} for k, v in (values or {}).items()})
        if settle:
            self.settle()
        return result

    def declare(
        self,
        title: str = "Checkout is failing",
        severity: str = "SEV2",
        *,
        user: str = ALICE,
        private: bool = False,
        services: str | list[str] | None = None,
        impact: str = "",
    ) -> Incident:
        """The whole flow: `/incident declare`, fill in the modal, submit, deliver the effects."""
        self.command("declare", user=user)
        view = self.open_view(user, Callback.DECLARE)
        values: dict[str, Any] = {"declare_title": title, "declare_severity": severity}
        if private:
            values["declare_private"] = ["private"]
        if services is not None:
            values["declare_services"] = services
        if impact:
            values["declare_impact"] = impact
        result = self.submit(view.id, values, user=user)
        assert result.status == 200, result.text
        return self.latest_incident()

    def settle(self, rounds: int = 50) -> dict[str, int]:
        """Wait for the listeners, then deliver due outbox messages until none is due."""
        executor = self.app.listener_runner.listener_executor
        assert isinstance(executor, ContextExecutor)
        assert executor.wait_idle(10), "listeners still running after 10 s"
        totals: dict[str, int] = {}
        for _ in range(rounds):
            counts = deliver_due(
                self.runtime.sessions,
                self.handlers,
                now=self.clock,
                policy=RetryPolicy(),
                limit=50,
                observe=self.observe,
            )
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if not any(counts.values()):
                return totals
        raise AssertionError("the outbox did not settle")

    def later(self, seconds: float) -> dict[str, int]:
        """Let `seconds` pass on the bot's clock and deliver what became due."""
        self.clock.advance(seconds=seconds)
        return self.settle()

    # --- reading -------------------------------------------------------------------------------------------

    def incident(self, number: int = 1) -> Incident:
        with self.runtime.sessions() as session:
            return get_incident(session, number)

    def events(self, number: int = 1, kind: str | None = None) -> list[TimelineEvent]:
        with self.runtime.sessions() as session:
            events = list(get_incident(session, number).events)
        return [e for e in events if kind is None or e.kind == kind]

    def latest_incident(self) -> Incident:
        with self.runtime.sessions() as session:
            number = session.scalar(select(Incident.number).order_by(Incident.number.desc()).limit(1))
            assert number is not None, "no incident was declared"
            return get_incident(session, number)

    def outbox(self, kind: str | None = None) -> list[OutboxMessage]:
        with self.runtime.sessions() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            if kind is not None:
                stmt = stmt.where(OutboxMessage.kind == kind)
            return list(session.scalars(stmt))

    def open_view(self, user: str, callback_id: str) -> Any:
        views = [v for v in self.workspace.open_views(user) if v.body.get("callback_id") == callback_id]
        shown = [v.body.get("callback_id") for v in self.workspace.open_views(user)]
        assert views, f"no open {callback_id} view for {user}: {shown}"
        return views[-1]

    def replies_to(self, user: str, channel: str | None = None) -> list[str]:
        """What the bot told `user` only (ephemeral messages, responses included), oldest first."""
        return [e.text for e in self.workspace.ephemerals_for(user, channel)]

    def last_reply(self, user: str = ALICE) -> str:
        replies = self.replies_to(user)
        assert replies, f"nothing was said to {user}"
        return replies[-1]

    def card(self, number: int = 1) -> Message:
        inc = self.incident(number)
        return self.workspace.message(inc.channel_id, inc.card_ts)

    def announcement(self, number: int = 1) -> Message:
        inc = self.incident(number)
        return self.workspace.message(inc.announcement_channel_id, inc.announcement_ts)

    def dms_to(self, user: str) -> list[Message]:
        """Messages the bot sent to `user` directly."""
        with self.workspace.lock:
            channels = [c for c in self.workspace.channels.values() if getattr(c, "is_im", False) and user in c.members]
            return [m for c in channels for m in self.workspace.messages(c.id) if m.user == self.workspace.bot.id]

    def calls(self, method: str) -> list[Any]:
        return self.workspace.calls_to(method)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in some blocks, for asserting on what a message shows."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    out.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return "\n".join(out)


__all__ = [
    "ALICE",
    "BOB",
    "CAROL",
    "DAN",
    "GENERAL",
    "INCIDENTS_CHANNEL_ID",
    "BOT_TOKEN",
    "SIGNING_SECRET",
    "CardAction",
    "Callback",
    "Clock",
    "Harness",
    "blocks_text",
]
