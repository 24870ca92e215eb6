"""The rules file is checked at start-up: every problem with its file and line, secrets' variables present,
severities known to the process, actions validated. A bad file stops `incidents serve`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.bootstrap import load_alert_rules
from app.cli.serve import run_server
from app.runtime import Runtime
from app.settings import Settings, SettingsError, load_settings
from incidents.alert_rules import RulesError, load_rules
from incidents.process import Process
from tests.integrations.alerts.alert_helpers import RULES, SECRETS
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET

GOOD_SOURCE = "  ci: {format: generic, bearer_token_env: CI_TOKEN}\n"
ENV = {"CI_TOKEN": "x"}


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "rules.yml"
    path.write_text(text)
    with pytest.raises(RulesError) as caught:
        load_rules(path, environ=ENV if env is None else env, process=Process())
    return [str(p).replace(str(path), "rules.yml") for p in caught.value.problems]


def test_the_rules_of_this_folder_load() -> None:
    rules = load_rules(RULES, environ=SECRETS, process=Process())
    assert sorted(rules.sources) == ["ci", "grafana", "prometheus"]
    assert rules.group_window == timedelta(minutes=30)
    assert rules.action_for({"severity": "critical"}) == "declare"
    assert rules.action_for({"severity": "critical", "env": "dev"}) == "ignore"
    assert rules.action_for({"severity": "info"}) == "triage"
    assert (rules.severity_for("CRITICAL"), rules.severity_for("sev2"), rules.severity_for("info")) == (
        "SEV1",
        "SEV2",
        "SEV3",
    )


def test_secrets_are_never_shown() -> None:
    rules = load_rules(RULES, environ=SECRETS, process=Process())
    assert SECRETS["TEST_ALERTMANAGER_TOKEN"] not in repr(rules)


def test_unknown_severities_actions_and_fields_are_reported_with_their_lines(tmp_path: Path) -> None:
    text = (
        "sources:\n"
        + GOOD_SOURCE
        + "triage_channel: alerts\n"
        + "severity:\n"
        + "  map: {critical: SEV9}\n"
        + "  default: SEV3\n"
        + "rules:\n"
        + "  - {match: {severity: critical}, action: page}\n"
        + "  - {action: triage, when: always}\n"
    )
    assert problems(tmp_path, text) == [
        "rules.yml:8: alert rules: rules[0].action: Input should be 'declare', 'triage' or 'ignore'",
        "rules.yml:9: alert rules: unknown field 'rules[1].when'",
    ]
    text = text.replace("action: page", "action: declare").replace(", when: always", "")
    assert problems(tmp_path, text) == [
        "rules.yml:5: severity map: unknown severity 'SEV9'; use SEV1, SEV2, SEV3, SEV4"
    ]


def test_a_missing_secret_variable_is_named(tmp_path: Path) -> None:
    text = (
        "sources:\n"
        "  prometheus:\n"
        "    format: alertmanager\n"
        "    bearer_token_env: AM_TOKEN\n"
        "  grafana: {format: alertmanager, hmac_secret_env: GF_SECRET, bearer_token_env: AM_TOKEN}\n"
        "triage_channel: alerts\n"
        "severity: {default: SEV3}\n"
    )
    assert problems(tmp_path, text, env={"GF_SECRET": "s"}) == [
        "rules.yml:4: source 'prometheus': the environment variable AM_TOKEN is not set (it holds the secret)",
        "rules.yml:5: source 'grafana': name exactly one of bearer_token_env and hmac_secret_env",
        "rules.yml:5: source 'grafana': the environment variable AM_TOKEN is not set (it holds the secret)",
    ]


def test_yaml_syntax_durations_and_a_missing_triage_channel(tmp_path: Path) -> None:
    assert problems(tmp_path, "sources: {ci: [\n")[0].startswith("rules.yml:2: YAML syntax error")
    text = "sources:\n" + GOOD_SOURCE + "group_window: half an hour\nseverity: {default: SEV3}\n"
    assert problems(tmp_path, text) == [
        "rules.yml:3: alert rules: group_window: 'half an hour' is not a duration; "
        "write a number and s, m, h or d (30m)"
    ]
    text = "sources:\n" + GOOD_SOURCE + "severity: {default: SEV3}\nrules:\n  - {action: declare}\n"
    load_rules_ok = tmp_path / "ok.yml"
    load_rules_ok.write_text(text)
    assert load_rules(load_rules_ok, environ=ENV, process=Process()).triage_channel is None  # nothing is triaged
    text = "sources:\n" + GOOD_SOURCE + "severity: {default: SEV3}\n"
    assert problems(tmp_path, text) == [
        "rules.yml:1: triage_channel: some alerts are triaged; name the channel they are posted in"
    ]


def test_a_bad_rules_file_stops_start_up_with_file_and_line(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("sources:\n" + GOOD_SOURCE + "severity: {default: SEV7}\nrules: [{action: ignore}]\n")
    with pytest.raises(SettingsError) as caught:
        load_alert_rules(settings.model_copy(update={"alert_rules_path": path}), Process(), environ=ENV)
    assert (
        caught.value.problems[1] == f"{path}:3: severity default: unknown severity 'SEV7'; use SEV1, SEV2, SEV3, SEV4"
    )
    assert "ALERT_RULES_PATH" in caught.value.problems[0]
    assert load_alert_rules(settings, Process()) is None  # unset: no alert endpoints


def test_incidents_serve_stops_before_serving_when_the_rules_are_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("sources:\n  prom: {format: alertmanager, bearer_token_env: UNSET_ALERT_TOKEN_FOR_TEST}\n")
    monkeypatch.delenv("UNSET_ALERT_TOKEN_FOR_TEST", raising=False)
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        alert_rules_path=str(path),
    )
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))  # raises before gunicorn starts
    assert f"{path}:1: alert rules: missing required field 'severity'" in caught.value.problems
