"""The ownership map's people and user groups as Slack knows them, asked of the Web API double with a real
WebClient: emails to user ids (cached), user group handles to ids (cached, refetched for an unknown handle)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.sandbox.webapi import RunningServer, make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from app.slack.directory import SlackPeople, SlackUserDirectory, SlackUsergroups
from tests.slack.slack_harness import BOT_TOKEN


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def workspace() -> Workspace:
    return Workspace().seed_default()


@pytest.fixture
def client(workspace: Workspace) -> Iterator[WebClient]:
    running: RunningServer = serve_in_thread(make_web_api(workspace))
    yield WebClient(token=BOT_TOKEN, base_url=running.base_url)
    running.stop()


def test_an_email_is_looked_up_once_then_cached(workspace: Workspace, client: WebClient) -> None:
    people = SlackPeople(client)
    assert people.users.lookup_by_email("alice@example.com") == "U01ALICE"
    assert people.users.lookup_by_email("Alice@Example.com") == "U01ALICE"
    assert people.users.lookup_by_email("nobody@example.com") is None
    assert people.users.lookup_by_email("nobody@example.com") is None
    assert len(workspace.calls_to("users.lookupByEmail")) == 2


def test_a_deactivated_person_is_not_found(workspace: Workspace, client: WebClient) -> None:
    workspace.users["U01BOB"].deleted = True
    assert SlackUserDirectory(client).lookup_by_email("bob@example.com") is None


def test_a_slack_failure_is_raised_and_not_cached(workspace: Workspace, client: WebClient) -> None:
    """Only "nobody has this email" is an answer: a failure is for the outbox to retry, not a missing person."""
    people = SlackPeople(client)
    workspace.faults.fail("users.lookupByEmail", error="missing_scope")
    with pytest.raises(SlackApiError):
        people.users.lookup_by_email("alice@example.com")
    assert people.users.lookup_by_email("alice@example.com") == "U01ALICE"


def test_without_the_usergroups_scope_every_handle_is_unknown(workspace: Workspace, client: WebClient) -> None:
    workspace.faults.fail("usergroups.list", error="missing_scope")
    assert SlackUsergroups(client).id_for("@oncall") is None


def test_a_usergroup_handle_becomes_its_id_and_the_list_is_cached(workspace: Workspace, client: WebClient) -> None:
    ticks = Ticks()
    groups = SlackUsergroups(client, clock=ticks)
    assert groups.id_for("@oncall") == "S0ONCALL"
    assert groups.id_for("ONCALL") == "S0ONCALL"
    assert groups.id_for("S0GIVENID") == "S0GIVENID"  # an id needs no lookup
    assert len(workspace.calls_to("usergroups.list")) == 1


def test_an_unknown_handle_refetches_the_list_at_most_every_minute(workspace: Workspace, client: WebClient) -> None:
    ticks = Ticks()
    groups = SlackUsergroups(client, clock=ticks)
    assert groups.id_for("@payments-oncall") is None
    assert groups.id_for("@payments-oncall") is None
    assert len(workspace.calls_to("usergroups.list")) == 1
    workspace.add_usergroup("payments-oncall", "Payments", [], group_id="S0PAY")
    ticks.now = 61
    assert groups.id_for("@payments-oncall") == "S0PAY"
    assert len(workspace.calls_to("usergroups.list")) == 2
