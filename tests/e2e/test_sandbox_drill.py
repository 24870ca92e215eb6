"""A whole incident drill in the sandbox, in a real headless Chromium driven by Playwright.

`incidents serve` runs as a subprocess with no Slack credentials (so it starts the sandbox) on a free port with
its data in a temporary folder; the browser declares an incident, acknowledges it, assigns the roles, posts an
update, skips ahead to see the reminder, resolves it (through the confirm dialog) and downloads the post-mortem,
both the export and the draft the bot uploads to the channel. Every wait is on a condition.

The browser is Debian's `chromium` (`make test` installs it when missing), or CHROMIUM_PATH. The screenshot of
the page mid-drill is saved next to the test's files, and to docs/sandbox.png when that file is missing or
UPDATE_SANDBOX_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.botprocess import free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "sandbox.png"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "No Chromium found for the end-to-end test: run `make test` (it installs Debian's chromium), "
            "or install it yourself, or set CHROMIUM_PATH."
        )
    return path


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`incidents serve` without Slack credentials; yields the page's address it printed."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SLACK_") and k not in ("DATABASE_URL", "HOST", "OWNERSHIP_MAP_PATH")
    }
    env |= {"PORT": str(port), "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "serve"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/sandbox"
    try:
        # The page serves a moment before the "Open ..." line is printed: wait for both, then check both.
        def started() -> bool:
            said = f"Open {url}" in (tmp_path / "serve.log").read_text()
            return (said and _answers(f"{url}/api/state")) or process.poll() is not None

        wait_for(started, "the sandbox to start and say where to open it")
        if process.poll() is not None:
            pytest.fail(f"the sandbox did not start:\n{(tmp_path / 'serve.log').read_text()}")
        assert f"Open {url}" in (tmp_path / "serve.log").read_text()
        assert _answers(f"{url}/api/state")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_a_drill_from_declaration_to_post_mortem(sandbox_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True)
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(sandbox_url)
            drill(page, expect, tmp_path)
            assert errors == []
        finally:
            browser.close()


def drill(page, expect, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    messages = page.locator("#messages")
    page.locator("#me").select_option(label="Alice Adams")
    expect(page.locator("#channel-title")).to_have_text("#incidents")

    # Declare: slash command -> modal -> submit
    page.locator("#composer-input").fill("/incident declare Checkout is down")
    page.locator("#composer-input").press("Enter")
    declare = page.get_by_role("dialog", name="Declare an incident")
    expect(declare.get_by_label("Title", exact=True)).to_have_value("Checkout is down")
    declare.get_by_label("Severity", exact=True).select_option("SEV2")
    declare.get_by_role("checkbox", name="checkout", exact=True).check()
    declare.get_by_label("What is happening").fill("Card payments fail for about 30% of customers.")
    snap(page, tmp_path, "1-declare-modal")
    declare.get_by_role("button", name="Declare").click()
    declared = page.get_by_role("dialog", name="Incident declared")  # the bot answers with response_action=update
    expect(declared).to_contain_text("INC-1")
    declared.get_by_role("button", name="Done").click()
    expect(declared).to_be_hidden()

    # The announcement links to the new channel; its card is there
    expect(messages).to_contain_text("INC-1")
    snap(page, tmp_path, "2-announced")
    page.locator("#channels a", has_text="inc-1-checkout-is-down").click()
    expect(page.locator("#channel-title")).to_have_text("#inc-1-checkout-is-down")
    card = messages.locator("article.message", has=page.get_by_role("button", name="Acknowledge"))
    expect(card).to_contain_text("Checkout is down")
    card = messages.locator(f'article[data-ts="{card.get_attribute("data-ts")}"]')  # the card, whatever follows

    # Acknowledge (card button): Alice leads
    card.get_by_role("button", name="Acknowledge").click()
    expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(card).to_contain_text("Alice Adams")

    # Assign the roles (modal with a person picker per role)
    card.get_by_role("button", name="Assign roles").click()
    roles = page.get_by_role("dialog", name="Assign roles")
    for role, person in (("mitigate", "Bob Brown"), ("investigate", "Carol Chen"), ("communicate", "Dan Diaz")):
        roles.get_by_label(re.compile(rf"\({role}\)")).select_option(label=person)
    snap(page, tmp_path, "3-roles-modal")
    roles.get_by_role("button", name="Assign").click()
    expect(roles).to_be_hidden()
    for person in ("Bob Brown", "Carol Chen", "Dan Diaz"):
        expect(card).to_contain_text(person)

    # Post a stakeholder update
    card.get_by_role("button", name="Post update").click()
    update = page.get_by_role("dialog", name="Stakeholder update")
    update.get_by_label("What is happening").fill("Rolled back the payment gateway deploy; errors are falling.")
    update.get_by_label("ETA").fill("30 minutes")
    update.get_by_role("button", name="Post update").click()
    expect(update).to_be_hidden()
    expect(messages).to_contain_text("Rolled back the payment gateway deploy")

    # Skip ahead: the reminder to the communicator shows at once
    page.get_by_role("button", name="+30 min").click()
    expect(page.locator("#clock-offset")).to_have_text("(+30 min)")
    reminder = messages.locator("article.message", has_text="no stakeholder update for")
    expect(reminder).to_be_visible()
    expect(reminder).to_contain_text("Dan Diaz")
    save_screenshot(page, tmp_path, card)

    # Resolve, through the confirm dialog
    card.get_by_role("button", name="Resolve").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_be_visible()
    snap(page, tmp_path, "4-confirm-resolve")
    confirm.get_by_role("button", name="Resolve").click()
    expect(card.get_by_role("button", name="Resolve")).to_have_count(0)
    expect(card).to_contain_text(re.compile("resolved", re.IGNORECASE))

    # Download the post-mortem draft
    link = page.locator("#incidents a", has_text="INC-1")
    with page.expect_download() as download:
        link.click()
    draft = Path(download.value.path()).read_text(encoding="utf-8")
    snap(page, tmp_path, "5-resolved")
    assert download.value.suggested_filename == "INC-1-postmortem.md"
    for expected in (
        "INC-1",
        "Checkout is down",
        "Card payments fail for about 30% of customers",
        "Rolled back the payment gateway deploy",
        "Alice Adams",
        "Dan Diaz",
        "checkout",
    ):
        assert expected in draft, f"{expected!r} missing from the post-mortem:\n{draft}"

    # The card's "Post-mortem draft" uploads the file to the channel (files_upload_v2); it downloads too
    card.get_by_role("button", name="Post-mortem draft").click()
    file_card = messages.locator("a.file-card", has_text="INC-1-postmortem.md")  # beside INC-1-timeline.png
    with page.expect_download() as upload:
        file_card.click()
    uploaded = Path(upload.value.path()).read_text(encoding="utf-8")
    assert upload.value.suggested_filename == "INC-1-postmortem.md"
    assert "Checkout is down" in uploaded and "Rolled back the payment gateway deploy" in uploaded


def test_a_drill_from_outside_slack_a_deploy_then_an_alert(sandbox_url, tmp_path):
    """CI records a deploy, Alertmanager fires: the alert declares an incident whose channel shows the deploy."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(sandbox_url)
            page.locator("#me").select_option(label="Alice Adams")
            page.get_by_role("button", name="Record a sample deploy").click()
            expect(page.locator("#toasts")).to_contain_text("Deploy of checkout")
            page.get_by_role("button", name="Fire a sample alert").click()
            expect(page.locator("#toasts")).to_contain_text("it declared an incident")
            messages = page.locator("#messages")
            expect(messages).to_contain_text("INC-1")  # the announcement in #incidents
            page.locator("#channels a", has_text="inc-1-checkout-error-rate").click()
            expect(messages).to_contain_text("What changed recently")
            expect(messages).to_contain_text("rolled out to production")  # the deploy recorded a moment ago
            card = messages.locator("article.message", has=page.get_by_role("button", name="Acknowledge"))
            expect(card).to_contain_text("Checkout error rate above 5%")
            expect(card).to_contain_text("SEV1")
            expect(messages).to_contain_text("you own checkout, affected by INC-1")
            expect(messages).to_contain_text("An alert declared it.")  # not "Someone": nobody did
            snap(page, tmp_path, "outside-slack")
            assert errors == []
        finally:
            browser.close()


def snap(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """A picture of each step, kept with the test's files (look at them when the test fails)."""
    page.screenshot(path=str(tmp_path / f"step-{name}.png"))


def save_screenshot(page, tmp_path: Path, card) -> None:  # type: ignore[no-untyped-def]
    """The incident channel with its card at the top and the reminder below."""
    page.set_viewport_size({"width": 1360, "height": 1200})
    card.evaluate("node => node.scrollIntoView({block: 'start'})")
    shot = tmp_path / "sandbox.png"
    page.screenshot(path=str(shot))
    page.set_viewport_size({"width": 1360, "height": 900})
    if not SCREENSHOT.exists() or os.environ.get("UPDATE_SANDBOX_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
