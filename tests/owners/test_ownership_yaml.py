"""Our YAML format, read into teams and services."""

from __future__ import annotations

from incidents.owners import EscalationStep, Link, OwnershipMap, load_map


def test_documented_example_is_valid_with_three_teams_and_six_services(example_map: OwnershipMap) -> None:
    assert [team.name for team in example_map.teams] == ["payments", "identity", "platform"]
    assert len(example_map.services) == 6
    assert example_map.warnings == ()


def test_team_fields_are_read(example_map: OwnershipMap) -> None:
    payments = example_map.teams[0]
    assert payments.slack_usergroup == "@payments-oncall"
    assert payments.channel == "#payments"
    assert payments.members == ("U024BE7LH", "ana@example.com", "marc@example.com")
    assert payments.escalation == (
        EscalationStep(role="primary", user="U024BE7LH"),
        EscalationStep(role="secondary", user="ana@example.com"),
        EscalationStep(role="manager", user="marc@example.com"),
    )
    assert payments.contact is not None and "PagerDuty" in payments.contact


def test_service_fields_are_read_and_bare_dashboard_urls_are_links(example_map: OwnershipMap) -> None:
    checkout = example_map.services[0]
    assert checkout.name == "checkout"
    assert checkout.aliases == ("checkout-api", "co")
    assert checkout.team == "payments"
    assert checkout.tier == 1
    assert checkout.runbook == "https://runbooks.example.com/checkout"
    assert checkout.dashboards == (
        Link(title="Checkout overview", url="https://grafana.example.com/d/checkout"),
        Link(url="https://grafana.example.com/d/checkout-errors"),
    )
    assert checkout.depends_on == ("ledger", "auth", "gateway")


def test_emails_are_normalised_and_whitespace_is_stripped(write_yaml) -> None:
    path = write_yaml("""\
teams:
  - name: " payments "
    members: ["Ana@Example.COM", " U024BE7LH "]
services:
  - {name: checkout, team: payments}
""")
    team = load_map(path).teams[0]
    assert team.name == "payments"
    assert team.members == ("Ana@example.com", "U024BE7LH")


def test_teams_and_services_may_live_in_separate_files(write_yaml) -> None:
    teams = write_yaml("teams:\n  - {name: payments, members: [U024BE7LH]}\n", name="teams.yml")
    services = write_yaml("services:\n  - {name: checkout, team: payments}\n", name="services.yml")
    ownership = load_map([teams, services])
    assert ownership.team_of(ownership.services[0]).name == "payments"
