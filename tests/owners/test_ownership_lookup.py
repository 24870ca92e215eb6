"""Lookups during an incident: by name or alias, forgiving typos, with owners and who to call first."""

from __future__ import annotations

import pytest

from incidents.owners import EscalationStep, OwnershipMap, Service, Team


def service(ownership: OwnershipMap, query: str) -> Service:
    match = ownership.find_service(query)
    assert match is not None, query
    return match.service


@pytest.mark.parametrize("query", ["checkout", "CHECKOUT", "checkout-api", "Checkout API", "checkout_api", " co "])
def test_service_is_found_by_name_or_alias_ignoring_case_and_separators(example_map: OwnershipMap, query: str) -> None:
    assert service(example_map, query).name == "checkout"


def test_match_says_which_alias_matched(example_map: OwnershipMap) -> None:
    match = example_map.find_service("SSO")
    assert match is not None
    assert (match.service.name, match.matched, match.by_alias) == ("auth", "sso", True)
    by_name = example_map.find_service("auth")
    assert by_name is not None and not by_name.by_alias


def test_unknown_service_is_none_and_typos_get_suggestions(example_map: OwnershipMap) -> None:
    assert example_map.find_service("chekout") is None
    assert example_map.suggest("chekout") == ["checkout"]
    assert example_map.suggest("ledgr")[0] == "ledger"
    assert example_map.suggest("kafak") == ["message-queue"]  # found through its alias, named by its name


def test_suggestions_include_names_containing_the_query_and_are_capped(example_map: OwnershipMap) -> None:
    assert example_map.suggest("gate") == ["gateway"]
    assert len(example_map.suggest("a", n=2)) == 2
    assert example_map.suggest("zzzz") == []
    assert example_map.suggest("") == []


def test_team_is_found_by_name_or_usergroup_handle(example_map: OwnershipMap) -> None:
    for query in ("payments", "Payments", "@payments-oncall", "payments-oncall"):
        team = example_map.find_team(query)
        assert team is not None and team.name == "payments", query
    assert example_map.find_team("nobody") is None


def test_owners_of_gives_team_escalation_runbook_dashboards_and_dependency_owners(example_map: OwnershipMap) -> None:
    owners = example_map.owners_of(service(example_map, "checkout"))
    assert owners.team.name == "payments"
    assert [step.role for step in owners.escalation] == ["primary", "secondary", "manager"]
    assert owners.runbook == "https://runbooks.example.com/checkout"
    assert [link.label for link in owners.dashboards] == [
        "Checkout overview",
        "https://grafana.example.com/d/checkout-errors",
    ]
    assert [(d.service.name, d.team.name) for d in owners.dependencies] == [
        ("ledger", "payments"),
        ("auth", "identity"),
        ("gateway", "platform"),
    ]


def test_first_contact_is_the_first_escalation_step_else_every_member(example_map: OwnershipMap) -> None:
    assert example_map.first_contacts(service(example_map, "checkout")) == ("U024BE7LH",)
    assert example_map.first_contacts(service(example_map, "mq")) == ("U0PLAT0001", "U0PLAT0002")


def test_engaging_a_service_invites_first_contacts_mentions_usergroup_and_bookmarks_runbook(
    example_map: OwnershipMap,
) -> None:
    engagement = example_map.engagement(service(example_map, "checkout"))
    assert engagement.invite == ("U024BE7LH",)
    assert engagement.mention == "@payments-oncall"
    assert engagement.channel == "#payments"
    assert engagement.runbook == "https://runbooks.example.com/checkout"
    assert len(engagement.dashboards) == 2
    assert engagement.escalation[1] == EscalationStep(role="secondary", user="ana@example.com")


def test_engaging_a_whole_team_invites_escalation_and_members_once_each(example_map: OwnershipMap) -> None:
    team = example_map.find_team("payments")
    assert isinstance(team, Team)
    engagement = example_map.engagement(team, whole_team=True)
    assert engagement.service is None and engagement.runbook is None
    assert engagement.invite == ("U024BE7LH", "ana@example.com", "marc@example.com")


def test_services_of_a_team(example_map: OwnershipMap) -> None:
    team = example_map.find_team("identity")
    assert team is not None
    assert [s.name for s in example_map.services_of(team)] == ["auth", "accounts"]
