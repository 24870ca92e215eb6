"""`incidents serve`: checks what can be checked in this (main) process, then chooses how the bot is served:
the local sandbox (no Slack credentials at all), Socket Mode (an app token) or HTTP on gunicorn. This is the one
module that imports the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.exc import OperationalError

from app.bootstrap import build_bot, load_alert_rules, load_ownership
from app.cli.common import database_problem, runtime_of
from app.http.server import HttpServer, run_socket_mode
from app.runtime import Runtime, SchemaOutOfDate
from app.settings import Settings, SettingsError, required


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the bot: the Slack app over HTTP (or Socket Mode), the scheduler and the outbox worker.

    With no Slack credentials set, it runs in the sandbox: a local Slack workspace at http://127.0.0.1:PORT/sandbox.
    """
    runtime = runtime_of(ctx)

    def ensure_schema() -> None:  # production only: the sandbox never opens DATABASE_URL
        try:
            runtime.ensure_schema()
        except SchemaOutOfDate as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            raise database_problem(exc, runtime) from None

    try:
        run_server(runtime, prepare=ensure_schema)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


SANDBOX, SOCKET_MODE, HTTP = "sandbox", "socket mode", "http"


def serving_mode(settings: Settings) -> str:
    """No Slack credentials at all: the local sandbox; an app token: Socket Mode; otherwise HTTP."""
    if (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token) == (None, None, None):
        return SANDBOX
    return SOCKET_MODE if settings.slack_app_token is not None else HTTP


def run_server(runtime: Runtime, *, prepare: Callable[[], None] = lambda: None) -> None:
    """Check everything that can be checked in this (main) process first, so that a bad setting is one clear
    message instead of gunicorn workers dying one after another; `prepare()` runs for production only (the
    database schema: the sandbox has a database of its own)."""
    settings = runtime.settings
    mode = serving_mode(settings)
    if mode == HTTP:
        required(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    elif mode == SOCKET_MODE:
        required(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
        if settings.status_page_enabled:  # Socket Mode serves no HTTP at all: say so rather than serve nothing
            raise SettingsError(
                [
                    "STATUS_PAGE_ENABLED: Socket Mode serves no HTTP, so no status page; serve over HTTP (unset "
                    "SLACK_APP_TOKEN) or unset STATUS_PAGE_ENABLED"
                ]
            )
    load_ownership(settings)  # an invalid ownership map stops start-up here, before any worker starts
    load_alert_rules(settings, runtime.process)  # and so do invalid alert rules (FILE:LINE: MESSAGE)
    if mode == SANDBOX:
        from app.sandbox.run import run_sandbox  # the bot runs in the local sandbox

        run_sandbox(runtime)
        return
    prepare()
    if mode == SOCKET_MODE:
        run_socket_mode(runtime, build_bot)
    else:
        HttpServer(runtime, build_bot).run()
