"""Where the status page is served: nowhere unless enabled; under /status on the bot's port; or alone on
STATUS_PAGE_PORT, where nothing else of the bot answers (no /slack/events) and the bot's port has no /status.
Through the real composition root (`build_bot`) behind real HTTP servers, and through `incidents serve`
(gunicorn) with a stakeholder update posted by a signed slash command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.bootstrap import build_bot
from app.cli.serve import run_server
from app.http.server import HttpServer, gunicorn_options
from app.runtime import Runtime
from app.sandbox.server import RunningServer, serve_in_thread
from app.sandbox.webapi import make_web_api
from app.sandbox.workspace import Workspace
from app.settings import SettingsError, load_settings
from incidents.db import make_engine, make_session_factory
from incidents.models import Incident
from tests.e2e.botprocess import BotProcess, free_port
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET
from tests.statuspage.site import Clock, Site, make_runtime, request
from tests.waiting import wait_for


@pytest.fixture
def api() -> Iterator[tuple[Workspace, RunningServer]]:
    workspace = Workspace().seed_default()
    running = serve_in_thread(make_web_api(workspace))
    yield workspace, running
    running.stop()


def bot_runtime(database_url: str, api: RunningServer, **settings: object) -> Runtime:
    return make_runtime(
        database_url,
        Clock(),
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.base_url,
        **settings,
    )


def test_the_status_page_is_off_unless_enabled(database_url: str, api) -> None:  # type: ignore[no-untyped-def]
    runtime = bot_runtime(database_url, api[1], status_page_enabled=False)
    assert load_settings(_env_file=None).status_page_enabled is False
    server = serve_in_thread(build_bot(runtime, owners=None).wsgi)
    try:
        for target in ("/status", "/status/", "/status/feed.json", "/status/feed.atom"):
            assert request(server, "GET", target).status == 404, target
        assert request(server, "GET", "/healthz").status == 200
    finally:
        server.stop()
        runtime.close()


def test_enabled_without_a_port_it_is_under_status_on_the_bots_port(database_url: str, api) -> None:  # type: ignore[no-untyped-def]
    runtime = bot_runtime(database_url, api[1])
    server = serve_in_thread(build_bot(runtime, owners=None).wsgi)
    site = Site(runtime, runtime.clock, server)  # type: ignore[arg-type]
    try:
        ref = site.declare("Checkout is down")
        site.update(ref, "Rolling back.")
        for target in ("", "/", "/feed.json", "/feed.atom"):
            answer = site.get(target)
            assert answer.status == 200 and ref in answer.text, target
        assert request(server, "GET", "/healthz").status == 200  # the bot is still all there
        assert request(server, "POST", "/slack/events").status == 401  # unsigned, as ever
    finally:
        server.stop()
        runtime.close()


def test_on_its_own_port_only_the_status_page_answers_there(database_url: str, api) -> None:  # type: ignore[no-untyped-def]
    status_port = free_port()
    runtime = bot_runtime(database_url, api[1], status_page_port=status_port)
    wsgi = build_bot(runtime, owners=None).wsgi
    main, status = serve_in_thread(wsgi), serve_in_thread(wsgi, port=status_port)
    site = Site(runtime, runtime.clock, status, prefix="")  # type: ignore[arg-type]
    try:
        ref = site.declare("Checkout is down")
        site.update(ref, "Rolling back.")
        for target in ("/", "/feed.json", "/feed.atom"):
            answer = site.get(target)
            assert answer.status == 200 and ref in answer.text, target
        assert f'"feed_url": "http://localhost:{status_port}/feed.json"' in site.get("/feed.json").text
        for method, target in (
            ("POST", "/slack/events"),
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/metrics"),
            ("POST", "/alerts/prometheus"),
            ("POST", "/changes"),
            ("GET", "/status/"),
        ):
            answer = request(status, method, target)
            assert answer.status == 404 and "The status page is at /" in answer.text, target
        # The Host header never reaches the bot through the status page's port
        assert request(status, "POST", "/slack/events", {"Host": f"127.0.0.1:{runtime.settings.port}"}).status == 404
        assert request(main, "GET", "/status/").status == 404  # and the bot's port has no /status
        assert request(main, "GET", "/healthz").status == 200
    finally:
        main.stop()
        status.stop()
        runtime.close()


def test_gunicorn_listens_on_the_status_port_too(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        port=4321,
        status_page_enabled=True,
        status_page_port=4322,
        status_page_host="127.0.0.1",
    )
    assert gunicorn_options(settings)["bind"] == ["0.0.0.0:4321", "127.0.0.1:4322"]
    assert HttpServer(Runtime(settings), build_bot).cfg.bind == ["0.0.0.0:4321", "127.0.0.1:4322"]
    assert gunicorn_options(load_settings(_env_file=None, port=4321, status_page_port=4322))["bind"] == "0.0.0.0:4321"


def test_bad_status_page_settings_stop_start_up_naming_the_variable(tmp_path: Path) -> None:
    for given, says in (
        ({"port": 4000, "status_page_port": 4000}, "STATUS_PAGE_PORT is 4000, the bot's own PORT"),
        ({"status_page_port": 70000}, "STATUS_PAGE_PORT: Input should be less than or equal to 65535"),
        ({"status_page_days": 0}, "STATUS_PAGE_DAYS: Input should be greater than or equal to 1"),
        ({"status_page_url": "status.example.com"}, "STATUS_PAGE_URL: 'status.example.com' is not the page's"),
        ({"status_page_title": ""}, "STATUS_PAGE_TITLE: String should have at least 1 character"),
        ({"status_page_max_age_seconds": -1}, "STATUS_PAGE_MAX_AGE_SECONDS: Input should be greater than"),
    ):
        with pytest.raises(SettingsError) as caught:
            load_settings(_env_file=None, **given)
        assert says in str(caught.value), given
    assert load_settings(_env_file=None, status_page_port="").status_page_port is None


def test_socket_mode_with_the_status_page_says_it_cannot_serve_it(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_app_token="xapp-1-abc",
        status_page_enabled=True,
    )
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert "STATUS_PAGE_ENABLED: Socket Mode serves no HTTP" in str(caught.value)


@pytest.mark.e2e
def test_incidents_serve_shows_an_update_posted_in_slack_on_the_status_port_at_once(
    database_url: str,
    api,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    workspace, web_api = api
    status_port = free_port()
    bot = BotProcess(
        database_url=database_url,
        api=web_api,
        data_dir=tmp_path,
        STATUS_PAGE_ENABLED="true",
        STATUS_PAGE_PORT=str(status_port),
        OUTBOX_POLL_SECONDS="0.2",
    )
    status = RunningServer(f"http://127.0.0.1:{status_port}/", None, None)  # type: ignore[arg-type]
    try:
        bot.start()
        slack = bot.slack(workspace)
        assert slack.slash_command("U01ALICE", "C0INCIDENTS", "/incident", "declare Checkout is down").in_time
        wait_for(lambda: workspace.open_views("U01ALICE"), "the declare modal")
        [view] = workspace.open_views("U01ALICE")
        slack.submit_view("U01ALICE", view.id, {"declare_severity": {"declare_severity": "SEV2"}})

        def channel() -> str | None:
            engine = make_engine(database_url)
            try:
                with make_session_factory(engine)() as session:
                    return session.scalar(select(Incident.channel_id).where(Incident.number == 1))
            finally:
                engine.dispose()

        wait_for(channel, "the incident's channel")
        assert "No update has been posted yet." in request(status, "GET", "/").text
        said = slack.slash_command("U01ALICE", channel(), "/incident", "update Rolling back the *checkout* deploy.")
        assert said.in_time
        # the listener saves it just after acking: it shows as soon as it is saved, with no cache to wait out
        shown = "Rolling back the <strong>checkout</strong> deploy."
        wait_for(lambda: shown in request(status, "GET", "/").text, "the update on the status page")
        assert "Rolling back the checkout deploy." in request(status, "GET", "/feed.json").text
        # the status port is the status page only; the bot's port has everything else and no /status
        assert request(status, "POST", "/slack/events").status == 404
        assert request(status, "GET", "/readyz").status == 404
        assert request(RunningServer(bot.url + "/", None, None), "GET", "/status/").status == 404  # type: ignore[arg-type]
    finally:
        bot.stop()
