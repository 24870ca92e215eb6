"""`incidents scheduler`: the reminder scheduler and the outbox worker, without the web server.

For deployments that scale the web process: run one (or more) `clock: incidents scheduler` processes and set
RUN_SCHEDULER_IN_WEB=false on the web processes, or leave it on; every combination sends each reminder once.
SIGTERM or SIGINT stops it cleanly: the tick in progress commits or rolls back, deliveries in progress finish.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
import structlog
from sqlalchemy.exc import OperationalError

from app.bootstrap import build_bot
from app.cli.common import database_problem, runtime_of
from app.delivery.scheduler import ReminderScheduler
from app.runtime import SchemaOutOfDate
from app.settings import SettingsError, required

log = structlog.get_logger("app.cli.scheduler")


@click.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Send stakeholder-update reminders (and deliver Slack effects) without serving HTTP: a Procfile `clock:`."""
    runtime = runtime_of(ctx)
    try:
        required(runtime.settings, "SLACK_BOT_TOKEN")
        runtime.ensure_schema()
        # The serving process's outbox worker, handlers and Slack client exactly; its Bolt app is built (without
        # needing the signing secret) but never served.
        bot = build_bot(runtime, socket_mode=True)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise database_problem(exc, runtime) from None
    worker = bot.worker
    reminders = ReminderScheduler(runtime, wake_outbox=worker.wake)  # whatever RUN_SCHEDULER_IN_WEB says

    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    worker.start()
    worker.wake()  # deliver what the last process left pending
    reminders.start()
    click.echo(f"Scheduler running: reminders every {reminders.interval_seconds:g}s. Stop with Ctrl-C or SIGTERM.")
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        reminders.shutdown(wait=True)
        worker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Scheduler stopped.")
