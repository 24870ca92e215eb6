"""What reaches the bot: strangers get 401 before anything is parsed; the word "payload" breaks nothing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from app.http.wsgi import make_wsgi_app
from app.sandbox.client import wsgi_deliver


def test_an_unsigned_malformed_interaction_gets_401_and_no_schema_details(harness):
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{}]})}).encode()
    status, _, answer = wsgi_deliver(make_wsgi_app(harness.app))(
        body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 401
    assert b"action_id" not in answer and b"payload" not in answer


def test_a_command_in_a_channel_named_after_payloads_reaches_the_bot(harness):
    """Bolt alone parses any form containing "payload" as empty; the bot parses it as the command it is."""
    incident = harness.declare("Webhook payloads rejected")
    channel = incident.channel_id
    assert "payload" in harness.workspace.channel(channel).name
    result = harness.command("ack", channel=channel)
    assert result.status == 200
    assert harness.incident(incident.number).acknowledged_at is not None


def test_a_note_mentioning_the_payload_service_is_recorded(harness):
    incident = harness.declare("Checkout is failing")
    result = harness.command("note the payload service is down", channel=incident.channel_id)
    assert result.status == 200
    notes = [e.text for e in harness.events(incident.number, "note")]
    assert notes == ["the payload service is down"]
