"""The alert routing rules: which alert sources exist and how each is authenticated, how an alert's labels
become our severity, service and title, and what to do with it (declare, triage, ignore).

One YAML file (ALERT_RULES_PATH), checked at start-up like the ownership map: every problem is reported as
`FILE:LINE: MESSAGE`. Secrets never live in the file: a source names the environment variable that holds its
bearer token or HMAC secret, and the value is read once, when the file is loaded (`environ` is passed in).

```yaml
sources:                                  # each is POST /alerts/<name>
  prometheus: {format: alertmanager, bearer_token_env: ALERTMANAGER_TOKEN}
  grafana: {format: alertmanager, hmac_secret_env: GRAFANA_WEBHOOK_SECRET}
  ci: {format: generic, bearer_token_env: CI_ALERT_TOKEN}
triage_channel: alerts-triage             # a channel name or id
group_window: 30m                         # s, m, h or d
severity: {label: severity, map: {critical: SEV1, error: SEV2, warning: SEV3}, default: SEV3}
service_label: service                    # matched against the ownership map's names and aliases
title_annotation: summary
rules:                                    # first match wins; no rule matches: triage
  - {match: {severity: critical}, action: declare}
  - {match: {env: [staging, dev]}, action: ignore}
  - {action: triage}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from incidents.owners.validate import LineDict, Problem, line_of, problems_from_validation, read_documents
from incidents.process import Process

FORMATS = ("alertmanager", "generic")
ACTIONS = ("declare", "triage", "ignore")
GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class RulesError(Exception):
    """The rules file cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# --- the file as written ------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Source(_Strict):
    format: Literal["alertmanager", "generic"]
    bearer_token_env: str | None = None
    hmac_secret_env: str | None = None
    hmac_header: str = GRAFANA_SIGNATURE_HEADER
    # Grafana signs "<timestamp>:<body>" when a timestamp header is configured on the contact point.
    timestamp_header: str | None = None
    max_age_seconds: int = Field(default=300, ge=1)

    @field_validator("bearer_token_env", "hmac_secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (letters, digits, _)")
        return value


class _Severity(_Strict):
    label: str = "severity"
    map: dict[str, str] = Field(default_factory=dict)
    default: str


class _Rule(_Strict):
    match: dict[str, str | list[str]] = Field(default_factory=dict)
    action: Literal["declare", "triage", "ignore"]


class _File(_Strict):
    sources: dict[str, _Source]
    triage_channel: str | None = None
    group_window: str = "30m"
    severity: _Severity
    service_label: str = "service"
    title_annotation: str = "summary"
    rules: list[_Rule] = Field(default_factory=list)

    @field_validator("group_window")
    @classmethod
    def _window(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError(f"{value!r} is not a duration; write a number and s, m, h or d (30m)")
        return value


# --- the rules as used --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    name: str
    format: str
    bearer_token_env: str | None = None
    hmac_secret_env: str | None = None
    hmac_header: str = GRAFANA_SIGNATURE_HEADER
    timestamp_header: str | None = None
    max_age_seconds: int = 300
    # The secret values, read from the environment at load; never shown.
    bearer_token: str | None = field(default=None, repr=False)
    hmac_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Rule:
    match: Mapping[str, tuple[str, ...]]  # every label named must have one of the values
    action: str
    line: int | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name) in values for name, values in self.match.items())


@dataclass(frozen=True)
class AlertRules:
    file: str
    sources: Mapping[str, Source]
    triage_channel: str | None
    group_window: timedelta
    severity_label: str
    severity_map: Mapping[str, str]  # label value (lower case) -> our severity
    severity_default: str
    service_label: str
    title_annotation: str
    rules: tuple[Rule, ...]
    known_severities: tuple[str, ...] = ()

    def action_for(self, labels: Mapping[str, str]) -> str:
        """The first matching rule's action; triage when none matches."""
        for rule in self.rules:
            if rule.matches(labels):
                return rule.action
        return "triage"

    def severity_for(self, value: str | None) -> str:
        """Our severity for a label value: the mapping (case does not matter), or the value itself when it names
        one of ours (SEV2), else the default."""
        text = (value or "").strip()
        if text.lower() in self.severity_map:
            return self.severity_map[text.lower()]
        if text.upper() in self.known_severities:
            return text.upper()
        return self.severity_default


def parse_window(text: str) -> timedelta:
    found = _DURATION.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a duration")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def load_rules(path: Path | str, *, environ: Mapping[str, str], process: Process) -> AlertRules:
    """Read and check the rules file; `RulesError` with every problem, each with its line."""
    path = Path(path)
    name = str(path)
    documents, problems = read_documents(path, display=name)
    if problems:
        raise RulesError(problems)
    documents = [d for d in documents if d is not None]
    if len(documents) != 1 or not isinstance(documents[0], LineDict):
        line = getattr(documents[1], "line", None) if len(documents) > 1 else None
        raise RulesError([Problem(name, line, "the rules file must be one YAML mapping (sources:, severity:, ...)")])
    raw: LineDict = documents[0]
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(problems_from_validation(exc, file=name, raw=raw, what="alert rules")) from None
    problems = _check(parsed, raw, name, environ=environ, process=process)
    if problems:
        raise RulesError(problems)
    sources = {
        key: Source(
            name=key,
            format=src.format,
            bearer_token_env=src.bearer_token_env,
            hmac_secret_env=src.hmac_secret_env,
            hmac_header=src.hmac_header,
            timestamp_header=src.timestamp_header,
            max_age_seconds=src.max_age_seconds,
            bearer_token=_secret(environ, src.bearer_token_env),
            hmac_secret=_secret(environ, src.hmac_secret_env),
        )
        for key, src in parsed.sources.items()
    }
    rules_raw = raw.get("rules")
    rules = tuple(
        Rule(
            match={k: tuple([v] if isinstance(v, str) else v) for k, v in rule.match.items()},
            action=rule.action,
            line=line_of(rules_raw, (index,)) if isinstance(rules_raw, list) else None,
        )
        for index, rule in enumerate(parsed.rules)
    )
    return AlertRules(
        file=name,
        sources=sources,
        triage_channel=parsed.triage_channel or None,
        group_window=parse_window(parsed.group_window),
        severity_label=parsed.severity.label,
        severity_map={k.strip().lower(): process.severity(v).name for k, v in parsed.severity.map.items()},
        severity_default=process.severity(parsed.severity.default).name,
        service_label=parsed.service_label,
        title_annotation=parsed.title_annotation,
        rules=rules,
        known_severities=tuple(process.severity_names),
    )


def _check(parsed: _File, raw: LineDict, file: str, *, environ: Mapping[str, str], process: Process) -> list[Problem]:
    """What the model alone cannot see: source names, secrets present, severities known, a triage channel."""
    problems: list[Problem] = []

    def at(*loc: Any) -> int | None:
        return line_of(raw, loc)

    if not parsed.sources:
        problems.append(Problem(file, at("sources"), "sources: name at least one alert source"))
    for key, src in parsed.sources.items():
        if not _NAME.match(key):
            problems.append(
                Problem(file, at("sources", key), f"source {key!r}: use lower-case letters, digits, - and _")
            )
        if bool(src.bearer_token_env) == bool(src.hmac_secret_env):
            problems.append(
                Problem(
                    file,
                    at("sources", key),
                    f"source {key!r}: name exactly one of bearer_token_env and hmac_secret_env",
                )
            )
        for what in ("bearer_token_env", "hmac_secret_env"):
            variable = getattr(src, what)
            if variable and not (environ.get(variable) or "").strip():
                problems.append(
                    Problem(
                        file,
                        at("sources", key, what),
                        f"source {key!r}: the environment variable {variable} is not set (it holds the secret)",
                    )
                )
    known = ", ".join(process.severity_names)
    for label, ours in parsed.severity.map.items():
        if ours.strip().upper() not in process.severity_names:
            problems.append(
                Problem(file, at("severity", "map", label), f"severity map: unknown severity {ours!r}; use {known}")
            )
    if parsed.severity.default.strip().upper() not in process.severity_names:
        problems.append(
            Problem(
                file,
                at("severity", "default"),
                f"severity default: unknown severity {parsed.severity.default!r}; use {known}",
            )
        )
    triages = not parsed.rules or any(rule.action == "triage" for rule in parsed.rules)
    triages = triages or all(rule.match for rule in parsed.rules)  # no catch-all rule: the rest is triaged
    if triages and not parsed.triage_channel:
        problems.append(
            Problem(file, raw.line, "triage_channel: some alerts are triaged; name the channel they are posted in")
        )
    for index, rule in enumerate(parsed.rules):
        for label, values in rule.match.items():
            if isinstance(values, list) and not values:
                problems.append(
                    Problem(file, at("rules", index, "match", label), f"rule {index + 1}: {label}: list no values")
                )
    return problems


def _secret(environ: Mapping[str, str], name: str | None) -> str | None:
    """A secret's value without the newline `echo` leaves in a Kubernetes secret (as the Slack secrets and the
    pager keys are read)."""
    if not name:
        return None
    value = (environ.get(name) or "").strip()
    return value or None
