"""Both pager adapters against the local doubles of their vendor APIs: trigger, acknowledge and resolve with the
documented shapes, and every failure turned into ours (PagerUnavailable with Retry-After, PagerRefused with the
vendor's reason), never carrying the key."""

from __future__ import annotations

import pytest

from app.integrations.pager.http import retry_after
from app.integrations.pager.opsgenie import Opsgenie
from app.integrations.pager.pagerduty import PagerDuty
from incidents.paging import PageCall, PagerRefused, PagerUnavailable
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.integrations.paging.paging_helpers import OPSGENIE_KEY, PAGERDUTY_KEY


def call(secret: str, **changes: object) -> PageCall:
    values: dict[str, object] = {
        "dedup_key": "incident-7-payments",
        "secret": secret,
        "summary": "INC-7 (SEV1): Checkout is failing",
        "severity": "SEV1",
        "source": "incident-bot",
        "details": {"incident": "INC-7", "services": "checkout"},
        "links": [("INC-7 in Slack", "https://slack.com/app_redirect?channel=C0INC7")],
    }
    return PageCall(**(values | changes))  # type: ignore[arg-type]


def test_pagerduty_trigger_acknowledge_resolve(pagerduty: PagerDutyDouble) -> None:
    adapter = PagerDuty(pagerduty.url, timeout=5)
    answer = adapter.trigger(call(PAGERDUTY_KEY))
    assert answer == {"status": "success", "message": "Event processed", "dedup_key": "incident-7-payments"}
    [event] = pagerduty.events("trigger")
    assert event["routing_key"] == PAGERDUTY_KEY
    assert event["payload"] == {
        "summary": "INC-7 (SEV1): Checkout is failing",
        "source": "incident-bot",
        "severity": "critical",
        "custom_details": {"incident": "INC-7", "services": "checkout"},
    }
    assert event["links"] == [{"href": "https://slack.com/app_redirect?channel=C0INC7", "text": "INC-7 in Slack"}]
    assert pagerduty.alerts["incident-7-payments"] == "triggered"

    adapter.acknowledge(call(PAGERDUTY_KEY))
    assert pagerduty.alerts["incident-7-payments"] == "acknowledged"
    adapter.resolve(call(PAGERDUTY_KEY))
    assert pagerduty.alerts["incident-7-payments"] == "resolved"
    assert [e["event_action"] for e in pagerduty.events()] == ["trigger", "acknowledge", "resolve"]
    assert "payload" not in pagerduty.events("resolve")[0]


@pytest.mark.parametrize(
    ("ours", "theirs"), [("SEV1", "critical"), ("SEV2", "error"), ("SEV3", "warning"), ("SEV4", "warning")]
)
def test_pagerduty_severity_mapping(pagerduty: PagerDutyDouble, ours: str, theirs: str) -> None:
    PagerDuty(pagerduty.url, timeout=5).trigger(call(PAGERDUTY_KEY, severity=ours))
    assert pagerduty.events("trigger")[0]["payload"]["severity"] == theirs


def test_pagerduty_long_summary_is_cut_to_1024(pagerduty: PagerDutyDouble) -> None:
    PagerDuty(pagerduty.url, timeout=5).trigger(call(PAGERDUTY_KEY, summary="x" * 5000))
    assert len(pagerduty.events("trigger")[0]["payload"]["summary"]) == 1024


def test_pagerduty_bad_routing_key_is_refused_with_the_reason_and_no_key(pagerduty: PagerDutyDouble) -> None:
    with pytest.raises(PagerRefused) as refused:
        PagerDuty(pagerduty.url, timeout=5).trigger(call("wrong-key-1234"))
    assert "400" in str(refused.value) and "routing_key' is invalid" in str(refused.value)
    assert "wrong-key-1234" not in str(refused.value)


def test_pagerduty_rate_limit_honours_retry_after(pagerduty: PagerDutyDouble) -> None:
    pagerduty.rate_limit(1, after="17")
    with pytest.raises(PagerUnavailable) as unavailable:
        PagerDuty(pagerduty.url, timeout=5).trigger(call(PAGERDUTY_KEY))
    assert unavailable.value.after == 17.0 and "429" in str(unavailable.value)


def test_pagerduty_server_error_and_outage_are_unavailable(pagerduty: PagerDutyDouble) -> None:
    adapter = PagerDuty(pagerduty.url, timeout=5)
    pagerduty.fail_next(1, 502)
    with pytest.raises(PagerUnavailable, match="502"):
        adapter.trigger(call(PAGERDUTY_KEY))
    pagerduty.outage = True
    with pytest.raises(PagerUnavailable, match="503"):
        adapter.trigger(call(PAGERDUTY_KEY))


def test_unreachable_vendor_is_unavailable() -> None:
    double = PagerDutyDouble({PAGERDUTY_KEY}).start()
    url = double.url
    double.stop()  # nothing listens there any more
    with pytest.raises(PagerUnavailable, match="could not be reached"):
        PagerDuty(url, timeout=2).trigger(call(PAGERDUTY_KEY))


def test_opsgenie_create_acknowledge_close_by_alias(opsgenie: OpsgenieDouble) -> None:
    adapter = Opsgenie(opsgenie.url, timeout=5)
    answer = adapter.trigger(call(OPSGENIE_KEY, severity="SEV2"))
    assert answer["result"] == "Request will be processed" and answer["requestId"]
    create = opsgenie.requests[0]
    assert create.path == "/v2/alerts"
    assert create.headers["authorization"] == f"GenieKey {OPSGENIE_KEY}"
    assert create.body["alias"] == "incident-7-payments"
    assert create.body["priority"] == "P2"
    assert create.body["message"] == "INC-7 (SEV1): Checkout is failing"
    assert create.body["details"] == {"incident": "INC-7", "services": "checkout"}
    assert "https://slack.com/app_redirect?channel=C0INC7" in create.body["description"]

    adapter.acknowledge(call(OPSGENIE_KEY))
    assert opsgenie.alerts["incident-7-payments"]["status"] == "acknowledged"
    adapter.resolve(call(OPSGENIE_KEY))
    assert opsgenie.alerts["incident-7-payments"]["status"] == "closed"
    assert [(r.path, r.query) for r in opsgenie.requests[1:]] == [
        ("/v2/alerts/incident-7-payments/acknowledge", {"identifierType": ["alias"]}),
        ("/v2/alerts/incident-7-payments/close", {"identifierType": ["alias"]}),
    ]


def test_opsgenie_message_is_cut_to_130(opsgenie: OpsgenieDouble) -> None:
    Opsgenie(opsgenie.url, timeout=5).trigger(call(OPSGENIE_KEY, summary="y" * 400))
    assert len(opsgenie.requests[0].body["message"]) == 130


def test_opsgenie_bad_key_is_refused_401_without_the_key(opsgenie: OpsgenieDouble) -> None:
    with pytest.raises(PagerRefused) as refused:
        Opsgenie(opsgenie.url, timeout=5).trigger(call("not-the-key-987"))
    assert "401" in str(refused.value) and "Could not authenticate" in str(refused.value)
    assert "not-the-key-987" not in str(refused.value)


def test_opsgenie_unprocessable_body_is_refused_422(opsgenie: OpsgenieDouble) -> None:
    with pytest.raises(PagerRefused, match="422"):
        Opsgenie(opsgenie.url, timeout=5).trigger(call(OPSGENIE_KEY, summary="   ", dedup_key=""))


def test_opsgenie_unknown_alias_is_refused_404(opsgenie: OpsgenieDouble) -> None:
    with pytest.raises(PagerRefused, match="404"):
        Opsgenie(opsgenie.url, timeout=5).resolve(call(OPSGENIE_KEY, dedup_key="incident-99-nobody"))


def test_opsgenie_rate_limit_and_outage(opsgenie: OpsgenieDouble) -> None:
    adapter = Opsgenie(opsgenie.url, timeout=5)
    opsgenie.rate_limit(1, after="3")
    with pytest.raises(PagerUnavailable) as unavailable:
        adapter.trigger(call(OPSGENIE_KEY))
    assert unavailable.value.after == 3.0
    opsgenie.outage = True
    with pytest.raises(PagerUnavailable, match="503"):
        adapter.trigger(call(OPSGENIE_KEY))


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert retry_after("30") == 30.0
    assert retry_after("Thu, 03 Dec 2026 09:01:00 GMT", now=now) == 60.0
    assert retry_after("soon") is None and retry_after(None) is None
    assert retry_after("999999") == 3600.0
