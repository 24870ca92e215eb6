"""The sandbox page (`/sandbox`) and its JSON API (`/sandbox/api/...`), as a WSGI app.

The page never touches the bot: each click becomes the request Slack would send (built and signed by
`SlackClientSimulator`, delivered to the bot's `/slack/events`), and the page shows what the bot then did to the
local workspace. Only the drill clock, the post-mortem download and the two outside senders (a sample alert from
Alertmanager, a sample deploy from CI, each sent to the bot's own webhook) reach past Slack's edge, through
callables the runner passes in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

import structlog

from app.sandbox.blockkit import find_element
from app.sandbox.client import Result, SlackClientSimulator, SubmissionRefused
from app.sandbox.clock import DrillClock
from app.sandbox.errors import ApiError
from app.sandbox.payloads import holds_state, is_empty, state_entry
from app.sandbox.ui_state import PageFacts, page_state, people
from app.sandbox.workspace import Workspace

PREFIX = "/sandbox"
API = f"{PREFIX}/api/"
SKIPS = (5, 15, 30, 60)
MAX_BODY = 1_000_000
REQUIRED = "Please complete this required field."
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

log = structlog.get_logger(__name__)
Answer = tuple[int, list[tuple[str, str]], bytes]
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class Refused(Exception):
    """A request the page should not have sent; answered 400 with the reason."""


def _nothing() -> None:
    return None


def _no_incidents() -> list[dict[str, Any]]:
    return []


def _not_configured() -> dict[str, Any]:
    raise Refused("this sandbox was started without it")


class SandboxUI:
    def __init__(
        self,
        workspace: Workspace,
        simulator: SlackClientSimulator,
        clock: DrillClock,
        facts: PageFacts | None = None,
        *,
        after_skip: Callable[[], None] = _nothing,
        incidents: Callable[[], list[dict[str, Any]]] = _no_incidents,
        postmortem: Callable[[str], tuple[str, str] | None] | None = None,
        fire_alert: Callable[[], dict[str, Any]] = _not_configured,
        record_deploy: Callable[[], dict[str, Any]] = _not_configured,
    ) -> None:
        self.workspace = workspace
        self.simulator = simulator
        self.clock = clock
        self.facts = facts or PageFacts()
        self.after_skip = after_skip
        self.incidents = incidents
        self.postmortem = postmortem
        self.fire_alert = fire_alert
        self.record_deploy = record_deploy
        self.view_errors: dict[str, dict[str, str]] = {}
        self._posts: dict[str, Handler] = {
            "command": self._command,
            "message": self._message,
            "action": self._action,
            "submit": self._submit,
            "close": self._close,
            "reaction": self._reaction,
            "pin": self._pin,
            "shortcut": self._shortcut,
            "clock/skip": self._skip,
            "drill/alert": lambda body: self.fire_alert(),
            "drill/deploy": lambda body: self.record_deploy(),
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            status, headers, body = self._route(environ)
        except (Refused, LookupError) as exc:  # LookupError: no such element, option or view (a stale page)
            status, headers, body = _json({"ok": False, "error": str(exc).strip("'\"")}, 400)
        except ApiError as exc:
            status, headers, body = _json({"ok": False, "error": f"Slack refused: {exc.error.value}"}, 400)
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [*headers, ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
        )
        return [body]

    # routing

    def _route(self, environ: dict[str, Any]) -> Answer:
        path, verb = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path in (PREFIX, f"{PREFIX}/") and verb in ("GET", "HEAD"):
            return self._static("index.html")
        if path.startswith(f"{PREFIX}/static/") and verb in ("GET", "HEAD"):
            return self._static(path.removeprefix(f"{PREFIX}/static/"))
        if not path.startswith(API):
            return _text("Not Found", 404)
        route = path.removeprefix(API)
        if verb == "GET":
            return self._get(route, dict(parse_qsl(environ.get("QUERY_STRING", ""))))
        if verb == "POST" and route in self._posts:
            if not (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
                # A JSON body cannot be sent cross-site without a CORS preflight, which this server never grants.
                return _json({"ok": False, "error": "send application/json"}, 415)
            return _json(self._posts[route](_read_json(environ)))
        return _text("Not Found", 404)

    def _get(self, route: str, query: dict[str, str]) -> Answer:
        if route == "state":
            return _json(self._state(query))
        parts = route.split("/")
        if len(parts) == 3 and parts[0] == "files":
            return self._file(parts[1])
        if len(parts) == 3 and parts[0] == "incidents" and parts[2] == "postmortem.md":
            return self._postmortem(parts[1])
        return _text("Not Found", 404)

    def _static(self, name: str) -> Answer:
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
            return _text("Not Found", 404)
        resource = resources.files("app.sandbox").joinpath("static", name)
        if not resource.is_file():
            return _text("Not Found", 404)
        return 200, [("Content-Type", STATIC_TYPES[suffix])], resource.read_bytes()

    # reading

    def _state(self, query: dict[str, str]) -> dict[str, Any]:
        viewer, everyone = query.get("as") or "", [u.id for u in self._people()]
        if viewer not in everyone:
            viewer = everyone[0] if everyone else ""
        offset = int(self.clock.offset.total_seconds() // 60)
        state = page_state(
            self.workspace,
            viewer,
            now=self.clock(),
            offset_minutes=offset,
            facts=self.facts,
            view_errors=self.view_errors,
            incidents=self.incidents(),
        )
        if query.get("since") == state["version"]:
            return {"unchanged": True, "version": state["version"]}
        return state

    def _people(self) -> list[Any]:
        with self.workspace.lock:
            return people(self.workspace)

    def _file(self, file_id: str) -> Answer:
        try:
            file = self.workspace.files.get(file_id)
        except ApiError:
            return _text("Not Found", 404)
        if not file.completed or file.content is None:
            return _text("Not Found", 404)
        return (
            200,
            [("Content-Type", "application/octet-stream"), ("Content-Disposition", _attachment(file.name))],
            file.content,
        )

    def _postmortem(self, ref: str) -> Answer:
        found = self.postmortem(ref) if self.postmortem else None
        if found is None:
            return _text(f"No post-mortem for {ref}", 404)
        filename, markdown = found
        return (
            200,
            [("Content-Type", "text/markdown; charset=utf-8"), ("Content-Disposition", _attachment(filename))],
            markdown.encode(),
        )

    # acting: each returns {"ok": ...} for the page

    def _person(self, body: dict[str, Any]) -> str:
        user_id = str(body.get("as") or "")
        if not any(u.id == user_id for u in self._people()):
            raise Refused(f"unknown person {user_id!r}")
        return user_id

    def _command(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        text = str(body.get("text") or "").strip()
        command, _, rest = text.partition(" ")
        if not command.startswith("/") or len(command) < 2:
            raise Refused("a slash command starts with '/'")
        if command != self.facts.command:
            return {"ok": False, "error": f"{command} is not a valid command. Try {self.facts.command} help."}
        return _outcome(self.simulator.slash_command(user, _required(body, "channel"), command, rest.strip()))

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        text = str(body.get("text") or "").strip()
        if not text:
            raise Refused("an empty message")
        thread = body.get("thread_ts") or None
        return _outcome(self.simulator.post(user, _required(body, "channel"), text, thread))

    def _action(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        action = body.get("action") or {}
        action_id, block_id, value = action.get("action_id"), action.get("block_id"), action.get("value")
        if not action_id:
            raise Refused("an action needs its action_id")
        if view_id := body.get("view_id"):
            self._keep_view_state(user, str(view_id), body.get("state") or {})
            return _outcome(self.simulator.click_in_view(user, str(view_id), action_id, value, block_id))
        channel, ts = _required(body, "channel"), _required(body, "ts")
        return _outcome(self.simulator.click(user, channel, ts, action_id, value, block_id))

    def _keep_view_state(self, user: str, view_id: str, values: dict[str, Any]) -> None:
        """What the person typed so far travels with a click in the modal, as `view.state` does in Slack."""
        with self.workspace.lock:
            view = self._view(user, view_id)
            for block_id, actions in values.items():
                for action_id, value in (actions or {}).items():
                    try:
                        _, element = find_element(view.body.get("blocks") or [], action_id, block_id)
                    except LookupError:
                        continue
                    if holds_state(element):
                        view.state.setdefault(block_id, {})[action_id] = state_entry(element, value)

    def _submit(self, body: dict[str, Any]) -> dict[str, Any]:
        user, view_id = self._person(body), _required(body, "view_id")
        values = body.get("values") or {}
        with self.workspace.lock:
            missing = _missing_required(self._view(user, view_id).body.get("blocks") or [], values)
        if missing:
            self.view_errors[view_id] = missing
            return {"ok": True, "errors": missing}
        try:
            result = self.simulator.submit_view(user, view_id, values)
        except SubmissionRefused as exc:
            raise Refused(str(exc)) from None
        answer = result.json if isinstance(result.json, dict) else {}
        if result.status == 200 and answer.get("response_action") == "errors":
            self.view_errors[view_id] = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
            return {"ok": True, "errors": self.view_errors[view_id]}
        self.view_errors.pop(view_id, None)
        return _outcome(result)

    def _close(self, body: dict[str, Any]) -> dict[str, Any]:
        user, view_id = self._person(body), _required(body, "view_id")
        self.view_errors.pop(view_id, None)
        result = self.simulator.close_view(user, view_id)
        return {"ok": True} if result is None else _outcome(result)

    def _reaction(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        channel, ts, name = _required(body, "channel"), _required(body, "ts"), _required(body, "name")
        act = self.simulator.unreact if body.get("remove") else self.simulator.react
        return _outcome(act(user, channel, ts, name.strip(":")))

    def _pin(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        act = self.simulator.unpin if body.get("remove") else self.simulator.pin
        return _outcome(act(user, _required(body, "channel"), _required(body, "ts")))

    def _shortcut(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        callback_id = _required(body, "callback_id")
        if callback_id not in {s["callback_id"] for s in self.facts.shortcuts}:
            raise Refused(f"unknown shortcut {callback_id!r}")
        return _outcome(
            self.simulator.message_shortcut(user, _required(body, "channel"), _required(body, "ts"), callback_id)
        )

    def _skip(self, body: dict[str, Any]) -> dict[str, Any]:
        minutes = body.get("minutes")
        if minutes not in SKIPS:
            raise Refused(f"skip by one of {', '.join(map(str, SKIPS))} minutes")
        offset = self.clock.skip(timedelta(minutes=minutes))
        log.info("sandbox.clock_skipped", minutes=minutes, offset_minutes=offset.total_seconds() // 60)
        self.after_skip()
        return {"ok": True, "offset_minutes": int(offset.total_seconds() // 60)}

    def _view(self, user: str, view_id: str) -> Any:
        view = self.workspace.modals.view(view_id)
        if view.user != user:
            raise Refused(f"view {view_id} is not open for {user}")
        return view


def _missing_required(blocks: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, str]:
    """Required inputs left empty: Slack's client refuses to submit and marks them, without asking the app."""
    missing = {}
    for block in blocks:
        element = block.get("element") or {}
        if block.get("type") != "input" or block.get("optional") or not holds_state(element):
            continue
        value = (values.get(block.get("block_id")) or {}).get(element.get("action_id"))
        if value is None or is_empty(state_entry(element, value)):
            missing[block["block_id"]] = REQUIRED
    return missing


def _outcome(result: Result) -> dict[str, Any]:
    """The bot's HTTP answer, in words the page can show."""
    if result.status == 0:
        return {"ok": False, "error": "The bot did not answer within 3 seconds (Slack would show a timeout)."}
    if not 200 <= result.status < 300:
        return {"ok": False, "error": f"The bot answered HTTP {result.status}."}
    return {"ok": True}


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not value:
        raise Refused(f"missing {name}")
    return str(value)


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise Refused("request too large")
    raw = environ["wsgi.input"].read(length) if length > 0 else b"{}"
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused("the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused("the body must be a JSON object")
    return body


def _attachment(filename: str) -> str:
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.") or "download"
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(filename)}"


def _json(body: Any, status: int = 200) -> Answer:
    return status, [("Content-Type", "application/json; charset=utf-8")], json.dumps(body).encode()


def _text(text: str, status: int = 200) -> Answer:
    return status, [("Content-Type", "text/plain; charset=utf-8")], text.encode()
