"""Settings, read once from the environment (and an optional `.env`) and passed down.

Every setting is documented in the README. A missing or invalid setting stops start-up with one message that
lists every problem and names the variable to set; secrets are `SecretStr` and never printed.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from incidents.process import Process
from incidents.severity import DEFAULT_SEVERITIES, Severity, parse_severities
from incidents.tickets import Destination


class SettingsError(Exception):
    """Raised with a readable, secret-free list of every settings problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Storage
    data_dir: Path = Path("data")
    database_url: str = ""

    # Logging
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slash_command: str = "/incident"
    announcements_channel: str = "incidents"
    channel_prefix: str = "inc"
    # One Web API call's timeout, and the longest Retry-After a call waits for in-call; longer waits (and every
    # other retry) are left to the outbox, which retries effects for minutes.
    slack_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    slack_retry_max_wait_seconds: float = Field(default=3.0, ge=0, le=60)

    # HTTP server
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    web_workers: int = Field(default=1, ge=1, le=64)
    web_threads: int = Field(default=32, ge=1, le=512)
    web_backlog: int = Field(default=2048, ge=64, le=65535)
    listener_threads: int = Field(default=128, ge=1, le=1024)

    # Outbox delivery (Slack side effects)
    outbox_threads: int = Field(default=4, ge=1, le=64)
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # How long a claimed message stays a worker's (renewed while it is delivered); after a crash, its messages
    # are delivered again this long after.
    outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # The circuit breaker: after this many Slack failures in a row (5xx, timeouts, refused token), deliveries
    # pause for 5 s, doubling on each failed probe up to the maximum.
    circuit_failures: int = Field(default=5, ge=1, le=1000)
    circuit_max_cooldown_seconds: float = Field(default=300.0, ge=1, le=3600)

    # Incident process
    severities: Annotated[tuple[Severity, ...], NoDecode] = DEFAULT_SEVERITIES
    update_interval_minutes: int = Field(default=30, ge=1, le=24 * 60)
    update_interval_by_severity: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    restrict_changes_to_role_holders: bool = False
    timezone: str = "UTC"

    # Timeline capture and the post-mortem draft
    capture_reaction: str = "pushpin"  # the emoji (without colons) that puts a message on the timeline
    postmortem_template: Path | None = None  # a Jinja2 Markdown template replacing the built-in one
    # The post-mortem review meeting: asked for on resolve, to be scheduled within this many working days (Mon-Fri
    # in TIMEZONE, no holidays; 0: never asked), and how long it lasts (the calendar invite's length).
    review_within_working_days: int = Field(default=5, ge=0, le=60)
    review_duration_minutes: int = Field(default=60, ge=15, le=480)

    # The service ownership map: files or folders (our YAML and/or Backstage catalogs), separated by ':';
    # empty: no map. Checked at start-up (an invalid map stops it), re-read when the files change.
    ownership_map_path: Annotated[tuple[Path, ...], NoDecode] = ()

    # Stakeholder-update reminders: how often the scheduler looks for due reminders, and whether `incidents
    # serve` runs it (turn off when a separate `incidents scheduler` process does; both together are safe too).
    reminder_tick_seconds: float = Field(default=15.0, ge=1, le=3600)
    run_scheduler_in_web: bool = True

    # Alerts in (Alertmanager, Grafana, generic JSON): the routing rules file (the sources, the names of the
    # variables holding their secrets, the rules); empty: no alert endpoints. Checked at start-up like the map.
    alert_rules_path: Path | None = None
    # The largest body an alert or change-event endpoint accepts; a bigger one gets 413.
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1024 * 1024)

    # Paging out: the vendors' base URLs (EU regions: https://api.eu.opsgenie.com), one call's timeout, which
    # severities page the owners on declare (e.g. SEV1,SEV2; empty: only on request), and whether acknowledging
    # in Slack acknowledges the pages too.
    pagerduty_events_url: str = "https://events.pagerduty.com"
    opsgenie_api_url: str = "https://api.opsgenie.com"
    pager_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    page_on_declare_severities: Annotated[tuple[str, ...], NoDecode] = ()
    pager_acknowledge_from_slack: bool = False

    # What changed recently: the bearer token of POST /changes (and of `incidents changes record`), the secret of
    # the GitHub webhook, how far back declare looks, how long change events are kept, and where the CLI sends.
    change_events_token: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    changes_window_hours: float = Field(default=6.0, gt=0, le=24 * 30)
    change_retention_days: int = Field(default=90, ge=1, le=3650)
    bot_url: str = "http://localhost:3000"

    # The status page for stakeholders outside Slack (app/statuspage): off unless enabled; served under /status
    # by the bot, or alone on STATUS_PAGE_PORT (bound on STATUS_PAGE_HOST, default HOST) so that it can face the
    # outside while /slack/events does not. STATUS_PAGE_URL is its public address (in the feeds' links).
    status_page_enabled: bool = False
    status_page_port: int | None = Field(default=None, ge=1, le=65535)
    status_page_host: str = ""
    status_page_url: str = ""
    status_page_title: str = Field(default="Service status", min_length=1, max_length=100)
    status_page_days: int = Field(default=90, ge=1, le=3650)
    status_page_max_age_seconds: int = Field(default=30, ge=0, le=3600)

    @field_validator("status_page_port", mode="before")
    @classmethod
    def _status_port_unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("status_page_url")
    @classmethod
    def _status_page_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not the page's public address; write it like https://status.example.com")
        return value

    @model_validator(mode="after")
    def _status_page_has_its_own_port(self) -> Settings:
        if self.status_page_port is not None and self.status_page_port == self.port:
            raise ValueError(
                f"STATUS_PAGE_PORT is {self.status_page_port}, the bot's own PORT: choose another port, or unset "
                "STATUS_PAGE_PORT to serve the status page under /status"
            )
        return self

    # Metrics across incidents and the weekly digest: where it goes (empty: ANNOUNCEMENTS_CHANNEL), on which day
    # (monday..sunday, or off) and at what time in TIMEZONE; a follow-up not done after this many days is overdue.
    digest_channel: str | None = None
    digest_day: str = "monday"
    digest_time: str = "09:00"
    followup_overdue_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("digest_day")
    @classmethod
    def _digest_day(cls, value: str) -> str:
        day = value.strip().lower()
        if day not in ("off", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
            raise ValueError(f"{value!r} is not a day: write monday ... sunday, or off")
        return day

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2):
            raise ValueError(f"{value!r} is not a time of day: write it as HH:MM, like 09:00")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("digest_channel", mode="before")
    @classmethod
    def _digest_channel(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    # Tickets for follow-ups (Jira Cloud, GitHub Issues; see "Tickets for follow-ups" in the README): where a
    # ticket goes when no owning team names a tracker (jira:OPS or github:acme/incidents; empty: nowhere), the
    # trackers' base URLs (Jira Data Center, GitHub Enterprise: https://github.example.com/api/v3) and credentials,
    # Jira's issue type, the labels of every ticket, whether resolving makes a ticket of every follow-up, how often
    # open tickets are read back, one call's timeout, and the secret of the GitHub `issues` webhook.
    ticket_default: str = ""
    jira_base_url: str = ""
    jira_email: str = ""
    jira_api_token: SecretStr | None = None
    jira_issue_type: str = Field(default="Task", min_length=1, max_length=100)
    jira_api_version: Literal["3", "2"] = "3"  # 2: Jira Data Center / Server (plain-text descriptions)
    github_api_url: str = "https://api.github.com"
    github_issues_token: SecretStr | None = None
    ticket_labels: Annotated[tuple[str, ...], NoDecode] = ("incident-followup",)
    tickets_on_resolve: bool = False
    ticket_sync_seconds: float = Field(default=300.0, ge=10, le=24 * 3600)
    tracker_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    github_issues_webhook_secret: SecretStr | None = None

    @field_validator("jira_api_token", "github_issues_token", "github_issues_webhook_secret", mode="before")
    @classmethod
    def _tracker_secret_unset_when_blank(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("ticket_default")
    @classmethod
    def _ticket_default(cls, value: str) -> str:
        value = value.strip()
        if value:
            Destination.parse(value)
        return value

    @field_validator("jira_base_url", "github_api_url")
    @classmethod
    def _tracker_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"{value!r} is not a base URL; write it like https://acme.atlassian.net")
        return value

    @field_validator("ticket_labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> object:
        if isinstance(value, str):
            labels = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
            bad = [label for label in labels if " " in label]
            if bad:
                raise ValueError(f"labels cannot contain spaces ({', '.join(bad)}); separate them with commas")
            return labels
        return value

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "change_events_token",
        "github_webhook_secret",
        mode="before",
    )
    @classmethod
    def _unset_when_blank(cls, value: object) -> object:
        """`SLACK_SIGNING_SECRET=` (empty, or only spaces) is not set; surrounding whitespace (a newline pasted
        with the value) is dropped."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("update_interval_by_severity", mode="before")
    @classmethod
    def _parse_intervals(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        result: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, sep, minutes = item.partition("=")
            if not sep or not minutes.strip().isdigit() or int(minutes) < 1:
                raise ValueError(f"{item!r} is not SEVERITY=MINUTES (e.g. SEV1=15,SEV2=20)")
            result[name.strip().upper()] = int(minutes)
        return result

    @field_validator("page_on_declare_severities", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(dict.fromkeys(part.strip().upper() for part in value.split(",") if part.strip()))
        return value

    @model_validator(mode="after")
    def _intervals_name_known_severities(self) -> Settings:
        names = {s.name for s in self.severities}
        for variable, named in (
            ("UPDATE_INTERVAL_BY_SEVERITY", self.update_interval_by_severity),
            ("PAGE_ON_DECLARE_SEVERITIES", self.page_on_declare_severities),
        ):
            unknown = sorted(set(named) - names)
            if unknown:
                raise ValueError(
                    f"{variable} names unknown severities {', '.join(unknown)}; known: {', '.join(sorted(names))}"
                )
        return self

    @field_validator("pagerduty_events_url", "opsgenie_api_url", "bot_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"{value!r} is not a base URL; write it like https://events.pagerduty.com")
        return value

    def process(self) -> Process:
        return Process(
            severities=self.severities,
            update_interval=timedelta(minutes=self.update_interval_minutes),
            interval_by_severity={k: timedelta(minutes=v) for k, v in self.update_interval_by_severity.items()},
            restrict_changes_to_role_holders=self.restrict_changes_to_role_holders,
            page_on_declare_severities=frozenset(self.page_on_declare_severities),
            pager_acknowledge_from_slack=self.pager_acknowledge_from_slack,
            show_changes_on_declare=self.change_events_token is not None or self.github_webhook_secret is not None,
            tickets_on_resolve=self.tickets_on_resolve,
            review_within_working_days=self.review_within_working_days,
            review_minutes=self.review_duration_minutes,
            timezone=self.timezone,
        )

    @field_validator("severities", mode="before")
    @classmethod
    def _parse_severities(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_severities(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from exc
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,19}", value):
            raise ValueError("must be 1-20 lowercase letters, digits, '-' or '_' (a Slack channel name prefix)")
        return value

    @field_validator("capture_reaction")
    @classmethod
    def _emoji_name(cls, value: str) -> str:
        value = value.strip().strip(":").lower()
        if not re.fullmatch(r"[a-z0-9_+'-]{1,100}(::skin-tone-[2-6])?", value):
            raise ValueError(f"{value!r} is not an emoji name; write it like pushpin or :pushpin:")
        return value

    @field_validator("postmortem_template", "alert_rules_path", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("postmortem_template")
    @classmethod
    def _readable_template(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file; point it at a Jinja2 Markdown template or leave it unset")
        return value

    @field_validator("ownership_map_path", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(Path(part.strip()) for part in value.split(os.pathsep) if part.strip())
        return value

    @field_validator("slash_command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or len(value) > 32 or " " in value:
            raise ValueError("must start with '/', contain no spaces and be at most 32 characters")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'incidents.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


# What each Slack credential looks like and where to find it (its value is never shown, at most its kind).
CREDENTIALS = {
    "SLACK_BOT_TOKEN": ("xoxb-", "the Bot User OAuth Token (OAuth & Permissions page of the Slack app)"),
    "SLACK_APP_TOKEN": ("xapp-", "an app-level token with connections:write (Basic Information page)"),
    "SLACK_SIGNING_SECRET": ("", "the Signing Secret (Basic Information page, App Credentials)"),
}
_TOKEN_KIND = re.compile(r"^(xox[a-z]-|xapp-)")


def credential_problems(settings: Settings, *required: str) -> list[str]:
    """Every problem with the Slack credentials at once, secret-free: each of `required` (names like
    SLACK_BOT_TOKEN) that is not set, and each one set that is not the kind of credential it must be."""
    problems = []
    for name, (prefix, what) in CREDENTIALS.items():
        secret: SecretStr | None = getattr(settings, name.lower())
        if secret is None:
            if name in required:
                problems.append(f"{name}: required to talk to Slack; set it to {what}")
            continue
        value = secret.get_secret_value()
        kind = _TOKEN_KIND.match(value)
        if prefix and not value.startswith(prefix):
            seen = f"this one starts with {kind.group(1)}" if kind else "this one does not"
            problems.append(f"{name}: must start with {prefix} ({what}); {seen}")
        elif not prefix and kind:
            problems.append(f"{name}: this is a Slack token ({kind.group(1)}...), not {what}")
    return problems


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; raise `SettingsError` naming every variable that is wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError([_describe(err) for err in exc.errors()]) from None


def _describe(err: dict) -> str:
    field = str(err["loc"][0]) if err.get("loc") else ""
    message = err.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if not field:
        return message
    return f"{field.upper()}: {message} (set the environment variable {field.upper()})"


def required(settings: Settings, *names: str) -> None:
    """Stop with one message listing every credential problem: the `names` missing, any set one of the wrong
    kind (a user token as the bot token, ...)."""
    problems = credential_problems(settings, *names)
    if problems:
        raise SettingsError(problems)
