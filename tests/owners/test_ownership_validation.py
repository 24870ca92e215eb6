"""Every problem in a map is reported with its file and line, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidents.owners import OwnershipMapError, Problem, load_map

TEAM = """\
teams:
  - name: payments
    members: [U024BE7LH]
"""


def problems_of(path: Path | list[Path]) -> list[str]:
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    return [str(problem) for problem in caught.value.problems]


def test_problem_reads_as_file_line_message() -> None:
    assert str(Problem("ownership.yml", 14, "boom")) == "ownership.yml:14: boom"
    assert str(Problem("ownership.yml", None, "boom")) == "ownership.yml: boom"


def test_unknown_team_is_reported_with_its_line(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: paymnts
"""
    )
    assert problems_of(path) == [
        f"{path}:6: service 'checkout' references unknown team 'paymnts' (did you mean 'payments'?)"
    ]


def test_duplicate_service_name_is_reported_case_insensitively(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
  - name: Check_Out
    team: payments
"""
    )
    assert problems_of(path) == [f"{path}:7: duplicate service 'Check_Out' (first defined at {path}:5)"]


def test_alias_equal_to_another_services_name_is_reported_on_the_alias(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
    aliases: [co, LEDGER]
  - name: ledger
    team: payments
"""
    )
    assert problems_of(path) == [
        f"{path}:7: service 'checkout': alias 'LEDGER' clashes with the name of service 'ledger' ({path}:8)"
    ]


def test_alias_shared_by_two_services_is_reported(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
    aliases: [pay]
  - name: ledger
    team: payments
    aliases:
      - books
      - Pay
"""
    )
    assert problems_of(path) == [
        f"{path}:12: service 'ledger': alias 'Pay' clashes with the alias 'pay' of service 'checkout' ({path}:5)"
    ]


def test_alias_repeating_its_own_service_name_is_harmless(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
    aliases: [Checkout, co, co]
"""
    )
    assert load_map(path).find_service("co") is not None


def test_bad_email_and_bad_slack_ids_are_reported_with_their_lines(write_yaml) -> None:
    path = write_yaml("""\
teams:
  - name: payments
    slack_usergroup: payments oncall
    channel: "#Payments"
    members:
      - U024BE7LH
      - ana@
      - ana
    escalation:
      - role: primary
        user: u024be7lh
""")
    assert problems_of(path) == [
        f"{path}:3: team 'payments': slack_usergroup: bad Slack usergroup 'payments oncall': "
        "expected a handle like @payments-oncall or an id like S0123ABCD",
        f"{path}:4: team 'payments': channel: bad Slack channel '#Payments': "
        "expected a name like #payments or an id like C0123ABCD",
        f"{path}:7: team 'payments': members[1]: bad email 'ana@': There must be something after the @-sign.",
        f"{path}:8: team 'payments': members[2]: bad Slack user id 'ana': "
        "expected an id like U024BE7LH or an email address",
        f"{path}:11: team 'payments': escalation[0].user: bad Slack user id 'u024be7lh': "
        "expected an id like U024BE7LH or an email address",
    ]


def test_missing_required_fields_are_reported_at_the_entry(write_yaml) -> None:
    path = write_yaml("""\
teams:
  - members: [U024BE7LH]
  - name: payments
    escalation:
      - user: U024BE7LH
services:
  - name: checkout
""")
    assert problems_of(path) == [
        f"{path}:2: team: missing required field 'name'",
        f"{path}:5: team 'payments': missing required field 'escalation[0].role'",
        f"{path}:7: service 'checkout': missing required field 'team'",
    ]


def test_wrong_types_and_unknown_fields_are_reported(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
    contat: "typo of contact"
services:
  - name: checkout
    team: payments
    aliases: co
    tier: critical
    runbook: wiki/checkout
    dashboards:
      - title: no url
  - just-a-name
"""
    )
    assert problems_of(path) == [
        f"{path}:4: team 'payments': unknown field 'contat'",
        f"{path}:8: service 'checkout': aliases: Input should be a list",
        f"{path}:9: service 'checkout': tier: expected 1, 2, 3 or 4 (1 = most critical), got 'critical'",
        f"{path}:10: service 'checkout': runbook: bad URL 'wiki/checkout': expected http:// or https://",
        f"{path}:12: service 'checkout': missing required field 'dashboards[0].url'",
        f"{path}:13: each of 'services' should be a mapping with a 'name'",
    ]


def test_unknown_top_level_key_and_non_list_section_are_reported(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
servics: []
services:
  name: checkout
"""
    )
    assert problems_of(path) == [
        f"{path}:4: unknown top-level key 'servics' (expected 'teams' and 'services')",
        f"{path}:5: 'services' should be a list",
    ]


def test_unknown_dependency_is_reported_with_its_line(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
    depends_on:
      - ledger
      - ledgr
  - name: ledger
    team: payments
"""
    )
    assert problems_of(path) == [
        f"{path}:9: service 'checkout' depends on unknown service 'ledgr' (did you mean 'ledger'?)"
    ]


def test_dependency_cycle_and_dependency_by_alias_are_fine(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - {name: a, team: payments, depends_on: [b-alias]}
  - {name: b, team: payments, depends_on: [a], aliases: [b-alias]}
"""
    )
    ownership = load_map(path)
    assert [d.service.name for d in ownership.owners_of(ownership.services[0]).dependencies] == ["b"]


def test_duplicate_team_is_reported(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
  - name: Payments
"""
    )
    assert problems_of(path) == [f"{path}:4: duplicate team 'Payments' (first defined at {path}:2)"]


def test_yaml_syntax_error_is_reported_with_its_line(write_yaml) -> None:
    path = write_yaml("""\
teams:
  - name: payments
    members: [U024BE7LH
services: []
""")
    assert problems_of(path) == [
        f"{path}:4: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that starts on line 3)"
    ]


def test_syntax_error_in_one_file_does_not_report_references_to_it_as_unknown(write_yaml) -> None:
    teams = write_yaml("teams:\n  - name: payments\n    members: [\n", name="teams.yml")
    services = write_yaml("services:\n  - {name: checkout, team: payments}\n", name="services.yml")
    problems = problems_of([teams, services])
    assert len(problems) == 1
    assert problems[0].startswith(f"{teams}:4: YAML syntax error")


def test_duplicate_yaml_key_is_reported(write_yaml) -> None:
    path = write_yaml(
        TEAM
        + """\
services:
  - name: checkout
    team: payments
    team: ledger
"""
    )
    assert problems_of(path) == [f"{path}:7: duplicate key 'team' (first on line 6)"]


def test_every_problem_is_reported_at_once_in_file_and_line_order(write_yaml) -> None:
    first = write_yaml(
        """\
teams:
  - name: payments
    members: [nobody]
services:
  - {name: checkout, team: paymnts, runbook: nope}
""",
        name="a.yml",
    )
    second = write_yaml("services:\n  - {name: checkout, team: payments}\n", name="b.yml")
    problems = problems_of([first, second])
    assert [problem.split(": ")[0] for problem in problems] == [
        f"{first}:3",
        f"{first}:5",
        f"{first}:5",
        f"{second}:2",
    ]


def test_missing_file_and_unrecognised_document_are_reported(write_yaml, tmp_path: Path) -> None:
    """An empty file is not a problem by itself (a map may be split over files)."""
    empty = write_yaml("", name="empty.yml")
    other = write_yaml("name: not a map\n", name="other.yml")
    missing = tmp_path / "missing.yml"
    problems = problems_of([missing, empty, other])
    assert problems == [
        f"{missing}: cannot read file: No such file or directory",
        f"{other}:1: neither an ownership map ('teams:', 'services:') nor a Backstage entity "
        "(apiVersion: backstage.io/...)",
    ]


def test_a_map_with_no_team_or_service_is_an_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: no teams or services found"]
