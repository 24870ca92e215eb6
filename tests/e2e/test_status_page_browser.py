"""The status page as a stakeholder reads it, in Debian's Chromium driven by Playwright: `incidents serve` (the real
bot under gunicorn) with the status page on a port of its own; an open and a resolved incident with their updates,
a private one that never shows; then an update posted in Slack (a signed slash command) arrives on the open page
without anyone reloading it. Every wait is on a condition."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.sandbox.workspace import Workspace
from incidents import service
from incidents.db import make_engine, make_session_factory
from incidents.models import Incident
from incidents.process import Process
from incidents.queries import get_incident
from tests.e2e.botprocess import BotProcess, free_port
from tests.e2e.test_sandbox_drill import CHROMIUM_FLAGS, WAIT_MS, chromium_path
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e
ALICE = "U01ALICE"


def seed(database_url: str) -> None:
    """Yesterday's resolved incident (1h 15m), today's open one, and a private one: each with an update."""
    engine = make_engine(database_url)
    sessions, process, now = make_session_factory(engine), Process(), datetime.now(UTC)
    try:
        with sessions.begin() as s:
            old = service.declare(
                s,
                title="Search is slow",
                severity="SEV3",
                reporter_id=ALICE,
                now=now - timedelta(days=1),
                process=process,
            )
            service.post_status_update(
                s,
                old,
                text="The index is rebuilt; *search is fast* again.",
                author_id=ALICE,
                now=now - timedelta(days=1, minutes=-60),
                process=process,
            )
            service.resolve(s, old, by=ALICE, now=now - timedelta(days=1, minutes=-75), process=process)
            new = service.declare(
                s,
                title="Checkout is down",
                severity="SEV1",
                reporter_id=ALICE,
                now=now - timedelta(minutes=20),
                process=process,
            )
            service.post_status_update(
                s,
                new,
                text="Card payments fail; <@U02BOB> is rolling back.",
                author_id=ALICE,
                now=now - timedelta(minutes=10),
                process=process,
                eta="30 minutes",
            )
            secret = service.declare(
                s,
                title="Payroll data exposed",
                severity="SEV1",
                reporter_id=ALICE,
                now=now,
                process=process,
                private=True,
            )
            service.post_status_update(s, secret, text="Legal is informed.", author_id=ALICE, now=now, process=process)
    finally:
        engine.dispose()


def channel_of(database_url: str, ref: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            number = get_incident(s, ref).number
            return s.scalar(select(Incident.channel_id).where(Incident.number == number))
    finally:
        engine.dispose()


def test_a_stakeholder_reads_the_status_page_and_sees_an_update_arrive(
    database_url: str, workspace: tuple[Workspace, object], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ws, api = workspace
    seed(database_url)
    status_port = free_port()
    bot = BotProcess(
        database_url=database_url,
        api=api,
        data_dir=tmp_path,  # type: ignore[arg-type]
        STATUS_PAGE_ENABLED="true",
        STATUS_PAGE_PORT=str(status_port),
        STATUS_PAGE_TITLE="Acme status",
        STATUS_PAGE_MAX_AGE_SECONDS="1",
        OUTBOX_POLL_SECONDS="0.2",
    )
    try:
        bot.start()
        wait_for(lambda: channel_of(database_url, "INC-2"), "the open incident's channel")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.set_default_timeout(WAIT_MS)
                expect.set_options(timeout=WAIT_MS)
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
                page.goto(f"http://127.0.0.1:{status_port}/")
                read(page, expect, tmp_path)
                arrive(page, expect, bot, ws, database_url, tmp_path)
                assert errors == []
            finally:
                browser.close()
    finally:
        bot.stop()


def read(page, expect, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expect(page).to_have_title("Acme status")
    expect(page.get_by_role("heading", name="Acme status")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("1 current incident")
    current = page.get_by_role("region", name="Current incidents")
    past = page.get_by_role("region", name=re.compile(r"Past incidents \(last 90 days\)"))
    open_one = current.get_by_role("article", name="INC-2: Checkout is down")
    expect(open_one).to_be_visible()
    expect(open_one).to_contain_text("Investigating")
    expect(open_one).to_contain_text("SEV1")
    expect(open_one).to_contain_text("Card payments fail; a team member is rolling back.")
    expect(open_one).to_contain_text("ETA: 30 minutes")
    resolved = past.get_by_role("article", name="INC-1: Search is slow")
    expect(resolved).to_contain_text("Resolved")
    expect(resolved).to_contain_text("lasted 1h 15m")
    expect(resolved.locator("strong", has_text="search is fast")).to_be_visible()
    expect(page.get_by_text("Payroll")).to_have_count(0)
    expect(page.get_by_text("Legal is informed")).to_have_count(0)
    expect(page.get_by_text("U02BOB")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "status-1-read.png"), full_page=True)


def arrive(page, expect, bot: BotProcess, ws: Workspace, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    open_one = page.get_by_role("article", name="INC-2: Checkout is down")
    expect(open_one.get_by_role("listitem")).to_have_count(1)
    said = bot.slack(ws).slash_command(
        ALICE,
        channel_of(database_url, "INC-2"),
        "/incident",
        "update Rolled back; payments recover.",  # type: ignore[arg-type]
    )
    assert said.in_time
    # nobody reloads: the page notices the change in the JSON feed and shows it
    expect(open_one.get_by_role("listitem")).to_have_count(2)
    expect(open_one.get_by_role("listitem").first).to_contain_text("Rolled back; payments recover.")
    expect(page.get_by_text("Payroll")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "status-2-arrived.png"), full_page=True)
