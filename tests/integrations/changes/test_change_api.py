"""`POST /changes`: our JSON (one or a list), a PagerDuty change event as PagerDuty takes it, redelivery,
authentication, and what a sender is told when the body is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.integrations.changes.changes_helpers import TOKEN, post_changes, stored
from tests.slack.slack_harness import Harness

DEPLOY = {
    "service": "checkout",
    "kind": "deploy",
    "summary": "Checkout v2.4.0: new payment retries",
    "who": "jdoe",
    "version": "v2.4.0",
    "link": "https://ci.example.com/runs/991",
    "occurred_at": "2026-11-21T13:40:00Z",
    "external_id": "ci-991",
    "details": {"pipeline": "release"},
}

# PagerDuty's documented example request, with the service in custom_details.
PAGERDUTY_EVENT = {
    "routing_key": "samplekeyhere",
    "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2026-11-21T12:42:58.315+0000",
        "source": "acme-build-pipeline-tool-default-i-9999",
        "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s", "service": "ledger"},
    },
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}


def test_our_json_is_stored_with_every_field(bot: Harness) -> None:
    answer = post_changes(bot, DEPLOY)
    assert answer.status == 201, answer.text
    assert answer.json()["recorded"] == 1
    [change] = stored(bot)
    assert (change.service, change.kind, change.summary, change.who, change.version) == (
        "checkout",
        "deploy",
        "Checkout v2.4.0: new payment retries",
        "jdoe",
        "v2.4.0",
    )
    assert change.link == "https://ci.example.com/runs/991"
    assert change.source == "api"
    assert change.external_id == "ci-991"
    assert change.details == {"pipeline": "release"}
    assert change.occurred_at == datetime(2026, 11, 21, 13, 40, tzinfo=UTC)
    assert change.recorded_at == bot.clock.now


def test_a_list_is_stored_in_one_go(bot: Harness) -> None:
    flag = {"service": "auth", "kind": "feature-flag", "summary": "new-login on for 10%"}
    answer = post_changes(bot, [DEPLOY, flag])
    assert answer.status == 201
    assert [(c.service, c.kind) for c in stored(bot)] == [("checkout", "deploy"), ("auth", "feature_flag")]
    assert stored(bot)[1].occurred_at == bot.clock.now  # not said: when it was received


def test_an_alias_of_the_map_is_stored_under_the_services_name(bot: Harness) -> None:
    answer = post_changes(bot, {**DEPLOY, "service": "checkout-api"})
    assert answer.json()["changes"][0]["service"] == "checkout"
    assert stored(bot)[0].service == "checkout"


def test_a_service_the_map_does_not_know_is_stored_with_a_warning(bot: Harness) -> None:
    answer = post_changes(bot, {**DEPLOY, "service": "ledgr"})
    assert answer.status == 201
    assert answer.json()["warnings"] == ["service 'ledgr' is not in the ownership map (did you mean ledger?)"]
    assert stored(bot)[0].service == "ledgr"


def test_a_redelivery_with_the_same_external_id_stores_nothing_new(bot: Harness) -> None:
    assert post_changes(bot, DEPLOY).status == 201
    again = post_changes(bot, {**DEPLOY, "summary": "changed on the way"})
    assert again.status == 200
    assert again.json() == {
        "ok": True,
        "recorded": 0,
        "duplicates": 1,
        "changes": [{"id": stored(bot)[0].id, "service": "checkout", "kind": "deploy", "duplicate": True}],
    }
    [change] = stored(bot)
    assert change.summary == "Checkout v2.4.0: new payment retries"


def test_a_pagerduty_change_event_is_taken_as_pagerduty_takes_it(bot: Harness) -> None:
    answer = post_changes(bot, PAGERDUTY_EVENT)
    assert answer.status == 201, answer.text
    [change] = stored(bot)
    assert change.service == "ledger"
    assert change.kind == "deploy"
    assert change.summary == "Build Success: Increase snapshot create timeout to 30 seconds"
    assert change.version == "2"  # custom_details.build_number
    assert change.link == "https://acme.pagerduty.dev/build/2"
    assert change.source == "pagerduty"
    assert change.occurred_at == datetime(2026, 11, 21, 12, 42, 58, 315000, tzinfo=UTC)
    assert change.details["custom_details"]["run_time"] == "1236s"
    assert change.details["links"] == [
        {"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}
    ]
    assert "samplekeyhere" not in str(change.details)  # the routing key is not kept


def test_a_pagerduty_change_event_without_a_service_names_its_source(bot: Harness) -> None:
    event = {"routing_key": "k", "payload": {"summary": "Rotated the DB password", "source": "vault"}}
    assert post_changes(bot, event).status == 201
    assert stored(bot)[0].service == "vault"


def test_the_same_pagerduty_change_event_sent_twice_is_stored_once(bot: Harness) -> None:
    assert post_changes(bot, PAGERDUTY_EVENT).status == 201
    assert post_changes(bot, PAGERDUTY_EVENT).status == 200
    assert len(stored(bot)) == 1


def test_a_missing_bearer_token_is_refused_and_nothing_is_stored(bot: Harness) -> None:
    answer = post_changes(bot, DEPLOY, token=None)
    assert answer.status == 401
    assert "bearer token" in answer.json()["error"]
    assert stored(bot) == []


def test_a_wrong_bearer_token_is_refused_and_nothing_is_stored(bot: Harness) -> None:
    assert post_changes(bot, DEPLOY, token=TOKEN + "x").status == 401
    assert post_changes(bot, DEPLOY, headers={"Authorization": f"Basic {TOKEN}"}, token=None).status == 401
    assert stored(bot) == []


def test_without_a_token_configured_the_endpoint_says_how_to_turn_it_on(harness: Harness) -> None:
    answer = post_changes(harness, DEPLOY)
    assert answer.status == 404
    assert answer.json()["error"] == "change events are not enabled on this bot: set CHANGE_EVENTS_TOKEN"
    assert stored(harness) == []


def test_bad_fields_are_named_by_their_path(bot: Harness) -> None:
    answer = post_changes(bot, [DEPLOY, {"service": "auth", "kind": "deploy"}, {**DEPLOY, "colour": "red"}])
    assert answer.status == 400
    assert answer.json()["details"] == ["[1].summary: Field required", "[2].colour: Extra inputs are not permitted"]
    assert stored(bot) == []  # all or nothing


def test_values_are_checked_with_what_to_fix(bot: Harness) -> None:
    answer = post_changes(bot, {**DEPLOY, "kind": "reboot", "link": "ftp://x", "summary": " "})
    assert answer.status == 400
    error = answer.json()["error"]
    assert "summary: is empty" in error
    assert "kind 'reboot' is not one of deploy, config, feature_flag, migration, infrastructure" in error
    assert "link: 'ftp://x' is not an http:// or https:// URL" in error
    long = post_changes(bot, {**DEPLOY, "service": "s" * 201, "external_id": None})
    assert "service: is 201 characters; at most 200" in long.json()["error"]
    future = post_changes(bot, {**DEPLOY, "occurred_at": "2027-01-01T00:00:00Z"})
    assert "occurred_at: 2027-01-01T00:00:00+00:00 is in the future" in future.json()["error"]
    assert stored(bot) == []


def test_a_body_over_the_limit_is_refused_with_413(bot: Harness) -> None:
    limit = bot.deps.settings.webhook_max_body_bytes
    answer = post_changes(bot, {**DEPLOY, "summary": "x" * limit})
    assert answer.status == 413
    assert stored(bot) == []


def test_only_post_is_answered(bot: Harness) -> None:
    assert bot.post("/changes", b"", method="GET").status == 405
