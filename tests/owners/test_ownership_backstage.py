"""Backstage catalog files: multi-document files, folders, Users' emails, merging with our format."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidents.owners import EscalationStep, Link, OwnershipMap, OwnershipMapError, load_map

ENTITY = """\
apiVersion: backstage.io/v1alpha1
kind: {kind}
metadata:
  name: {name}
"""


@pytest.fixture
def merged(data: Path) -> OwnershipMap:
    return load_map([data / "catalog", data / "platform.yml"])


def by_name(items, name):  # type: ignore[no-untyped-def]
    return next(item for item in items if item.name == name)


def test_folder_is_searched_recursively_and_merged_with_our_format(merged: OwnershipMap) -> None:
    assert sorted(team.name for team in merged.teams) == ["identity", "payments", "platform"]
    assert sorted(service.name for service in merged.services) == ["auth", "checkout", "commerce", "gateway", "ledger"]


def test_components_and_systems_become_services(merged: OwnershipMap) -> None:
    checkout = by_name(merged.services, "checkout")
    assert checkout.team == "payments"
    assert checkout.aliases == ("co", "basket", "Checkout API")
    assert checkout.tier == 1
    assert checkout.runbook == "https://runbooks.example.com/checkout"
    assert checkout.dashboards == (Link(title="Checkout overview", url="https://grafana.example.com/d/checkout"),)
    commerce = by_name(merged.services, "commerce")
    assert commerce.dashboards == (Link(title="Commerce", url="https://grafana.example.com/d/commerce"),)


def test_depends_on_keeps_components_and_systems_and_skips_resources(merged: OwnershipMap) -> None:
    assert by_name(merged.services, "checkout").depends_on == ("ledger", "gateway")


def test_dependency_owned_in_our_format_is_found_from_the_catalog(merged: OwnershipMap) -> None:
    owners = merged.owners_of(by_name(merged.services, "checkout"))
    assert [(d.service.name, d.team.name) for d in owners.dependencies] == [
        ("ledger", "payments"),
        ("gateway", "platform"),
    ]


def test_group_annotations_give_slack_usergroup_channel_escalation_and_contact(merged: OwnershipMap) -> None:
    payments = by_name(merged.teams, "payments")
    assert payments.slack_usergroup == "@payments-oncall"
    assert payments.channel == "#payments"
    assert payments.contact == "Page 'Payments' in PagerDuty"
    assert payments.escalation == (
        EscalationStep(role="primary", user="ana@example.com"),
        EscalationStep(role="secondary", user="marc@example.com"),
        EscalationStep(role="manager", user="U0MANAGER1"),
    )
    identity = by_name(merged.teams, "identity")
    assert (identity.slack_usergroup, identity.channel) == ("S0AB12CD3", "C0AB12CD3")
    assert identity.contact == "email identity@example.com"


def test_members_are_resolved_to_user_emails_also_through_member_of(merged: OwnershipMap) -> None:
    assert by_name(merged.teams, "identity").members == ("lee@example.com",)


def test_unresolvable_members_are_kept_as_refs_and_reported_as_warnings(merged: OwnershipMap, data: Path) -> None:
    assert by_name(merged.teams, "payments").members == ("ana@example.com", "user:default/marc", "user:default/ghost")
    file = data / "catalog" / "payments" / "catalog-info.yaml"
    assert [str(warning) for warning in merged.warnings] == [
        f"{file}:14: Group 'payments': member 'user:default/marc' has no spec.profile.email; "
        "kept as 'user:default/marc' (unresolvable)",
        f"{file}:14: Group 'payments': member 'ghost' is not a User in the catalog; "
        "kept as 'user:default/ghost' (unresolvable)",
    ]


def test_catalog_alone_reports_the_dependency_defined_elsewhere(data: Path) -> None:
    with pytest.raises(OwnershipMapError) as caught:
        load_map(data / "catalog")
    file = data / "catalog" / "payments" / "catalog-info.yaml"
    assert [str(p) for p in caught.value.problems] == [
        f"{file}:40: service 'checkout' depends on unknown service 'gateway'"
    ]


def test_one_file_with_many_documents_can_be_named_directly(write_yaml) -> None:
    path = write_yaml(
        "\n---\n".join(
            [
                ENTITY.format(kind="Group", name="payments") + "spec:\n  type: team\n  members: [U024BE7LH]\n",
                ENTITY.format(kind="Component", name="checkout") + "spec:\n  owner: payments\n",
                ENTITY.format(kind="API", name="checkout-api") + "spec:\n  owner: payments\n",
            ]
        ),
        name="catalog-info.yaml",
    )
    ownership = load_map(path)
    assert [s.name for s in ownership.services] == ["checkout"]


def test_missing_owner_and_bad_annotations_are_reported_with_their_lines(write_yaml) -> None:
    path = write_yaml(
        """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  annotations:
    slack.com/channel: "Payments Team"
    incident-bot/escalation: "primary=U024BE7LH, marc"
spec:
  type: team
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    incident-bot/tier: "critical"
spec:
  type: service
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  title: no name
spec:
  owner: user:default/ana
""",
        name="catalog-info.yaml",
    )
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:6: Group 'payments': metadata.annotations.slack.com/channel: bad Slack channel '#Payments Team': "
        "expected a name like #payments or an id like C0123ABCD",
        f"{path}:7: Group 'payments': incident-bot/escalation: expected 'role=user, role=user, ...', got 'marc'",
        f"{path}:17: Component 'checkout': missing required field 'spec.owner'",
        f"{path}:22: Component: missing required field 'metadata.name'",
    ]


def test_component_owned_by_a_user_is_reported_as_an_unknown_team(write_yaml) -> None:
    path = write_yaml(
        ENTITY.format(kind="Group", name="payments")
        + "spec:\n  members: [U024BE7LH]\n---\n"
        + ENTITY.format(kind="Component", name="checkout")
        + "spec:\n  owner: user:default/ana\n",
        name="catalog-info.yaml",
    )
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:13: service 'checkout' references unknown team 'user:default/ana'"
    ]


def test_bad_user_email_is_an_error_at_its_line(write_yaml) -> None:
    path = write_yaml(
        ENTITY.format(kind="Group", name="payments")
        + "spec:\n  members: [ana]\n---\n"
        + ENTITY.format(kind="User", name="ana")
        + "spec:\n  profile:\n    email: ana@\n",
        name="catalog-info.yaml",
    )
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:14: User 'ana': spec.profile.email: bad email 'ana@': There must be something after the @-sign."
    ]


def test_non_catalog_yaml_in_a_folder_is_ignored_but_named_files_must_be_recognised(data: Path) -> None:
    with pytest.raises(OwnershipMapError) as caught:
        load_map([data / "catalog" / "mkdocs.yml"])
    assert "neither an ownership map" in str(caught.value)


def test_entity_without_spec_is_reported_at_the_entity(write_yaml) -> None:
    path = write_yaml(ENTITY.format(kind="System", name="commerce"), name="catalog-info.yaml")
    with pytest.raises(OwnershipMapError) as caught:
        load_map(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: System 'commerce': missing required field 'spec.owner'"
    ]
