"""`incidents owners check` and `incidents owners show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli.owners import owners


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"OWNERSHIP_MAP_PATH": None})


def test_check_prints_a_summary_and_exits_0_for_a_valid_map(runner: CliRunner, example_path: Path) -> None:
    result = runner.invoke(owners, ["check", str(example_path)])
    assert result.exit_code == 0
    assert result.stdout == "OK: 3 teams, 6 services\n"


def test_check_prints_every_problem_and_exits_1(runner: CliRunner, write_yaml) -> None:
    path = write_yaml("""\
teams:
  - {name: payments, members: [bob]}
services:
  - {name: checkout, team: paymnts}
""")
    result = runner.invoke(owners, ["check", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:2: team 'payments': members[0]: bad Slack user id 'bob': "
        "expected an id like U024BE7LH or an email address",
        f"{path}:4: service 'checkout' references unknown team 'paymnts' (did you mean 'payments'?)",
    ]
    assert result.stderr == "2 problems in the ownership map.\n"


def test_check_reads_the_paths_from_the_environment_when_none_is_given(
    runner: CliRunner, data: Path, example_path: Path
) -> None:
    env = {"OWNERSHIP_MAP_PATH": f"{data / 'catalog'}:{data / 'platform.yml'}"}
    result = runner.invoke(owners, ["check"], env=env)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "OK: 3 teams, 5 services"
    assert sum(": warning: " in line for line in result.stdout.splitlines()) == 2
    # an argument wins over the setting
    assert runner.invoke(owners, ["check", str(example_path)], env=env).stdout == "OK: 3 teams, 6 services\n"


def test_check_without_any_path_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(owners, ["check"])
    assert result.exit_code == 2
    assert "No ownership map given: pass PATH... or set OWNERSHIP_MAP_PATH." in result.stderr


def test_show_prints_owners_first_contact_runbook_and_dependencies(runner: CliRunner, example_path: Path) -> None:
    result = runner.invoke(owners, ["show", "Checkout API", str(example_path)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "checkout (aliases: checkout-api, co), tier 1",
        "team: payments (@payments-oncall, #payments)",
        "call first: U024BE7LH",
        "  1. primary: U024BE7LH",
        "  2. secondary: ana@example.com",
        "  3. manager: marc@example.com",
        "contact: Page 'Payments' in PagerDuty; #payments during office hours",
        "runbook: https://runbooks.example.com/checkout",
        "dashboard: Checkout overview <https://grafana.example.com/d/checkout>",
        "dashboard: https://grafana.example.com/d/checkout-errors",
        "depends on: ledger (team payments)",
        "depends on: auth (team identity)",
        "depends on: gateway (team platform)",
    ]


def test_show_falls_back_to_a_team(runner: CliRunner, example_path: Path) -> None:
    result = runner.invoke(owners, ["show", "@platform", str(example_path)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "team: platform (@platform, #platform)",
        "call first: U0PLAT0001, U0PLAT0002",
        "services: gateway, message-queue",
    ]


def test_show_unknown_service_suggests_names_and_exits_1(runner: CliRunner, example_path: Path) -> None:
    result = runner.invoke(owners, ["show", "chekout", str(example_path)])
    assert result.exit_code == 1
    assert result.stderr == "No service or team named 'chekout'. Did you mean: checkout?\n"


def test_show_on_an_invalid_map_prints_the_problems(runner: CliRunner, write_yaml) -> None:
    path = write_yaml("services:\n  - {name: checkout, team: payments}\n")
    result = runner.invoke(owners, ["show", "checkout", str(path)])
    assert result.exit_code == 1
    assert result.stdout == f"{path}:2: service 'checkout' references unknown team 'payments'\n"


def test_check_warns_of_pager_keys_not_set_and_fails_on_them_with_require_keys(runner: CliRunner, write_yaml) -> None:
    path = write_yaml("""\
teams:
  - {name: payments, members: [U0PAYPRIM], pager: {service: pagerduty, key_env: TEST_PAYMENTS_PD_KEY}}
  - {name: search, members: [U0SEARCH1], pager: {service: opsgenie, key_env: TEST_SEARCH_OG_KEY}}
services:
  - {name: checkout, team: payments}
  - {name: search-api, team: search}
""")
    env = {"TEST_PAYMENTS_PD_KEY": "routing-key", "TEST_SEARCH_OG_KEY": None}
    result = runner.invoke(owners, ["check", str(path)], env=env)
    assert result.exit_code == 0
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert "team 'search'" in warning and "TEST_SEARCH_OG_KEY, which is not set" in warning
    assert result.stdout.endswith("OK: 2 teams, 2 services\n")

    strict = runner.invoke(owners, ["check", "--require-keys", str(path)], env=env)
    assert strict.exit_code == 1
    assert "error: team 'search'" in strict.stdout and "1 pager key not set." in strict.stderr

    env["TEST_SEARCH_OG_KEY"] = "api-key"
    assert runner.invoke(owners, ["check", "--require-keys", str(path)], env=env).stdout == "OK: 2 teams, 2 services\n"
