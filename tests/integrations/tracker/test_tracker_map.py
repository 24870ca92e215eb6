"""The ownership map names a team's tracker (a Jira project or a GitHub repository), checked with file:line
like the rest of the map; a tracker the map or TICKET_DEFAULT names that is not configured stops start-up,
naming what to set. Tickets route to the first team of the incident's services that names one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.integrations.tracker import build_trackers, check_trackers
from app.settings import SettingsError, load_settings
from incidents.owners import OwnershipMapError, OwnershipStore, load_map
from incidents.tickets import Destination, route
from tests.integrations.tracker.tracker_helpers import MAP


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ownership.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_bad_tracker_fields_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        teams:
          - name: payments
            tracker: {service: jira, project: ops}
          - name: search
            tracker: {service: github, repository: search}
          - name: books
            tracker: {service: linear, project: BOOKS}
          - name: infra
            tracker: {service: github, repository: acme/infra, issue_type: Bug}
        """,
    )
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    problems = [str(p) for p in caught.value.problems]
    assert any(":3:" in p and "a Jira tracker needs 'project': the project's key, like OPS" in p for p in problems)
    assert any(":5:" in p and "needs 'repository': owner/name, like acme/payments" in p for p in problems)
    assert any(":7:" in p and "'jira' or 'github'" in p for p in problems), problems
    assert any(":9:" in p and "'issue_type' are for Jira" in p for p in problems)


def test_routing_takes_the_first_team_with_a_tracker_then_the_default() -> None:
    ownership = load_map(MAP)
    default = Destination.parse("github:acme/incidents")
    jira = route(ownership, ["ledger", "checkout", "search"], default=default, labels=("x",), issue_type="Task")
    assert (jira.tracker, jira.project, jira.issue_type, jira.labels, jira.team) == (  # type: ignore[union-attr]
        "jira",
        "OPS",
        "Bug",
        ("x", "payments"),
        "payments",
    )
    fallback = route(ownership, ["ledger", "unknown"], default=default, labels=("x",), issue_type="Task")
    assert fallback == Destination("github", "acme/incidents", None, ("x",))
    assert route(ownership, ["ledger"], default=None) is None


def test_a_tracker_named_but_not_configured_stops_start_up(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path, ticket_default="jira:OPS")
    with pytest.raises(SettingsError) as caught:
        check_trackers(settings, OwnershipStore((MAP,)))
    problems = caught.value.problems
    assert (
        "TICKET_DEFAULT sends tickets to jira, which is not configured: set JIRA_BASE_URL and JIRA_API_TOKEN "
        "(and JIRA_EMAIL for Jira Cloud), or change TICKET_DEFAULT" in problems
    )
    assert any("team 'search' files its tickets in github" in p and "GITHUB_ISSUES_TOKEN" in p for p in problems)

    configured = settings.model_copy(
        update={
            "jira_base_url": "https://acme.atlassian.net",
            "jira_email": "bot@example.com",
            "jira_api_token": SecretStr("t"),
            "github_issues_token": SecretStr("g"),
        }
    )
    check_trackers(configured, OwnershipStore((MAP,)))
    assert sorted(build_trackers(configured)) == ["github", "jira"]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TICKET_DEFAULT", "jira", "is not TRACKER:PROJECT; write jira:OPS or github:acme/incidents"),
        ("TICKET_DEFAULT", "github:noslash", "is not a GitHub repository"),
        ("JIRA_BASE_URL", "acme.atlassian.net", "is not a base URL"),
        ("TICKET_LABELS", "ok,not ok", "labels cannot contain spaces"),
        ("TICKET_SYNC_SECONDS", "1", "greater than or equal to 10"),
        ("JIRA_API_VERSION", "4", "Input should be '3' or '2'"),
    ],
)
def test_bad_ticket_settings_stop_start_up_naming_the_variable(
    variable: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    [problem] = caught.value.problems
    assert problem.startswith(f"{variable}: ") and said in problem
