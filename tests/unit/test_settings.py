"""Settings: read once from the environment; every problem reported at once, secrets never shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "SEVERITIES", "TIMEZONE", "UPDATE_INTERVAL_BY_SEVERITY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_use_sqlite_in_the_data_directory():
    settings = load_settings()
    assert settings.effective_database_url == "sqlite:///data/incidents.db"
    assert settings.is_sqlite
    assert [s.name for s in settings.severities] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert settings.process().update_interval == timedelta(minutes=30)


def test_every_problem_is_listed_with_the_variable_to_set(monkeypatch):
    monkeypatch.setenv("PORT", "99999")
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert "PORT" in message and "TIMEZONE" in message and "LOG_FORMAT" in message
    assert "set the environment variable TIMEZONE" in message
    assert len(err.value.problems) == 3


def test_secrets_never_appear_in_errors_or_reprs(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "xoxb-very-secret" not in str(err.value)
    monkeypatch.setenv("PORT", "3000")
    settings = load_settings()
    assert "xoxb-very-secret" not in repr(settings)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"


def test_custom_severities_and_per_severity_intervals(monkeypatch):
    monkeypatch.setenv("SEVERITIES", "P1=Everything is down;P2=Something is down")
    monkeypatch.setenv("UPDATE_INTERVAL_BY_SEVERITY", "p1=10")
    process = load_settings().process()
    assert process.severity_names == ["P1", "P2"]
    assert process.interval_for("P1") == timedelta(minutes=10)
    assert process.interval_for("P2") == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SEVERITIES", "SEV1", "is not NAME=meaning"),
        ("SEVERITIES", "A=x;A=y", "listed twice"),
        ("UPDATE_INTERVAL_BY_SEVERITY", "SEV1=soon", "SEVERITY=MINUTES"),
        ("UPDATE_INTERVAL_BY_SEVERITY", "SEV9=5", "unknown severities SEV9"),
        ("SLASH_COMMAND", "incident", "must start with '/'"),
    ],
)
def test_malformed_values_say_what_to_write(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()
