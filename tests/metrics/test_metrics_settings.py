"""The digest's and the metrics' settings: defaults, and malformed values that say what to write."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings


def test_defaults_send_the_digest_on_monday_morning_to_the_announcements_channel():
    settings = load_settings(_env_file=None)
    assert (settings.digest_day, settings.digest_time, settings.digest_channel) == ("monday", "09:00", None)
    assert settings.followup_overdue_days == 30


def test_values_are_normalized(monkeypatch):
    monkeypatch.setenv("DIGEST_DAY", " Friday ")
    monkeypatch.setenv("DIGEST_TIME", "7:30")
    monkeypatch.setenv("DIGEST_CHANNEL", "  ")
    settings = load_settings(_env_file=None)
    assert (settings.digest_day, settings.digest_time, settings.digest_channel) == ("friday", "07:30", None)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DIGEST_DAY", "someday", "write monday ... sunday, or off"),
        ("DIGEST_TIME", "25:00", "write it as HH:MM"),
        ("DIGEST_TIME", "9h", "write it as HH:MM"),
        ("FOLLOWUP_OVERDUE_DAYS", "0", "FOLLOWUP_OVERDUE_DAYS"),
    ],
)
def test_malformed_values_say_what_to_write(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings(_env_file=None)
