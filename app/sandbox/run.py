"""Sandbox mode: `incidents serve` with no Slack credentials runs the real bot against a local workspace.

One HTTP server (127.0.0.1 unless HOST is set explicitly) carries everything:

    /sandbox, /sandbox/api/...        the page and its JSON API (app.sandbox.ui)
    /api/<method>, /upload/, /response/   the Slack Web API double the bot's WebClient talks to
    /slack/events, /healthz           the bot itself: the same `app.bootstrap.Bot` (Bolt app, outbox worker,
                                      reminder scheduler) production runs, with settings that point it here

The bot gets a random signing secret and bot token, `SLACK_API_URL` set to this server's `/api/`, and a drill
clock it shares with its scheduler, its outbox and the workspace. It has its own SQLite database
(`DATA_DIR/sandbox.db`, emptied at each start: the workspace it talks to lives in memory), so a drill never
touches the real database.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

from app.bootstrap import Bot, build_bot, load_ownership
from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.clock import DrillClock
from app.sandbox.seed import example_ownership_map, seed
from app.sandbox.server import RunningServer, serve_in_thread
from app.sandbox.ui import SandboxUI
from app.sandbox.ui_state import PageFacts
from app.sandbox.webapi import make_web_api
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from app.settings import Settings, SettingsError

log = structlog.get_logger(__name__)

LOOPBACK = "127.0.0.1"
DOUBLE_PATHS = ("/api/", "/upload/", "/response/")
DATABASE_NAME = "sandbox.db"
SANDBOX_ALERT_RULES = Path(__file__).with_name("alert_rules.yml")
ALERT_TOKEN_VARIABLE = "SANDBOX_ALERT_TOKEN"  # named in alert_rules.yml
TRIAGE_CHANNEL = "alerts-triage"


class Router:
    """Sends each request to the page, the Web API double or the bot; 503 until the bot is built."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace  # serve_in_thread points the workspace's response_urls at this server
        self.web_api = make_web_api(workspace)
        self.ui: Any = None
        self.bot: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/":
            start_response("302 Found", [("Location", "/sandbox"), ("Content-Length", "0")])
            return [b""]
        if path == "/sandbox" or path.startswith("/sandbox/"):
            target = self.ui
        elif path.startswith(DOUBLE_PATHS):
            target = self.web_api
        else:
            target = self.bot
        if target is None:
            body = b"The sandbox is starting."
            start_response(
                "503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return target(environ, start_response)


def sandbox_settings(settings: Settings, *, api_url: str, signing_secret: str, bot_token: str) -> Settings:
    data_dir = Path(settings.data_dir)
    maps = settings.ownership_map_path or tuple(p for p in [example_ownership_map()] if p is not None)
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(bot_token),
            "slack_signing_secret": SecretStr(signing_secret),
            "slack_app_token": None,
            "slack_api_url": api_url,
            "database_url": f"sqlite:///{(data_dir / DATABASE_NAME).as_posix()}",
            "ownership_map_path": maps,
            "run_scheduler_in_web": True,
            # The drill's "Record a sample deploy" sends to /changes like a CI pipeline would.
            "change_events_token": settings.change_events_token or SecretStr(secrets.token_hex(16)),
            # and "Fire a sample alert" to /alerts/alertmanager, under the sandbox's own rules.
            "alert_rules_path": SANDBOX_ALERT_RULES,
            # A drill never files real tickets, and its status page is at /status next to the sandbox.
            "ticket_default": "",
            "jira_base_url": "",
            "jira_email": "",
            "jira_api_token": None,
            "github_issues_token": None,
            "github_issues_webhook_secret": None,
            "status_page_port": None,
        }
    )


def _drill_owners(settings: Settings) -> Any:
    """The ownership map less its teams' trackers: a drill files no tickets (an invalid map is refused with
    the same words as in production)."""
    from incidents.owners import OwnershipMap, OwnershipMapError, OwnershipStore, load_map

    def without_trackers(paths: list[Path]) -> OwnershipMap:
        found = load_map(paths)
        teams = [team.model_copy(update={"tracker": None}) for team in found.teams]
        return OwnershipMap(teams, found.services, found.warnings)

    if not settings.ownership_map_path:
        return None
    try:
        return OwnershipStore(settings.ownership_map_path, loader=without_trackers)
    except OwnershipMapError:
        return load_ownership(settings)  # raises SettingsError listing every problem


def _fresh_database(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (data_dir / f"{DATABASE_NAME}{suffix}").unlink(missing_ok=True)


def _load_map(settings: Settings) -> Any:
    """The map to seed people from; an invalid one seeds nothing (the bot then refuses it, as in production)."""
    from incidents.owners import OwnershipMapError, load_map

    try:
        return load_map(settings.ownership_map_path) if settings.ownership_map_path else None
    except OwnershipMapError:
        return None


@dataclass
class Sandbox:
    url: str  # "http://127.0.0.1:3000/sandbox"
    workspace: Workspace
    clock: DrillClock
    runtime: Runtime
    bot: Bot
    server: RunningServer

    def stop(self) -> None:
        self.bot.stop()  # its listeners and outbox finish their Slack calls while the double still answers
        self.server.stop()
        self.runtime.close()


def start_sandbox(settings: Settings, *, host: str = LOOPBACK, port: int | None = None) -> Sandbox:
    """Seed the workspace, serve it, build and start the bot; `port=0` takes any free port."""
    clock = DrillClock()
    workspace = Workspace(clock=clock.monotonic, wall_clock=clock.timestamp)
    router = Router(workspace)
    server = serve_in_thread(router, host=host, port=settings.port if port is None else port)
    try:
        local = f"http://{LOOPBACK}:{server.url.rsplit(':', 1)[1]}"
        workspace.server_url = local
        secret, token = secrets.token_hex(16), f"xoxb-sandbox-{secrets.token_hex(12)}"
        bot_settings = sandbox_settings(settings, api_url=f"{local}api/", signing_secret=secret, bot_token=token)
        seed(workspace, announcements=bot_settings.announcements_channel, ownership_map=_load_map(bot_settings))
        _triage_channel(workspace)
        if not os.environ.get(ALERT_TOKEN_VARIABLE, "").strip():  # read by the rules at start-up
            os.environ[ALERT_TOKEN_VARIABLE] = secrets.token_hex(16)
        _fresh_database(Path(bot_settings.data_dir))
        runtime = Runtime(bot_settings, clock=clock)
        runtime.ensure_schema()
        bot = build_bot(runtime, owners=_drill_owners(bot_settings))
        simulator = SlackClientSimulator(workspace, http_deliver(f"{local}slack/events"), signing_secret=secret)
        router.ui = SandboxUI(
            workspace,
            simulator,
            clock,
            _facts(bot_settings),
            after_skip=_run_reminders_now(bot),
            incidents=_incident_list(runtime),
            postmortem=_postmortem(runtime, workspace, bot),
            record_deploy=_sample_deploy(bot),
            fire_alert=_sample_alert(bot),
        )
        router.bot = bot.wsgi
        bot.start()
    except BaseException:
        server.stop()
        raise
    return Sandbox(f"{local}sandbox", workspace, clock, runtime, bot, server)


def sandbox_host(settings: Settings) -> str:
    """This machine only, unless HOST is set explicitly (HOST's default, 0.0.0.0, is for production)."""
    return settings.host if "host" in settings.model_fields_set else LOOPBACK


def run_sandbox(runtime: Runtime) -> None:
    """`incidents serve` without Slack credentials: serve the sandbox until Ctrl-C or SIGTERM."""
    settings = runtime.settings
    host = sandbox_host(settings)
    if host not in (LOOPBACK, "localhost", "::1"):
        log.warning(
            "sandbox.listening_beyond_this_machine",
            host=host,
            hint="the sandbox has no login: anyone who reaches this port can act as anyone",
        )
    try:
        sandbox = start_sandbox(settings, host=host)
    except OSError as exc:
        raise SettingsError(
            [f"PORT: cannot listen on {host}:{settings.port} ({exc.strerror}); set PORT to a free port"]
        ) from None
    print(
        "\nNo Slack credentials are set (SLACK_BOT_TOKEN), so the bot runs in the sandbox: a local Slack "
        f"workspace.\n\n    Open {sandbox.url}\n\nPress Ctrl-C to stop.\n",
        flush=True,
    )
    log.info("sandbox.started", url=sandbox.url)
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
        log.info("sandbox.stopped")
        sys.stdout.flush()


def _facts(settings: Settings) -> PageFacts:
    from zoneinfo import ZoneInfo

    from app.slack.ids import Callback

    return PageFacts(
        command=settings.slash_command,
        announcements=settings.announcements_channel,
        channel_prefix=settings.channel_prefix,
        timezone=ZoneInfo(settings.timezone),
        shortcuts=[{"callback_id": Callback.DECLARE_FROM_MESSAGE.value, "name": "Declare incident"}],
    )


def send_to_bot(bot: Any, path: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A JSON request to one of the bot's own webhooks, through its WSGI app (as the outside would send it)."""
    import io
    import json

    raw = json.dumps(body).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
    status: list[str] = []
    answer = b"".join(bot.wsgi(environ, lambda line, _headers, *_: status.append(line)))
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        parsed = {"error": answer.decode(errors="replace")}
    return int(status[0].split()[0]), parsed if isinstance(parsed, dict) else {"answer": parsed}


def _triage_channel(workspace: Workspace) -> None:
    """Where the sample rules post alerts to triage (the bot is a member, as it must be in Slack)."""
    if workspace.find_channel(TRIAGE_CHANNEL) is None:
        first = workspace.channel(INCIDENTS_CHANNEL_ID)
        workspace.create_channel(TRIAGE_CHANNEL, creator=first.creator, members=[*first.members, workspace.bot.id])


def _sample_alert(bot: Any) -> Callable[[], dict[str, Any]]:
    """ "Fire a sample alert": Alertmanager sends a critical checkout alert (payload version 4). A new alert each
    time; within the rules' group window it joins the incident the first one declared."""
    import uuid

    def fire() -> dict[str, Any]:
        fingerprint = uuid.uuid4().hex[:16]
        started = bot.runtime.now().isoformat()
        labels = {"alertname": "CheckoutErrorRateHigh", "service": "checkout", "severity": "critical"}
        alert = {
            "status": "firing",
            "labels": {**labels, "instance": f"checkout-{fingerprint[:4]}"},
            "annotations": {
                "summary": "Checkout error rate above 5%",
                "description": "Payments fail for about one customer in ten",
            },
            "startsAt": started,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://prometheus.example.com/graph?g0.expr=checkout_errors",
            "fingerprint": fingerprint,
        }
        payload = {
            "version": "4",
            "groupKey": '{}:{alertname="CheckoutErrorRateHigh"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "incident-bot",
            "groupLabels": {"alertname": labels["alertname"]},
            "commonLabels": labels,
            "commonAnnotations": alert["annotations"],
            "externalURL": "https://alertmanager.example.com",
            "alerts": [alert],
        }
        token = os.environ.get(ALERT_TOKEN_VARIABLE, "")
        status, answer = send_to_bot(bot, "/alerts/alertmanager", payload, {"Authorization": f"Bearer {token}"})
        if status >= 300:
            return {"ok": False, "error": f"the bot refused the alert ({status}): {answer.get('error')}"}
        said = "declared an incident" if answer.get("declared") else "joined the open incident"
        return {"ok": True, "said": f"Alertmanager sent a critical checkout alert: it {said}"}

    return fire


def _sample_deploy(bot: Any) -> Callable[[], dict[str, Any]]:
    """ "Record a sample deploy": CI tells the bot checkout was deployed, as `incidents changes record` does."""
    import uuid

    settings = bot.runtime.settings

    def record() -> dict[str, Any]:
        number = uuid.uuid4().hex[:6]
        change = {
            "service": "checkout",
            "kind": "deploy",
            "summary": f"checkout build {number} rolled out to production",
            "who": "ci-pipeline",
            "version": f"v2.14.{int(number, 16) % 100}",
            "link": f"https://ci.example.com/checkout/builds/{number}",
            "occurred_at": bot.runtime.now().isoformat(),
            "external_id": f"sandbox-deploy-{number}",
            "source": "sandbox",
        }
        token = settings.change_events_token.get_secret_value()
        status, answer = send_to_bot(bot, "/changes", change, {"Authorization": f"Bearer {token}"})
        if status >= 300:
            return {"ok": False, "error": f"the bot refused the deploy ({status}): {answer.get('error')}"}
        return {"ok": True, "said": f"Deploy of checkout {change['version']} recorded"}

    return record


def _run_reminders_now(bot: Any) -> Callable[[], None]:
    """After a skip: a scheduler tick at once (reminders and escalations now due), then the outbox delivers."""
    from app.delivery.scheduler import ReminderScheduler

    def tick() -> None:
        for service in bot.background:
            if isinstance(service, ReminderScheduler):
                service.run_once()
                service.review_tick()  # the post-mortem review's reminders too
        bot.worker.wake()

    return tick


def _incident_list(runtime: Runtime) -> Callable[[], list[dict[str, Any]]]:
    from incidents.queries import recent_incidents

    def incidents() -> list[dict[str, Any]]:
        with runtime.sessions() as session:
            return [
                {
                    "ref": i.ref,
                    "title": "(private)" if i.private else i.title,
                    "status": i.status,
                    "postmortem_url": f"/sandbox/api/incidents/{i.ref}/postmortem.md",
                }
                for i in recent_incidents(session, limit=20)
            ]

    return incidents


def _postmortem(runtime: Runtime, workspace: Workspace, bot: Any) -> Callable[[str], tuple[str, str] | None]:
    """The export (`incidents export REF`), with people's names as the workspace knows them."""
    from app.postmortem.render import render_markdown
    from incidents.errors import IncidentError
    from incidents.postmortem import build, owners_from_map
    from incidents.queries import get_incident

    def name_of(user_id: str) -> str | None:
        user = workspace.find_user(user_id)
        return user.real_name if user else None

    def postmortem(ref: str) -> tuple[str, str] | None:
        owners = getattr(bot.deps, "owners", None)
        with runtime.sessions() as session:
            try:
                incident = get_incident(session, ref)
            except (IncidentError, ValueError):
                return None
            data = build(
                session,
                incident,
                now=runtime.now(),
                timezone=runtime.settings.timezone,
                process=runtime.process,
                owners_of=owners_from_map(owners.current()) if owners else None,
                name_of=name_of,
            )
        return f"{data.ref}-postmortem.md", render_markdown(data, template_path=runtime.settings.postmortem_template)

    return postmortem
