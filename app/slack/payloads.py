"""The payloads Slack sends to the bot, as pydantic models: a slash command's form, the interactions
(block_actions, view_submission, view_closed, shortcut, message_action, block_suggestion) and the Events API
envelopes (event_callback, url_verification).

The HTTP edge (`app.http.inbound`) validates every request against them before Bolt sees it, and Socket Mode
requests are validated the same way before Bolt builds its context (`app.http.socket_mode`). Bolt and the listeners
index into payloads as Slack builds them (`body["actions"][0]`, `body["view"]["callback_id"]`, `body["user"]["id"]`,
`response_urls[0]`); a payload Slack would never send would make them raise. So every field Bolt or the bot
reads is typed here, strictly (a number is not a string); fields nobody reads pass untouched (`extra="allow"`),
as Slack adds fields over time. The validated model rides along in Bolt's context (`of(context)`), so that the
request description and the listeners read typed values instead of digging in dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError, from_json

CONTEXT_KEY = "inbound"  # where the validated payload waits in Bolt's context


class Malformed(Exception):
    """Not a request Slack would send; the message says which field is wrong (its path, never its value)."""


def _url(value: str) -> str:
    """An http(s) URL that can be posted to (Bolt's `respond` posts to the response_url as it is)."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not (port_ok and parts.scheme in ("https", "http") and parts.hostname) or not value.isprintable():
        raise PydanticCustomError("url", "must be a URL")
    return value


Text = StrictStr
Filled = Annotated[StrictStr, Field(min_length=1)]
Url = Annotated[StrictStr, AfterValidator(_url)]
Flag = StrictBool | StrictStr
Number = StrictInt | StrictFloat | StrictStr


class Shape(BaseModel):
    """A JSON object of Slack's: the fields declared are typed, any others are kept as they came. Names in
    `not_null` may be absent but not null (Bolt tests `"view" in body`, then reads into the value)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for name in cls.not_null:
                if name in data and data[name] is None:
                    raise PydanticCustomError("null", "{name} is null", {"name": name})
        return data


# --- what Bolt reads from any body ----------------------------------------------------------------------


class Named(Shape):
    id: Text | None = None
    name: Text | None = None


class ViewRef(Shape):
    team_id: Text | None = None
    app_installed_team_id: Text | None = None


class ResponseUrl(Shape):
    response_url: Url | None = None
    channel_id: Text | None = None
    block_id: Text | None = None
    action_id: Text | None = None


class FunctionData(Shape):
    execution_id: Text | None = None
    inputs: dict[str, Any] | None = None


class Common(Shape):
    """What Bolt's `build_context` and its built-in middleware read from any body, and from the objects they
    recurse into (`event`, `message`, `item`, `authorizations[0]`...): `"id" in team`, `len(response_urls)`,
    `body.get("event", {}).get("bot_id")`."""

    not_null = ("event", "response_urls")

    enterprise: Text | Named | None = None
    enterprise_id: Text | None = None
    team: Text | Named | None = None
    team_id: Text | None = None
    user: Text | Named | None = None
    user_id: Text | None = None
    channel: Text | Named | None = None
    channel_id: Text | None = None
    thread_ts: Text | None = None
    is_enterprise_install: Flag | None = None
    authorizations: list[Common] | None = None
    view: ViewRef | None = None
    event: Common | None = None
    message: Common | None = None
    previous_message: Common | None = None
    item: Common | None = None
    assistant_thread: Common | None = None
    response_url: Url | None = None  # Bolt's `respond` posts to it
    response_urls: list[ResponseUrl] | None = None  # absent or a list: Bolt reads its length
    function_execution_id: Text | None = None
    bot_access_token: Text | None = None
    function_data: FunctionData | None = None


# --- the pieces of interactions --------------------------------------------------------------------------


class Ident(Shape):
    """A person or an app as interactions name it: always an object with an id."""

    id: Text
    team_id: Text | None = None
    enterprise_id: Text | None = None
    name: Text | None = None


class Team(Shape):
    id: Text | None = None
    enterprise_id: Text | None = None
    domain: Text | None = None


class OptionText(Shape):
    text: Text | None = None


class Option(Shape):
    value: Text
    text: OptionText | None = None


class ElementState(Shape):
    """One input's value in `view.state.values[block_id][action_id]`."""

    type: Text | None = None
    value: Text | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None
    selected_user: Text | None = None
    selected_users: list[Text] | None = None
    selected_conversation: Text | None = None
    selected_channel: Text | None = None
    selected_date: Text | None = None
    selected_time: Text | None = None


class State(Shape):
    values: dict[str, dict[str, ElementState]] | None = None


class View(ViewRef):
    id: Text | None = None
    type: Text  # Bolt reads both from any view
    callback_id: Text
    private_metadata: Text | None = None
    hash: Text | None = None
    root_view_id: Text | None = None
    previous_view_id: Text | None = None
    team_id: Text | None = None
    app_installed_team_id: Text | None = None
    blocks: list[dict[str, Any]] | None = None
    state: State | None = None

    @property
    def values(self) -> dict[str, dict[str, ElementState]]:
        """`state.values`, or nothing when Slack sent no state."""
        return (self.state.values if self.state else None) or {}

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """`private_metadata` as the JSON object the bot wrote there, or nothing."""
        try:
            value = from_json(self.private_metadata or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class SubmittedView(View):
    id: Filled  # a submission counts once per view id


class Action(Shape):
    action_id: Text
    block_id: Text | None = None
    type: Text | None = None
    value: Text | None = None
    action_ts: Text | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None
    selected_user: Text | None = None
    selected_users: list[Text] | None = None


class Container(Shape):
    type: Text | None = None
    message_ts: Text | None = None
    channel_id: Text | None = None
    view_id: Text | None = None
    is_ephemeral: Flag | None = None


class Message(Common):
    ts: Text | None = None
    text: Text | None = None
    user: Text | None = None
    thread_ts: Text | None = None
    bot_id: Text | None = None


# --- slash commands --------------------------------------------------------------------------------------


class SlashCommand(Common):
    """A slash command's form: what Slack always sends with one, and what answering it needs."""

    command: Filled
    user_id: Filled
    channel_id: Filled
    team_id: Filled
    trigger_id: Filled
    response_url: Url
    text: Text = ""


class Form(Common):
    """Any other form Slack posts (`ssl_check=1`): Bolt answers it itself."""


# --- interactions ----------------------------------------------------------------------------------------


class Interaction(Common):
    """Any interaction payload; the subclasses require what their type always carries."""

    not_null = ("user", "view", "actions", "container", "message", "channel", "state", *Common.not_null)

    type: Text
    user: Ident | None = None  # interactions always carry the person as an object
    team: Team | None = None  # an object, or null (org-wide installs)
    api_app_id: Text | None = None
    token: Text | None = None
    trigger_id: Text | None = None
    response_url: Url | None = None
    callback_id: Text | None = None
    channel: Named | None = None  # interactions always name the channel as an object
    container: Container | None = None
    message: Message | None = None
    view: View | None = None
    actions: list[Action] | None = None
    action_id: Text | None = None
    block_id: Text | None = None
    value: Text | None = None
    state: State | None = None


class BlockActions(Interaction):
    user: Ident
    trigger_id: Text
    actions: Annotated[list[Action], Field(min_length=1)]

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        if not self.response_url and self.view is None:
            # A click on a message comes with its response_url, a click in a modal with the view.
            raise PydanticCustomError("unanswerable", "a block action needs a response_url or a view")
        return self

    @property
    def action(self) -> Action:
        """The element clicked (Slack sends one)."""
        return self.actions[0]


class ViewSubmission(Interaction):
    user: Ident
    view: SubmittedView
    trigger_id: Text


class ViewClosed(Interaction):
    user: Ident
    view: View


class Shortcut(Interaction):
    """A global shortcut (`shortcut`) or a message shortcut (`message_action`)."""

    user: Ident
    callback_id: Text
    trigger_id: Text


class BlockSuggestion(Interaction):
    user: Ident
    action_id: Text


INTERACTIONS: dict[str, type[Interaction]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "view_closed": ViewClosed,
    "shortcut": Shortcut,
    "message_action": Shortcut,
    "block_suggestion": BlockSuggestion,
}


# --- Events API ------------------------------------------------------------------------------------------


class EventMessage(Common):
    ts: Text | None = None
    text: Text | None = None
    user: Text | None = None
    thread_ts: Text | None = None


class Item(Common):
    type: Text | None = None
    channel: Text | None = None
    ts: Text | None = None
    message: EventMessage | None = None


class Event(Common):
    type: Text
    user: Text | Ident | None = None  # events name the person by id
    channel: Text | Named | None = None
    channel_type: Text | None = None
    text: Text | None = None
    ts: Text | None = None
    event_ts: Text | None = None
    subtype: Text | None = None
    bot_id: Text | None = None
    team: Text | None = None
    user_team: Text | None = None
    reaction: Text | None = None
    item_user: Text | None = None
    item: Item | None = None
    message: EventMessage | None = None
    previous_message: EventMessage | None = None
    tab: Text | None = None

    @property
    def who(self) -> str | None:
        """The person's id, however the event names them."""
        return self.user.id if isinstance(self.user, Ident) else self.user


class Envelope(Common):
    """Any Events API body; the subclasses require what their type always carries."""

    type: Text
    event: Event | None = None
    event_id: Text | None = None
    event_time: Number | None = None
    api_app_id: Text | None = None
    is_ext_shared_channel: Flag | None = None
    challenge: Text | None = None


class AppHomeOpened(Event):
    """`app_home_opened`: someone opened the app's Home (`tab` "home") or its Messages tab. The listener reads
    who and which tab; `view` (the Home as last published) is only passed along."""

    user: Filled
    tab: Text
    view: ViewRef | None = None


EVENT_KINDS: dict[str, type[Event]] = {"app_home_opened": AppHomeOpened}  # events whose shape is checked further


def _event_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    model = EVENT_KINDS.get(kind) if isinstance(kind, str) else None
    return (model or Event).__name__


AnyEvent = Annotated[
    Annotated[AppHomeOpened, Tag(AppHomeOpened.__name__)] | Annotated[Event, Tag(Event.__name__)],
    Discriminator(_event_kind),
]


class EventCallback(Envelope):
    event: AnyEvent


class UrlVerification(Envelope):
    challenge: Text


EVENTS: dict[str, type[Envelope]] = {"event_callback": EventCallback, "url_verification": UrlVerification}

Payload = SlashCommand | Form | Interaction | Envelope
P = TypeVar("P", bound=Shape)


# --- validation ------------------------------------------------------------------------------------------


def validate(body: Any, *, where: str = "body", form: bool = False) -> Payload:
    """The typed model of `body` (a parsed request); `Malformed` says what is wrong with it. `form`: it came as
    a form without a `payload` field (a slash command, an `ssl_check`), whose fields are all text."""
    if not isinstance(body, dict):
        raise Malformed(f"the {where} must be a JSON object")
    model: type[Shape]
    if "command" in body:  # Bolt takes anything with a command for a slash command
        model, where = SlashCommand, "slash_command"
    elif form:
        model = Form
    else:
        kind = body.get("type")
        if not isinstance(kind, str):
            raise Malformed(f"{where}.type must be str")
        model = INTERACTIONS.get(kind) or EVENTS.get(kind) or (Envelope if "event" in body else Interaction)
    try:
        return model.model_validate(body)  # type: ignore[return-value]
    except ValidationError as exc:
        raise Malformed(reason(exc, where)) from None
    except RecursionError:
        raise Malformed(f"the {where} is nested too deeply") from None


def of(context: Mapping[str, Any]) -> Payload | None:
    """The validated payload of the request whose Bolt context this is."""
    return context.get(CONTEXT_KEY)


# Union members show up in pydantic's error locations by type name; the reader wants the field path.
_MEMBERS = {"str", "bool", "int", "float", "function-after[_url(), str]"}
_EXPECTED = {
    "string_type": "str",
    "bool_type": "bool",
    "int_type": "a number",
    "float_type": "a number",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
}


def _members() -> set[str]:
    names, pending = set(_MEMBERS), [Shape]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending += cls.__subclasses__()
    return names


def reason(exc: ValidationError, where: str) -> str:
    """The first problem in plain words: `payload.view.id is missing`, `payload.user must be an object`."""
    members = _members()
    problems: dict[str, list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = where
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part not in members:
                path += f".{part}"
        problems.setdefault(path, []).append(error)
    # The deepest path says the most (`channel.id must be str` rather than `channel must be str`).
    path = max(problems, key=lambda p: (p.count(".") + p.count("["), -list(problems).index(p)))
    errors = problems[path]
    first = errors[0]
    kind = first["type"]
    if kind == "missing":
        text = f"{path} is missing"
    elif kind == "null":
        text = f"{path}.{first['ctx']['name']} is null"
    elif kind in _EXPECTED:
        expected = dict.fromkeys(_EXPECTED[e["type"]] for e in errors if e["type"] in _EXPECTED)
        text = f"{path} must be {' or '.join(expected)}"
    elif kind == "string_too_short":
        text = f"{path} is empty"
    elif kind == "too_short":
        text = f"{path} must have at least {first['ctx']['min_length']} item"
    elif path == where:
        text = first["msg"]
    else:
        text = f"{path} {first['msg']}" if first["msg"].startswith("must") else f"{path}: {first['msg']}"
    return text[:300]


def typed(context: Mapping[str, Any], kind: type[P]) -> P:
    """The validated payload of this request, as the listener expects it (`typed(context, ViewSubmission)`)."""
    payload = of(context)
    if not isinstance(payload, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(payload).__name__}")
    return payload
