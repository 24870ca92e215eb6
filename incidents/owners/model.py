"""The ownership map's entities: teams, the services they own, and how to reach their people.

Both input formats (our YAML and Backstage catalog files) are turned into these models, so every value is
checked the same way: Slack ids, emails, URLs and tiers are validated here, once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{4,}$")
SLACK_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{4,}$")
SLACK_USERGROUP_HANDLE = re.compile(r"^@[a-z0-9][a-z0-9._-]*$")
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{4,}$")
SLACK_CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_SEPARATORS = re.compile(r"[\s_-]+")

# Set in the validation context by the Backstage reader: a Group member that no User entity resolves to an
# email is kept as its entity ref (``user:default/jdoe``) so it is reported, never dropped.
ALLOW_ENTITY_REFS = "allow_entity_refs"


def normalize(name: str) -> str:
    """The key names are compared by: case-insensitive, ignoring spaces, ``-`` and ``_``."""
    return _SEPARATORS.sub("", name.casefold())


def is_slack_user_id(value: str) -> bool:
    return bool(SLACK_USER_ID.match(value))


def is_email(value: str) -> bool:
    return "@" in value and not value.startswith("@")


def check_contact(value: str, *, allow_entity_refs: bool = False) -> str:
    """A person: a Slack user id (``U024BE7LH``) or an email; returns it normalised."""
    value = value.strip()
    if is_slack_user_id(value):
        return value
    if "@" in value:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"bad email {value!r}: {exc}") from None
    if allow_entity_refs and value.lower().startswith("user:"):
        return value
    raise ValueError(f"bad Slack user id {value!r}: expected an id like U024BE7LH or an email address")


def _contact(value: str, info: ValidationInfo) -> str:
    return check_contact(value, allow_entity_refs=bool(info.context and info.context.get(ALLOW_ENTITY_REFS)))


def _usergroup(value: str) -> str:
    if SLACK_USERGROUP_HANDLE.match(value) or SLACK_USERGROUP_ID.match(value):
        return value
    raise ValueError(f"bad Slack usergroup {value!r}: expected a handle like @payments-oncall or an id like S0123ABCD")


def _channel(value: str) -> str:
    if SLACK_CHANNEL_NAME.match(value) or SLACK_CHANNEL_ID.match(value):
        return value
    raise ValueError(f"bad Slack channel {value!r}: expected a name like #payments or an id like C0123ABCD")


def _url(value: str) -> str:
    if _URL.match(value):
        return value
    raise ValueError(f"bad URL {value!r}: expected http:// or https://")


Name = Annotated[str, Field(min_length=1)]
Url = Annotated[str, AfterValidator(_url)]
Contact = Annotated[str, AfterValidator(_contact)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class EscalationStep(_Model):
    """One step of a team's escalation order; ``role`` is a label (primary, secondary, manager, ...)."""

    role: Name
    user: Contact


class Link(_Model):
    """A dashboard: ``{title, url}``, or a bare URL string."""

    url: Url
    title: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_bare_url(cls, data: Any) -> Any:
        return {"url": data} if isinstance(data, str) else data

    @property
    def label(self) -> str:
        return self.title or self.url


ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _env_name(value: str) -> str:
    if ENV_NAME.match(value):
        return value
    raise ValueError(
        f"bad environment variable name {value!r}: expected a name like PAGERDUTY_PAYMENTS_KEY "
        "(the map names the variable that holds the key, never the key itself)"
    )


class PagerRef(_Model):
    """How a team is paged: its vendor and the environment variable holding its routing key (PagerDuty) or
    API key (Opsgenie). The key itself never lives in the map."""

    service: Literal["pagerduty", "opsgenie"]
    key_env: Annotated[str, AfterValidator(_env_name)]


JIRA_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


class TrackerRef(_Model):
    """Where a team's follow-up tickets go (incidents.tickets): a Jira project (`service: jira, project: OPS`,
    optionally `issue_type`) or a GitHub repository (`service: github, repository: acme/payments`); `labels` are
    added to the settings' TICKET_LABELS, `assignee` (a GitHub login, a Jira Cloud account id, a Jira Data Center
    user name) gets every ticket."""

    service: Literal["jira", "github"]
    project: str | None = None
    repository: str | None = None
    issue_type: Name | None = None
    labels: tuple[Name, ...] = ()
    assignee: Name | None = None

    @model_validator(mode="after")
    def _destination(self) -> TrackerRef:
        if self.service == "jira":
            if not self.project or not JIRA_PROJECT_KEY.match(self.project):
                raise ValueError(f"a Jira tracker needs 'project': the project's key, like OPS (got {self.project!r})")
            if self.repository:
                raise ValueError("'repository' is for GitHub; a Jira tracker names its 'project'")
        else:
            if not self.repository or not GITHUB_REPOSITORY.match(self.repository):
                raise ValueError(
                    f"a GitHub tracker needs 'repository': owner/name, like acme/payments (got {self.repository!r})"
                )
            if self.project or self.issue_type:
                raise ValueError("'project' and 'issue_type' are for Jira; a GitHub tracker names its 'repository'")
        return self

    @property
    def destination(self) -> str:
        return (self.project if self.service == "jira" else self.repository) or ""


class Team(_Model):
    name: Name
    slack_usergroup: Annotated[str, AfterValidator(_usergroup)] | None = None
    channel: Annotated[str, AfterValidator(_channel)] | None = None
    members: tuple[Contact, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()
    contact: str | None = None
    pager: PagerRef | None = None
    tracker: TrackerRef | None = None


def _tier(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return value
    raise ValueError(f"expected 1, 2, 3 or 4 (1 = most critical), got {value!r}")


Tier = Annotated[int, BeforeValidator(_tier)]


class Service(_Model):
    name: Name
    team: Name
    aliases: tuple[Name, ...] = ()
    tier: Tier | None = Field(default=None, description="1 = most critical ... 4 = least")
    runbook: Url | None = None
    dashboards: tuple[Link, ...] = ()
    depends_on: tuple[Name, ...] = ()
