"""Modal submissions parsed into plain values, with errors keyed by the block that shows them (pure). They read
`view.state.values` as validated at the edge (`app.slack.payloads.View.values`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.slack.blocks.modals import ETA_MAX
from app.slack.ids import PRIVATE_OPTION, DeclareField, RoleField, UpdateField
from app.slack.payloads import ElementState
from incidents.errors import InvalidInput
from incidents.models import Role
from incidents.process import Process
from incidents.service import TEXT_MAX, TITLE_MAX

State = Mapping[str, Mapping[str, ElementState]]
_EMPTY = ElementState()


def _field(state: State, block: str) -> ElementState:
    """The input of `block` (our input blocks use the same id for the block and its element)."""
    return (state.get(block) or {}).get(block) or _EMPTY


def _text(state: State, block: str) -> str:
    return (_field(state, block).value or "").strip()


@dataclass
class DeclareForm:
    title: str = ""
    severity: str = ""
    services: list[str] = field(default_factory=list)
    impact: str = ""
    private: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def read_declare(
    state: State, process: Process, *, known_service: Callable[[str], str | None] | None = None
) -> DeclareForm:
    """`known_service(name)` returns the catalog's name for a typed service, or None when it is unknown."""
    form = DeclareForm()
    form.title = " ".join(_text(state, DeclareField.TITLE).split())
    if not form.title:
        form.errors[DeclareField.TITLE] = "Give the incident a title."
    elif len(form.title) > TITLE_MAX:
        form.errors[DeclareField.TITLE] = f"Keep the title under {TITLE_MAX} characters."
    selected = _field(state, DeclareField.SEVERITY).selected_option
    try:
        form.severity = process.severity(selected.value if selected else "").name
    except InvalidInput:
        form.errors[DeclareField.SEVERITY] = "Pick a severity."
    services = _field(state, DeclareField.SERVICES)
    if services.type == "multi_static_select":
        form.services = [o.value for o in services.selected_options or []]
    else:
        form.services, problem = _typed_services(services.value or "", known_service)
        if problem:
            form.errors[DeclareField.SERVICES] = problem
    form.impact = _text(state, DeclareField.IMPACT)
    if len(form.impact) > TEXT_MAX:
        form.errors[DeclareField.IMPACT] = f"Keep this under {TEXT_MAX} characters."
    chosen = _field(state, DeclareField.PRIVATE).selected_options or []
    form.private = any(o.value == PRIVATE_OPTION for o in chosen)
    return form


def _typed_services(text: str, known_service: Callable[[str], str | None] | None) -> tuple[list[str], str | None]:
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if any(len(n) > 100 for n in names):
        return names, "A service name is longer than 100 characters; separate names with commas."
    if known_service is None:
        return names, None
    resolved, unknown = [], []
    for name in names:
        found = known_service(name)
        (resolved.append(found) if found else unknown.append(name))
    if unknown:
        return resolved, f"Unknown service: {', '.join(unknown)}. Use the names of the ownership map."
    return resolved, None


@dataclass
class UpdateForm:
    text: str = ""
    impact: str = ""
    next_steps: str = ""
    eta: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def read_update(state: State) -> UpdateForm:
    form = UpdateForm(
        text=_text(state, UpdateField.TEXT),
        impact=_text(state, UpdateField.IMPACT),
        next_steps=_text(state, UpdateField.NEXT_STEPS),
        eta=_text(state, UpdateField.ETA),
    )
    if not form.text:
        form.errors[UpdateField.TEXT] = "Say what is happening, in a few words."
    for block, value, limit in (
        (UpdateField.TEXT, form.text, TEXT_MAX),
        (UpdateField.IMPACT, form.impact, TEXT_MAX),
        (UpdateField.NEXT_STEPS, form.next_steps, TEXT_MAX),
        (UpdateField.ETA, form.eta, ETA_MAX),
    ):
        if len(value) > limit:
            form.errors[block] = f"Keep this under {limit} characters."
    return form


def read_roles(state: State, initial: Any = None) -> dict[Role, str]:
    """The person picked for each role (roles left empty are not in the result). With `initial` (role name ->
    holder when the form opened, from its private_metadata), only the pickers the person changed: Slack sends
    every picker's value, prefilled ones included."""
    picked = {}
    for role in Role:
        user = _field(state, RoleField.for_role(role)).selected_user
        if user:
            picked[role] = user
    if isinstance(initial, Mapping):
        picked = {role: user for role, user in picked.items() if initial.get(role.value) != user}
    return picked
