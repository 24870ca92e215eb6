"""`POST /changes/github`: GitHub's `deployment_status` webhook, verified with X-Hub-Signature-256 over the raw
body; a successful (or failed) deploy is recorded once per X-GitHub-Delivery, anything else is answered and
not stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.integrations.changes.changes_helpers import PING, deployment_status, post_github, sign, stored
from tests.slack.slack_harness import Harness


def test_a_successful_deployment_is_recorded_as_a_deploy(bot: Harness) -> None:
    answer = post_github(bot, deployment_status())
    assert answer.status == 201, answer.text
    [change] = stored(bot)
    assert change.service == "checkout"  # the repository's name
    assert change.kind == "deploy"
    assert change.summary == "Deployed acme/checkout v2.4.0 (a84d88e) to production: Rolled out to 12 of 12 pods"
    assert change.who == "octocat"
    assert change.version == "a84d88e7554f"
    assert change.link == "https://ci.example.com/runs/991/log"
    assert change.source == "github"
    assert change.external_id == "github:72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert change.occurred_at == datetime(2026, 11, 21, 13, 50, tzinfo=UTC)
    assert change.details["environment"] == "production"
    assert change.details["state"] == "success"


def test_the_deployments_payload_can_name_the_service(bot: Harness) -> None:
    assert post_github(bot, deployment_status(repo="monorepo", service="ledger")).status == 201
    assert stored(bot)[0].service == "ledger"


def test_a_failed_deployment_is_recorded_as_failed(bot: Harness) -> None:
    assert post_github(bot, deployment_status(state="failure")).status == 201
    [change] = stored(bot)
    assert change.summary.startswith("Deploy of acme/checkout v2.4.0 (a84d88e) to production failed (failure)")
    assert change.details["state"] == "failure"


def test_a_pending_deployment_is_answered_and_not_stored(bot: Harness) -> None:
    answer = post_github(bot, deployment_status(state="in_progress"))
    assert answer.status == 202
    assert answer.json()["ignored"] == "deployment state in_progress is not recorded (only success, failure, error)"
    assert stored(bot) == []


def test_a_redelivery_of_the_same_delivery_stores_nothing_new(bot: Harness) -> None:
    assert post_github(bot, deployment_status()).status == 201
    again = post_github(bot, deployment_status())
    assert again.status == 200
    assert again.json()["duplicates"] == 1
    assert len(stored(bot)) == 1
    assert post_github(bot, deployment_status(), delivery="another-delivery").status == 201
    assert len(stored(bot)) == 2


def test_a_ping_is_answered(bot: Harness) -> None:
    answer = post_github(bot, PING, event="ping")
    assert answer.status == 200
    assert answer.json() == {"ok": True, "pong": True}
    assert stored(bot) == []


def test_other_events_are_answered_202_with_the_reason(bot: Harness) -> None:
    answer = post_github(bot, {"ref": "refs/heads/main"}, event="push")
    assert answer.status == 202
    assert answer.json()["ignored"] == "event push is not taken; subscribe to Deployment statuses only"
    assert stored(bot) == []


def test_a_bad_signature_is_refused_and_nothing_is_stored(bot: Harness) -> None:
    body = json.dumps(deployment_status()).encode()
    for signature in ("", "sha256=" + "0" * 64, sign(body, "another-secret"), sign(body)[7:], "sha1=abc"):
        answer = post_github(bot, body, signature=signature)
        assert answer.status == 401, signature
        assert answer.json()["error"] == "missing or wrong signature in x-hub-signature-256"
    assert stored(bot) == []


def test_the_signature_covers_the_raw_body(bot: Harness) -> None:
    body = json.dumps(deployment_status()).encode()
    signature = sign(body)
    respaced = json.dumps(deployment_status(), indent=2).encode()  # the same JSON, other bytes
    assert post_github(bot, respaced, signature=signature).status == 401
    assert post_github(bot, body, signature=signature.upper().replace("SHA256=", "sha256=")).status == 201


def test_a_signed_body_that_is_not_a_deployment_status_is_a_400_with_the_field(bot: Harness) -> None:
    event = deployment_status()
    del event["deployment_status"]["state"]
    answer = post_github(bot, event)
    assert answer.status == 400
    assert answer.json()["details"] == ["deployment_status.state: Field required"]
    missing = post_github(bot, deployment_status(), delivery="")
    assert missing.status == 400
    assert missing.json()["error"] == "the X-GitHub-Delivery header is missing"
    assert stored(bot) == []


def test_without_a_secret_configured_the_endpoint_says_how_to_turn_it_on(harness: Harness) -> None:
    answer = post_github(harness, deployment_status())
    assert answer.status == 404
    assert "set GITHUB_WEBHOOK_SECRET" in answer.json()["error"]


def test_a_webhook_set_to_send_a_form_is_told_to_send_json(bot: Harness) -> None:
    body = b"payload=" + json.dumps(deployment_status()).encode()
    headers = {
        "X-GitHub-Event": "deployment_status",
        "X-GitHub-Delivery": "d-form",
        "X-Hub-Signature-256": sign(body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    answer = bot.post("/changes/github", body, headers)
    assert answer.status == 415
    assert answer.json()["error"] == "the webhook sends a form: set its content type to application/json in GitHub"
    assert stored(bot) == []
