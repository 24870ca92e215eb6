"""The triage message within Block Kit's limits, however long what the alert carries (slack_sdk checks the
limits when the blocks are turned into JSON)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.slack.blocks.alerts import triage_blocks, triage_text
from app.slack.ids import AlertAction
from incidents.models import Alert, Incident
from tests.slack.slack_harness import blocks_text


def alert(**changes: object) -> Alert:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    values: dict[str, object] = {
        "id": 7,
        "source": "prometheus",
        "dedup_key": "fp",
        "status": "firing",
        "action": "triage",
        "title": "t" * 500,
        "severity": "SEV3",
        "service": "s" * 200,
        "link": "https://example.com/" + "x" * 2500,
        "labels": {f"label{n}": "v" * 300 for n in range(40)},
        "details": {"description": "<d>&" * 2000},
        "starts_at": now,
        "received_at": now,
        "last_received_at": now,
    }
    return Alert(**(values | changes))


def test_a_huge_alert_stays_within_block_kit_limits() -> None:
    blocks = [b.to_dict() for b in triage_blocks(alert())]
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "(+28 more)" in blocks_text(blocks)
    assert "&lt;d&gt;&amp;" in blocks_text(blocks)  # what the alert says is escaped, not markup
    assert len(triage_text(alert())) <= 3000


def test_a_link_that_is_not_http_gets_no_button() -> None:
    blocks = [b.to_dict() for b in triage_blocks(alert(link="javascript:alert(1)"))]
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [AlertAction.DECLARE]


def test_once_declared_the_message_names_the_incident_and_has_no_button() -> None:
    incident = Incident(number=4, channel_id="C0INC4", title="x", severity="SEV3", status="triage")
    blocks = [b.to_dict() for b in triage_blocks(alert(), incident)]
    assert "Declared as *INC-4*: <#C0INC4>" in blocks_text(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]
