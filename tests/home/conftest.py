"""The Slack layer's fixtures (tests/slack), and the Home as Slack shows it: opening it with a signed
`app_home_opened` event, reading what the Slack double holds as the person's Home tab."""

from __future__ import annotations

from typing import Any

from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: F401 - shared fixtures
from tests.slack.slack_harness import Harness, blocks_text


def open_home(h: Harness, user: str, *, tab: str = "home", settle: bool = True, **extra: Any) -> Any:
    """The person opens the app's Home tab (Slack sends `app_home_opened`), then the bot delivers."""
    result = h.slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, **extra})
    assert result.status == 200, result.text
    if settle:
        h.settle()
    return result


def home_blocks(h: Harness, user: str) -> list[dict[str, Any]]:
    view = h.workspace.modals.home(user)
    assert view is not None, f"no Home was published for {user}"
    assert view.body["type"] == "home"
    return view.body["blocks"]


def home_text(h: Harness, user: str) -> str:
    return blocks_text(home_blocks(h, user))


def section(h: Harness, user: str, block_id: str) -> dict[str, Any] | None:
    """The block of the person's Home with this block id (e.g. `home_open:INC-2`), or None."""
    return next((b for b in home_blocks(h, user) if b.get("block_id") == block_id), None)


def publishes_to(h: Harness, user: str) -> int:
    return sum(1 for c in h.calls("views.publish") if c.args.get("user_id") == user and c.ok)
