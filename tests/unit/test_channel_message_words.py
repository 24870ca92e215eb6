"""Channel messages are queued as facts (`incidents.service._say`) and worded in mrkdwn when they are posted;
a message queued before that, with its text already written, is posted as it is."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.slack.blocks.facts import message_mrkdwn
from incidents import service
from incidents.effects import Effect
from incidents.models import Base, OutboxMessage
from incidents.process import Process

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def test_each_change_queues_a_fact_that_reads_as_before():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    process = Process()
    with Session(engine) as s:
        incident = service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=NOW, process=process)
        service.change_severity(s, incident, severity="SEV1", by="U2", now=NOW, process=process)
        service.mark_mitigated(s, incident, by="U2", now=NOW)
        service.resolve(s, incident, by="U3", now=NOW, process=process)
        service.reopen(s, incident, by="U3", now=NOW, process=process)
        payloads = s.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == Effect.CHANNEL_MESSAGE.value)
            .order_by(OutboxMessage.id)
        ).all()
    assert all("text" not in p and p["fact"] for p in payloads)
    assert [message_mrkdwn(p) for p in payloads] == [
        "Severity changed from SEV2 to *SEV1* by <@U2>.",
        "<@U2> marked INC-1 as *mitigated*: service is restored. Next: find the root cause.",
        "<@U3> resolved INC-1. Reminders stop here. Export the post-mortem draft when you are ready.",
        "<@U3> reopened INC-1. Stakeholder-update reminders start again.",
    ]


def test_a_message_queued_with_its_text_is_posted_as_it_is():
    assert message_mrkdwn({"text": "<@U2> resolved INC-7.", "by": "U2"}) == "<@U2> resolved INC-7."
