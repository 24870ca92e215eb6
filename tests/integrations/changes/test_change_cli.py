"""`incidents changes record` against the real WSGI app served on a local port (what a CI step runs), and
`incidents changes list` reading the database."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from app.cli.main import main
from app.sandbox.server import serve_in_thread
from incidents import changes
from incidents.changes import NewChange
from tests.integrations.changes.changes_helpers import TOKEN, stored
from tests.slack.slack_harness import Harness


@pytest.fixture
def bot_url(bot: Harness) -> Iterator[str]:
    running = serve_in_thread(lambda environ, start_response: bot.wsgi(environ, start_response))
    yield running.url.rstrip("/")
    running.stop()


@pytest.fixture
def cli_env(bot: Harness, bot_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "DATABASE_URL": bot.deps.settings.database_url,
        "DATA_DIR": str(bot.deps.settings.data_dir),
        "CHANGE_EVENTS_TOKEN": TOKEN,
        "BOT_URL": bot_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["changes", *args])


def said(result: Result) -> str:
    """The command's last line (the bot, in this process, logs to the same output)."""
    return result.output.splitlines()[-1]


def test_record_sends_the_change_to_the_bot(bot: Harness, cli_env: dict[str, str]) -> None:
    result = run(
        "record",
        "--service", "checkout-api",
        "--kind", "deploy",
        "--summary", "Checkout v2.4.0",
        "--who", "ci",
        "--version", "v2.4.0",
        "--link", "https://ci.example.com/runs/991",
        "--at", "2026-11-21T13:40:00Z",
        "--id", "ci-991",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert said(result) == "Recorded the deploy of checkout."
    [change] = stored(bot)
    assert (change.service, change.summary, change.who, change.version, change.source) == (
        "checkout",
        "Checkout v2.4.0",
        "ci",
        "v2.4.0",
        "cli",
    )
    assert change.occurred_at == datetime(2026, 11, 21, 13, 40, tzinfo=UTC)
    assert change.external_id == "ci-991"


def test_record_twice_with_the_same_id_stores_it_once(bot: Harness, cli_env: dict[str, str]) -> None:
    args = ("record", "--service", "ledger", "--kind", "config", "--summary", "Pool 40", "--id", "run-7")
    assert run(*args).exit_code == 0
    again = run(*args)
    assert again.exit_code == 0
    assert said(again) == "Already recorded (id run-7); nothing new was stored."
    assert len(stored(bot)) == 1


def test_record_says_why_the_bot_refused_it(bot: Harness, cli_env: dict[str, str]) -> None:
    result = run("record", "--service", "ledger", "--kind", "config", "--summary", "x", "--link", "ftp://x")
    assert result.exit_code == 1
    assert "The bot refused the change (400): the change event is not valid: link: 'ftp://x' is not an http://" in (
        result.output
    )
    assert stored(bot) == []


def test_record_with_a_wrong_token_exits_1_and_names_the_setting(
    bot: Harness, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGE_EVENTS_TOKEN", "not-the-token")
    result = run("record", "--service", "ledger", "--kind", "config", "--summary", "x")
    assert result.exit_code == 1
    assert "The bot refused the token (401)" in result.output
    assert "Check CHANGE_EVENTS_TOKEN." in result.output
    assert stored(bot) == []


def test_record_when_the_bot_is_unreachable_exits_3(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("BOT_URL", f"http://127.0.0.1:{port}")
    result = run("record", "--service", "ledger", "--kind", "config", "--summary", "x")
    assert result.exit_code == 3
    assert f"Cannot reach the bot at http://127.0.0.1:{port}" in result.output


def test_record_usage_errors(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    bad_kind = run("record", "--service", "s", "--kind", "reboot", "--summary", "x")
    assert bad_kind.exit_code == 2
    assert "'reboot' is not one of 'deploy', 'config', 'feature_flag', 'migration', 'infrastructure'" in bad_kind.output
    bad_at = run("record", "--service", "s", "--kind", "deploy", "--summary", "x", "--at", "yesterday")
    assert bad_at.exit_code == 2
    assert "'yesterday' is not an ISO 8601 time" in bad_at.output
    monkeypatch.delenv("CHANGE_EVENTS_TOKEN")
    no_token = run("record", "--service", "s", "--kind", "deploy", "--summary", "x")
    assert no_token.exit_code == 2
    assert "CHANGE_EVENTS_TOKEN is not set" in no_token.output


def test_list_shows_the_recent_changes_newest_first(bot: Harness, cli_env: dict[str, str]) -> None:
    now = datetime.now(UTC)  # the command reads the real clock
    with bot.runtime.sessions.begin() as session:
        for service, summary, ago in [("ledger", "Pool 40", 3), ("checkout", "v2.4.0", 1), ("auth", "old", 30)]:
            changes.record(
                session,
                NewChange(service=service, kind="deploy", summary=summary, occurred_at=now - timedelta(hours=ago)),
                now=now,
            )
    result = run("list", "--since", "6h")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["WHEN", "SERVICE", "KIND", "WHO", "VERSION", "SUMMARY"]
    assert [line.split()[2] for line in lines[1:]] == ["checkout", "ledger"]
    only = run("list", "--service", "ledger", "--since", "2d")
    assert [line.split()[2] for line in only.output.splitlines()[1:]] == ["ledger"]
    none = run("list", "--service", "gateway")
    assert none.output == "No changes recorded for gateway in the last 6h.\n"
    bad = run("list", "--since", "soon")
    assert bad.exit_code == 2
    assert "'soon' is not a duration" in bad.output
