"""Modals: declare (and its confirmation), stakeholder update, role assignment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from app.slack.blocks.card import severity_option
from app.slack.blocks.text import cut, md
from app.slack.ids import PRIVATE_OPTION, Callback, DeclareField, RoleField, UpdateField
from incidents.models import Incident, Role
from incidents.process import DUTIES, Process
from incidents.service import TEXT_MAX, TITLE_MAX

ETA_MAX = 200
SELECT_MAX_OPTIONS = 100
METADATA_MAX = 3000


def metadata(values: dict[str, Any]) -> str:
    """`private_metadata`: compact JSON, at most 3,000 characters (long strings are cut first)."""
    text = json.dumps(values, separators=(",", ":"))
    if len(text) > METADATA_MAX:
        trimmed = {k: (v[:200] if isinstance(v, str) else v) for k, v in values.items()}
        text = json.dumps(trimmed, separators=(",", ":"))[:METADATA_MAX]
    return text


def read_metadata(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _text_input(
    field: str,
    label: str,
    *,
    initial: str = "",
    multiline: bool = False,
    optional: bool = False,
    max_length: int = TEXT_MAX,
    placeholder: str | None = None,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=field,
            initial_value=cut(initial, max_length) or None,
            multiline=multiline,
            max_length=max_length,
            placeholder=placeholder,
        ),
    )


def declare_modal(
    process: Process,
    *,
    services: Sequence[str] | None = None,
    title: str = "",
    impact: str = "",
    source: dict[str, str] | None = None,
    origin_channel: str | None = None,
    severity: str | None = None,
    picked_services: Sequence[str] = (),
    alert_id: int | None = None,
) -> View:
    """`services` None (no ownership map, or too many services): a free-text, comma-separated field.
    `severity` and `picked_services` prefill the form; `alert_id` (the triage channel's Declare incident button)
    travels in private_metadata, so that the alert joins the incident declared."""
    blocks: list = []
    severities = [severity_option(s.name, s.meaning) for s in process.severities[:SELECT_MAX_OPTIONS]]
    initial_severity = next((o for o in severities if o.value == severity), None)
    if source:
        blocks.append(
            ContextBlock(
                block_id=DeclareField.SOURCE,
                elements=[
                    MarkdownTextObject(
                        text=f"From a message by <@{source['user']}> in <#{source['channel']}>; "
                        "the incident will link to it."
                    )
                ],
            )
        )
    blocks.append(
        _text_input(
            DeclareField.TITLE,
            "Title",
            initial=title,
            max_length=TITLE_MAX,
            placeholder="What is broken, in a few words",
        )
    )
    blocks.append(
        InputBlock(
            block_id=DeclareField.SEVERITY,
            label="Severity",
            element=StaticSelectElement(
                action_id=DeclareField.SEVERITY,
                placeholder="How bad is it?",
                options=severities,
                initial_option=initial_severity,
            ),
        )
    )
    if services is not None and 0 < len(services) <= SELECT_MAX_OPTIONS:
        options = [Option(value=cut(name, 150), text=cut(name, 75)) for name in services]
        initial_services = [o for o in options if o.value in picked_services]
        blocks.append(
            InputBlock(
                block_id=DeclareField.SERVICES,
                label="Affected services",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=DeclareField.SERVICES,
                    placeholder="Pick the services",
                    options=options,
                    initial_options=initial_services or None,
                ),
            )
        )
    else:
        blocks.append(
            _text_input(
                DeclareField.SERVICES,
                "Affected services",
                initial=", ".join(picked_services),
                optional=True,
                max_length=1000,
                placeholder="checkout, payments",
                hint="Service names, separated by commas.",
            )
        )
    blocks.append(
        _text_input(
            DeclareField.IMPACT,
            "What is happening (impact)",
            initial=impact,
            multiline=True,
            optional=True,
            placeholder="Who is affected, and how?",
        )
    )
    blocks.append(
        InputBlock(
            block_id=DeclareField.PRIVATE,
            label="Visibility",
            optional=True,
            element=CheckboxesElement(
                action_id=DeclareField.PRIVATE,
                options=[
                    Option(
                        value=PRIVATE_OPTION,
                        label="Private incident",
                        description="A private channel; the announcement shows only its reference and severity.",
                    )
                ],
            ),
        )
    )
    return View(
        type="modal",
        callback_id=Callback.DECLARE,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        blocks=blocks,
        private_metadata=metadata(
            {"channel": origin_channel, "source": source} | ({"alert": alert_id} if alert_id is not None else {})
        ),
    )


def declared_view(incident: Incident) -> View:
    text = (
        f":white_check_mark: *{incident.ref}* is declared ({md(incident.severity, 40)}): {md(incident.title, 400)}\n"
        "Its channel is being created; you will be invited, and the incident is announced "
        "in the announcements channel."
    )
    return View(
        type="modal",
        callback_id=Callback.DECLARED,
        title="Incident declared",
        close="Done",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )


def update_modal(incident: Incident, *, text: str = "") -> View:
    last = incident.last_update
    return View(
        type="modal",
        callback_id=Callback.POST_UPDATE,
        title="Stakeholder update",
        submit="Post update",
        close="Cancel",
        private_metadata=metadata({"incident": incident.ref}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{incident.ref}*: {md(incident.title, 300)}\nPosted in the incident channel"
                    + ("." if incident.private else " and under the announcement.")
                )
            ),
            _text_input(UpdateField.TEXT, "What is happening", initial=text, multiline=True),
            _text_input(
                UpdateField.IMPACT,
                "Impact",
                initial=last.impact if last else incident.summary,
                multiline=True,
                optional=True,
            ),
            _text_input(
                UpdateField.NEXT_STEPS,
                "Next steps",
                initial=last.next_steps if last else "",
                multiline=True,
                optional=True,
            ),
            _text_input(
                UpdateField.ETA, "ETA", optional=True, max_length=ETA_MAX, placeholder="e.g. 15:30 UTC, or unknown"
            ),
        ],
    )


def roles_modal(incident: Incident) -> View:
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=f"*{incident.ref}*: {md(incident.title, 300)}")),
    ]
    for role in Role:
        title, duty = DUTIES[role]
        holder = incident.holder(role)
        blocks.append(
            InputBlock(
                block_id=RoleField.for_role(role),
                label=f"{title} ({role.value})",
                optional=True,
                hint=cut(duty, 150),
                element=UserSelectElement(
                    action_id=RoleField.for_role(role),
                    placeholder=PlainTextObject(text="Pick a person"),
                    initial_user=holder,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=Callback.ASSIGN_ROLES,
        title="Assign roles",
        submit="Assign",
        close="Cancel",
        # The holders the pickers start with: on submit only the roles whose picker was changed are applied, so
        # an untouched picker never undoes a handover made while the form was open.
        private_metadata=metadata({"incident": incident.ref, "holders": {r.value: incident.holder(r) for r in Role}}),
        blocks=blocks,
    )
