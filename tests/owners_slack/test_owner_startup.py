"""OWNERSHIP_MAP_PATH: read once at start-up; an invalid map stops it with the same `FILE:LINE: MESSAGE` problems
as `incidents owners check`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.bootstrap import build_bot
from app.cli.main import main
from app.cli.serve import run_server
from app.runtime import Runtime
from app.settings import SettingsError, load_settings
from incidents.owners import OwnershipMapError, OwnershipStore, load_map
from tests.owners_slack.owners_helpers import MAP
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET

BROKEN = """\
teams:
  - name: payments
    members: [not-an-email]
services:
  - name: checkout
    team: nobody
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "owners.yml"
    path.write_text(BROKEN)
    return path


def expected_problems(path: Path) -> list[str]:
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    return [str(problem) for problem in caught.value.problems]


def test_the_setting_takes_several_paths_separated_by_colons(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path, ownership_map_path=f"{MAP}: {tmp_path}/catalog :")
    assert settings.ownership_map_path == (MAP, tmp_path / "catalog")
    assert load_settings(_env_file=None, data_dir=tmp_path, ownership_map_path="").ownership_map_path == ()


def test_an_invalid_map_stops_start_up_with_every_problem_and_its_line(broken: Path, tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        ownership_map_path=str(broken),
    )
    problems = expected_problems(broken)
    assert len(problems) == 2 and all(p.startswith(f"{broken}:") for p in problems)
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert caught.value.problems[0].startswith("OWNERSHIP_MAP_PATH: the ownership map has 2 problems")
    assert caught.value.problems[1:] == problems


def test_incidents_serve_refuses_to_start_on_an_invalid_map(
    broken: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "OWNERSHIP_MAP_PATH": str(broken),
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["serve"], catch_exceptions=False)
    assert result.exit_code == 1
    for problem in expected_problems(broken):
        assert problem in result.output


def test_a_valid_map_is_loaded_once_when_the_bot_is_built(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        ownership_map_path=str(MAP),
    )
    runtime = Runtime(settings)
    try:
        bot = build_bot(runtime)
        assert isinstance(bot.deps.owners, OwnershipStore)
        assert [s.name for s in bot.deps.owners.current().services] == ["checkout", "ledger", "auth", "gateway"]
    finally:
        runtime.close()


def test_without_the_setting_there_is_no_map(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET
    )
    runtime = Runtime(settings)
    try:
        assert build_bot(runtime).deps.owners is None
    finally:
        runtime.close()
