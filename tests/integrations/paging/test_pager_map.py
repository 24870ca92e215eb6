"""The ownership map names a team's pager: its vendor and the environment variable holding its key, checked with
file:line like the rest of the map; a variable it names that is not set stops start-up, naming it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.integrations.pager import check_keys, missing_keys
from app.settings import SettingsError
from incidents.owners import OwnershipMapError, OwnershipStore, load_map


def write(tmp_path: Path, text: str, name: str = "ownership.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    return [str(problem) for problem in caught.value.problems]


def test_a_pager_is_read_from_the_map(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        teams:
          - name: payments
            pager: {service: pagerduty, key_env: PAGERDUTY_PAYMENTS_KEY}
        services:
          - name: checkout
            team: payments
        """,
    )
    team = load_map(path).find_team("payments")
    assert team is not None and team.pager is not None
    assert (team.pager.service, team.pager.key_env) == ("pagerduty", "PAGERDUTY_PAYMENTS_KEY")


def test_bad_pager_fields_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        teams:
          - name: payments
            pager:
              service: victorops
              key_env: PAGERDUTY_PAYMENTS_KEY
          - name: search
            pager:
              service: opsgenie
              key_env: "0f0e-a-real-key-pasted-here"
          - name: books
            pager: {service: opsgenie}
        """,
    )
    problems = problems_of(path)
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{path}:4: ") and "pagerduty" in problems[0] and "opsgenie" in problems[0]
    assert problems[1].startswith(f"{path}:9: ") and "bad environment variable name" in problems[1]
    assert "never the key itself" in problems[1]
    assert problems[2].startswith(f"{path}:") and "key_env" in problems[2]


def test_a_backstage_group_names_its_pager_in_an_annotation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata:
          name: payments
          annotations:
            incident-bot/pager: opsgenie:OPSGENIE_PAYMENTS_KEY
        spec:
          type: team
          children: []
        """,
        name="catalog-info.yaml",
    )
    team = load_map(path).find_team("payments")
    assert team is not None and team.pager is not None
    assert (team.pager.service, team.pager.key_env) == ("opsgenie", "OPSGENIE_PAYMENTS_KEY")


def test_a_missing_key_variable_stops_start_up_naming_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        teams:
          - name: payments
            pager: {service: pagerduty, key_env: PAGERDUTY_PAYMENTS_KEY}
          - name: search
            pager: {service: opsgenie, key_env: OPSGENIE_SEARCH_KEY}
          - name: books
        """,
    )
    store = OwnershipStore(path)
    assert missing_keys(store.current(), {"OPSGENIE_SEARCH_KEY": "k"}) == [
        "team 'payments' is paged through pagerduty with the key in the environment variable "
        "PAGERDUTY_PAYMENTS_KEY, which is not set: set it, or remove the team's pager from the ownership map"
    ]
    with pytest.raises(SettingsError) as caught:
        check_keys(store, {"PAGERDUTY_PAYMENTS_KEY": "  ", "OPSGENIE_SEARCH_KEY": ""})
    assert "PAGERDUTY_PAYMENTS_KEY" in str(caught.value) and "OPSGENIE_SEARCH_KEY" in str(caught.value)
    check_keys(store, {"PAGERDUTY_PAYMENTS_KEY": "a", "OPSGENIE_SEARCH_KEY": "b"})  # all set: starts
    check_keys(None, {})  # no map: nothing to check
