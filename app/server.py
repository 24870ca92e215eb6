"""Serving the bot. Filled in by the Slack layer; for now it checks the settings it will need."""

from __future__ import annotations

from app.runtime import Runtime
from app.settings import SettingsError


def run_server(runtime: Runtime) -> None:
    settings = runtime.settings
    missing = [
        name
        for name, value in (("SLACK_BOT_TOKEN", settings.slack_bot_token),
                            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret))
        if value is None
    ]
    if missing:
        raise SettingsError([f"{name}: required to talk to Slack (set the environment variable {name})"
                             for name in missing])
    raise SettingsError(["the Slack server is not built yet"])
