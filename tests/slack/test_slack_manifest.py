"""manifest.yml matches the code: the command, the shortcut, the events listened to, the request URL, and
exactly the OAuth scopes the Web API calls in app/ need."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from slack_bolt import BoltRequest

from app.http.wsgi import SLACK_PATH
from app.settings import Settings
from app.slack.ids import Callback
from tests.slack.slack_harness import Harness

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
Procfile = (ROOT / "Procfile").read_text()

# Every Web API method the bot calls, and the bot scopes it needs (public and private channels).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(),
    "conversations_create": {"channels:manage", "groups:write"},
    "conversations_invite": {"channels:manage", "groups:write"},
    "conversations_setTopic": {"channels:manage", "groups:write"},
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_join": {"channels:join"},
    "conversations_open": {"im:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "pins_add": {"pins:write"},
    "views_open": set(),
    "views_publish": set(),  # the Home tab
    "users_info": {"users:read"},
    "users_lookupByEmail": {"users:read.email"},
    "usergroups_list": {"usergroups:read"},
    "bookmarks_add": {"bookmarks:write"},
    "bookmarks_list": {"bookmarks:read"},
    "files_upload_v2": {"files:write"},
}
EVENT_SCOPES: dict[str, str | None] = {
    "app_home_opened": None,  # needs no scope
    "pin_added": "pins:read",
    "pin_removed": "pins:read",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
}


def methods_called() -> set[str]:
    called = set()
    for path in (ROOT / "app").rglob("*.py"):
        if "sandbox" not in path.parts:
            called |= set(re.findall(r"client\.([a-zA-Z_0-9]+)\(", path.read_text()))
    return called


def test_every_web_api_call_has_its_scope_and_no_scope_is_extra() -> None:
    called = methods_called()
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add the bot scopes of {sorted(unknown)} to METHOD_SCOPES and manifest.yml"
    needed = {"commands"} | {s for m in called for s in METHOD_SCOPES[m]}
    needed |= {EVENT_SCOPES[e] for e in MANIFEST["settings"]["event_subscriptions"]["bot_events"]} - {None}
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_the_command_and_shortcut_are_the_ones_the_app_listens_to() -> None:
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == Settings.model_fields["slash_command"].default
    assert command["should_escape"] is True
    [shortcut] = MANIFEST["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", Callback.DECLARE_FROM_MESSAGE)
    assert len(MANIFEST["display_information"]["name"]) <= 35


def test_every_request_url_is_the_slack_events_endpoint() -> None:
    urls = [
        MANIFEST["features"]["slash_commands"][0]["url"],
        MANIFEST["settings"]["event_subscriptions"]["request_url"],
        MANIFEST["settings"]["interactivity"]["request_url"],
    ]
    assert all(url == f"https://YOUR-HOST{SLACK_PATH}" for url in urls)
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_the_app_listens_to_every_subscribed_event(harness: Harness) -> None:
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        body = {"type": "event_callback", "team_id": "T1", "event": {"type": event, "user": "U1"}}
        request = BoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})
        listeners = harness.app._listeners  # noqa: SLF001 - Bolt lists its listeners nowhere public
        assert any(listener.matches(req=request, resp=None) for listener in listeners), event


def test_the_procfile_serves_migrates_on_release_and_runs_the_reminder_clock() -> None:
    """`clock:` runs the scheduler beside the web processes (which run it too): each reminder is still sent once."""
    assert Procfile.splitlines() == [
        "web: incidents serve",
        "release: incidents db upgrade",
        "clock: incidents scheduler",
    ]
