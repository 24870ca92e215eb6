"""Every action_id, block_id and callback_id the bot sends or listens for. A typo fails at import, not in Slack.

Other features add their own Enum classes here. Input blocks use the same string as block_id and action_id:
`view.state.values[Field.X][Field.X]`.
"""

from __future__ import annotations

from enum import StrEnum

from incidents.models import Role


class CardAction(StrEnum):
    """The incident card's buttons and severity picker; each carries the incident reference as its value."""

    ACKNOWLEDGE = "incident_acknowledge"
    ASSIGN_ROLES = "incident_assign_roles"
    POST_UPDATE = "incident_post_update"
    CHANGE_SEVERITY = "incident_change_severity"
    MARK_MITIGATED = "incident_mark_mitigated"
    RESOLVE = "incident_resolve"
    PAGE_OWNERS = "incident_page_owners"  # page the teams owning the incident's services (app.slack.listeners.pages)


class CardBlock(StrEnum):
    HEADER = "incident_card_header"
    FACTS = "incident_card_facts"
    ROLES = "incident_card_roles"
    UPDATE = "incident_card_update"
    ACTIONS = "incident_card_actions"


class AnnouncementBlock(StrEnum):
    SUMMARY = "incident_announcement"


class Callback(StrEnum):
    """Modal callback ids and the message shortcut's callback id (also in manifest.yml)."""

    DECLARE = "incident_declare"
    DECLARED = "incident_declared"
    POST_UPDATE = "incident_update"
    ASSIGN_ROLES = "incident_roles"
    DECLARE_FROM_MESSAGE = "declare_incident_from_message"


class DeclareField(StrEnum):
    TITLE = "declare_title"
    SEVERITY = "declare_severity"
    SERVICES = "declare_services"
    IMPACT = "declare_impact"
    PRIVATE = "declare_private"
    SOURCE = "declare_source"  # a context block naming the message the modal was opened from


class UpdateField(StrEnum):
    TEXT = "update_text"
    IMPACT = "update_impact"
    NEXT_STEPS = "update_next_steps"
    ETA = "update_eta"


class RoleField(StrEnum):
    ACKNOWLEDGE = "role_acknowledge"
    MITIGATE = "role_mitigate"
    INVESTIGATE = "role_investigate"
    COMMUNICATE = "role_communicate"

    @property
    def role(self) -> Role:
        return Role(self.value.removeprefix("role_"))

    @classmethod
    def for_role(cls, role: Role) -> RoleField:
        return cls(f"role_{role.value}")


PRIVATE_OPTION = "private"


class ReminderAction(StrEnum):
    """The stakeholder-update reminder's button (value: the reference) and snooze picker (value: `INC-12:30`)."""

    POST_UPDATE = "reminder_post_update"
    SNOOZE = "reminder_snooze"


class ReminderBlock(StrEnum):
    TEXT = "reminder_text"
    ACTIONS = "reminder_actions"
    WINDOW = "reminder_window"  # prefix of a block id naming the window and stage (app.slack.blocks.reminders.marker)


class MessageBlock(StrEnum):
    """Prefixes of the block ids a retry finds a posted message by when Slack's answer was lost
    (app.delivery.handlers.posted)."""

    TEXT = "message_text"  # + the outbox row's id: a channel message, a direct message, a role briefing
    UPDATE = "status_update"  # + the status update's id: a stakeholder update, in the channel and in the thread


class ChangesBlock(StrEnum):
    """The "What changed recently" message (app.slack.blocks.changes)."""

    HEADER = "changes_header"
    SCOPE = "changes_scope"
    MORE = "changes_more"
    POSTED = "changes_posted"  # + the outbox row's id: the message a retry finds when Slack's answer was lost


class TicketAction(StrEnum):
    """A follow-up's Create ticket button in the follow-up list (value: `INC-12:<follow-up id>`)."""

    CREATE = "followup_create_ticket"


class TimelineAction(StrEnum):
    """The timeline's page buttons (value: `INC-12:2`), a follow-up's Done button (value: `INC-12:<id>`), and the
    card's post-mortem button (value: the reference)."""

    PAGE = "timeline_page"
    FOLLOWUP_DONE = "followup_done"
    POSTMORTEM = "incident_postmortem"


class AlertAction(StrEnum):
    """The triage channel's Declare incident button (value: the alert's id)."""

    DECLARE = "alert_declare"
    OPEN_LINK = "alert_open_link"  # a link button: only acknowledged


class AlertBlock(StrEnum):
    SUMMARY = "alert_summary"  # + the alert's id: a retry finds a triage message posted already
    ACTIONS = "alert_actions"


class HomeAction(StrEnum):
    """The App Home's buttons (app.slack.listeners.home): Declare incident, and Post update (value: the
    reference) on an incident whose stakeholder update is due from the person."""

    DECLARE = "home_declare"
    POST_UPDATE = "home_post_update"


class HomeBlock(StrEnum):
    HEADER = "home_header"
    ACTIONS = "home_actions"
    DUTIES = "home_duties"
    OPEN = "home_open"
    FOLLOWUPS = "home_followups"
    POSTMORTEMS = "home_postmortems"


HOME_CALLBACK = "incident_home"  # the Home view's callback_id


class ReviewId(StrEnum):
    """The post-mortem review (app.slack.listeners.review): the Schedule review button (value: the reference), its
    form's callback id and fields."""

    SCHEDULE = "review_schedule"
    FORM = "incident_review"
    DATE = "review_date"
    TIME = "review_time"
