"""Timeline rows stored before events were facts (revision 0001 wrote the sentence, in Slack mrkdwn, into `text`)
keep rendering the same everywhere after migration 0002, and its downgrade gives them back as they were."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.cli.main import PLAIN
from app.postmortem.render import render_json, render_markdown
from app.slack.blocks.facts import event_mrkdwn
from app.slack.blocks.timeline import timeline_blocks
from app.words.events import sentence
from incidents import db
from incidents.postmortem import build
from incidents.queries import get_incident
from incidents.timeline_view import timeline_page, visible_events

LINK = "https://example.slack.com/archives/C0GENERAL/p1795269600000000"
# (kind, actor, the 0001 text, the 0001 data, source, source_key); minutes after the declaration.
OLD_ROWS = [
    ("acknowledged", "U02BOB", "Acknowledged by <@U02BOB>", {}, None, None),
    ("role_assigned", "U02BOB", "<@U02BOB> took the acknowledge role", {"role": "acknowledge", "to": "U02BOB"}),
    (
        "role_assigned",
        "U02BOB",
        "<@U03CAROL> took the mitigate role (assigned by <@U02BOB>)",
        {"role": "mitigate", "to": "U03CAROL"},
    ),
    (
        "role_handover",
        "U03CAROL",
        "mitigate handed over from <@U03CAROL> to <@U04DAN> by <@U03CAROL>",
        {"role": "mitigate", "from": "U03CAROL", "to": "U04DAN"},
    ),
    ("severity_changed", "U02BOB", "Severity changed from SEV2 to SEV1 by <@U02BOB>", {"from": "SEV2", "to": "SEV1"}),
    (
        "milestones_filled",
        "U02BOB",
        "Skipped ahead: acknowledged and mitigated recorded at the same instant",
        {"filled": ["acknowledged", "mitigated"]},
    ),
    (
        "reminder_sent",
        None,
        "Stakeholder-update reminder sent to <@U02BOB> (acknowledge), asking someone to take the communicate role",
        {"due_at": "2026-11-21T14:30:00+00:00", "stage": 1, "target_id": "U02BOB"},
    ),
    (
        "reminder_sent",
        None,
        "Stakeholder-update reminder sent to <@U05ERIN> (communicate)",
        {"due_at": "2026-11-21T14:31:00+00:00", "stage": 1, "target_id": "U05ERIN"},
    ),
    (
        "update_missed",
        None,
        "Communication gap: no stakeholder update for 1h 00m (2 update windows missed)",
        {"due_at": "2026-11-21T14:30:00+00:00", "stage": 3, "since": "2026-11-21T14:00:00+00:00", "windows": 2},
    ),
    (
        "escalated",
        None,
        "Stakeholder update overdue: escalated to every role holder and the announcements channel",
        {"due_at": "2026-11-21T14:30:00+00:00", "stage": 3},
    ),
    (
        "reminder_snoozed",
        "U05ERIN",
        "<@U05ERIN> snoozed the stakeholder-update reminder for 30 minutes",
        {"minutes": 30, "until": "2026-11-21T15:40:00+00:00", "was_due_at": None},
    ),
    (
        "owners_engaged",
        "U01ALICE",
        "Owners of checkout (team payments) brought in by <@U01ALICE>: invited <@U06FRED>; already in the channel: "
        "<@U03CAROL>; could not invite ana@example.com (not in this workspace)",
        {
            "team": "payments",
            "services": ["checkout"],
            "invited": ["U06FRED"],
            "present": ["U03CAROL"],
            "missed": [{"contact": "ana@example.com", "reason": "not in this workspace"}],
            "trigger": "declared",
        },
    ),
    ("mitigated", "U02BOB", "Mitigated (service restored) per <@U02BOB>", {}),
    ("resolved", "U02BOB", "Resolved per <@U02BOB>", {}),
    ("reopened", "U02BOB", "Reopened by <@U02BOB>", {"previously_resolved_at": "2026-11-21T15:00:00+00:00"}),
    ("mitigated", "U02BOB", "Mitigated again (service restored) per <@U02BOB>", {}),
    (
        "followup_added",
        "U02BOB",
        "Follow-up added: Alert on *5xx* rates (owner <@U03CAROL>)",
        {"followup_id": 1, "owner_id": "U03CAROL"},
    ),
    ("followup_added", "U02BOB", "Follow-up added: Smoke tests", {"followup_id": 2, "owner_id": None}),
    ("followup_done", "U03CAROL", "Follow-up done: Alert on *5xx* rates", {"followup_id": 1}),
    (
        "postmortem_uploaded",
        "U02BOB",
        "Post-mortem draft uploaded to the channel (asked for by <@U02BOB>)",
        {"file_id": "F1"},
    ),
    ("note", "U03CAROL", "flushed <@U04DAN>'s cache", {}),
    (
        "message",
        "U01ALICE",
        f"Declared from a message by <@U04DAN>: {LINK}",
        {"channel": "C0GENERAL", "ts": "1795269600.000000"},
        LINK,
        "declared_from:C0GENERAL:1795269600.000000",
    ),
    (
        "message",
        "U01ALICE",
        "Declared from a message by someone",
        {"channel": "C0GENERAL", "ts": "1.0"},
        None,
        "declared_from:C0GENERAL:1.0",
    ),
]
DECLARED = "INC-1 declared as SEV2: Checkout is failing"


@pytest.fixture
def old_rows(engine, sessions, declared, now):
    """INC-1 at revision 0001 with one old row of every kind, then migrated to the head."""
    db.downgrade(engine, "0001")
    with engine.begin() as conn:
        for minute, row in enumerate(OLD_ROWS, start=1):
            kind, actor, said, data, source, key = (*row, None, None)[:6]
            conn.execute(
                text(
                    "INSERT INTO timeline_events (incident_id, kind, actor_id, text, occurred_at, recorded_at, "
                    "source, source_key, data) VALUES (1, :kind, :actor, :text, :at, :at, :source, :key, :data)"
                ),
                {
                    "kind": kind,
                    "actor": actor,
                    "text": said,
                    "at": now + timedelta(minutes=60 if kind == "update_missed" else minute),
                    "source": source,
                    "key": key,
                    "data": json.dumps(data),
                },
            )
    db.upgrade(engine)
    return [DECLARED] + [row[2] for row in sorted(OLD_ROWS, key=lambda r: r[0] == "update_missed")]


def test_old_rows_become_facts_and_read_as_before_in_slack_the_cli_and_the_json(sessions, old_rows):
    with sessions() as s:
        incident = get_incident(s, 1)
        entries = visible_events(s, incident)
        assert [event_mrkdwn(e, ref=incident.ref) for e in entries] == old_rows
        assert [sentence(e, ref=incident.ref, style=PLAIN) for e in incident.events] == old_rows
        assert [e.text for e in entries if e.kind in ("acknowledged", "role_handover", "reminder_sent")] == [""] * 4
        assert next(e.text for e in entries if e.kind == "followup_added") == "Alert on *5xx* rates"
        page = timeline_page(s, incident, per_page=100)
        shown = json.dumps(
            [b.to_dict() for b in timeline_blocks(incident, page, tz=incident.declared_at.tzinfo, command="/incident")]
        )
        data = build(s, incident, now=incident.declared_at + timedelta(hours=3))
    assert "mitigate handed over from <@U03CAROL> to <@U04DAN> by <@U03CAROL>" in shown
    assert [e["text"] for e in json.loads(render_json(data))["timeline"]] == old_rows


def test_old_rows_read_as_before_in_the_markdown_draft(sessions, old_rows):
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=get_incident(s, 1).declared_at + timedelta(hours=3))
    draft = render_markdown(data)
    assert "Acknowledged by @U02BOB\n" in draft
    assert "@U03CAROL took the mitigate role (assigned by @U02BOB)\n" in draft
    assert "Follow-up added: Alert on **5xx** rates (owner @U03CAROL)\n" in draft
    assert (
        "Stakeholder-update reminder sent to @U02BOB (acknowledge), asking someone to take the communicate role"
        in draft
    )
    assert "Note by @U03CAROL: flushed @U04DAN's cache" in draft
    assert f"Declared from a message by @U04DAN: {LINK}" in draft


def test_the_downgrade_writes_the_old_rows_back_as_they_were(engine, old_rows):
    db.downgrade(engine, "0001")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, text, data FROM timeline_events ORDER BY occurred_at, id")).all()
    assert [r.text for r in rows] == old_rows
    stored = {(r.kind, r.text): r.data if isinstance(r.data, dict) else json.loads(r.data) for r in rows}
    assert all(stored[(row[0], row[2])] == row[3] for row in OLD_ROWS)
    db.upgrade(engine)
