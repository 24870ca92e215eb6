"""`incidents scheduler` as a process (the Procfile's `clock:`): it reminds, delivers, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli.main import main
from app.sandbox.webapi import make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from incidents import db, service
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus, Role
from incidents.process import Process
from tests.waiting import wait_for

INCIDENTS = Path(sys.executable).with_name("incidents")


def reminder_row(sessions) -> OutboxMessage | None:
    with sessions() as s:
        return s.scalar(select(OutboxMessage).where(OutboxMessage.kind == Effect.REMINDER.value))


def delivered(sessions) -> bool:
    row = reminder_row(sessions)
    return row is not None and row.status == OutboxStatus.DONE


def reminded_in_channel(workspace: Workspace) -> list:
    return [
        c
        for c in workspace.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel", "").startswith("C") and "no stakeholder update" in c.args.get("text", "")
    ]


@pytest.mark.e2e
def test_the_clock_process_sends_a_due_reminder_and_stops_cleanly_on_sigterm(database_url, tmp_path):
    workspace = Workspace().seed_default()
    slack = serve_in_thread(make_web_api(workspace))
    engine = db.make_engine(database_url)
    sessions = db.make_session_factory(engine)
    try:
        declared = datetime.now(UTC) - timedelta(minutes=31)
        with sessions.begin() as s:
            incident = service.declare(
                s, title="Checkout down", severity="SEV2", reporter_id="U01ALICE", now=declared, process=Process()
            )
            service.assign_role(s, incident, role=Role.COMMUNICATE, user_id="U01CAROL", by="U01ALICE", now=declared)
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.base_url,
            "REMINDER_TICK_SECONDS": "1",
            "OUTBOX_POLL_SECONDS": "0.2",
            "LOG_FORMAT": "json",
        }
        clock = subprocess.Popen(
            [str(INCIDENTS), "scheduler"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: delivered(sessions) or clock.poll() is not None, "the reminder to be delivered")
            assert clock.poll() is None, clock.communicate()
        finally:
            clock.send_signal(signal.SIGTERM)
            out, err = clock.communicate(timeout=30)
        assert clock.returncode == 0, err
        assert "Scheduler stopped." in out
        [posted] = reminded_in_channel(workspace)
        assert "U01CAROL" in posted.args["text"]
        assert delivered(sessions), err
        [direct] = [
            c
            for c in workspace.calls_to("chat.postMessage")
            if c.args.get("channel") == workspace.direct_channel("U01CAROL").id
            and "no stakeholder update" in c.args.get("text", "")
        ]
        assert direct.ok
        assert "scheduler.stopping" in err
    finally:
        engine.dispose()
        slack.stop()


def test_the_clock_process_needs_a_bot_token(database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["scheduler"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN" in result.output
