"""The reminder scheduler: APScheduler 3 runs `incidents.reminders.tick` every REMINDER_TICK_SECONDS, and
prunes the change events older than CHANGE_RETENTION_DAYS every hour (a second job; pruning twice deletes
nothing more, so replicas may all run it), and asks every minute whether the weekly digest is due (a third job;
the week's unique `digests` row makes it once across replicas, see incidents.digest).

One interval job in memory, never overlapping itself (`max_instances=1`) and never replaying missed runs
(`coalesce=True`, any lateness accepted): the schedule lives in the incident rows, so the next run sees
everything due, however long the pause. Several schedulers (web replicas, an `incidents scheduler` process) may
run together against one database: each tick claims its rows with SKIP LOCKED, so each reminder is sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from app.runtime import Runtime
from incidents import changes, digest, reminders, review, tickets
from incidents.reminders import TickResult

if TYPE_CHECKING:
    from app.slack.deps import Deps

log = structlog.get_logger("app.delivery.scheduler")
JOB_ID = "stakeholder-update-reminders"
PRUNE_JOB_ID = "change-event-retention"
TICKET_JOB_ID = "ticket-status-sync"
TICKET_CHECK_SECONDS = 30  # how often each scheduler looks for tickets due a read (TICKET_SYNC_SECONDS apart)
REVIEW_JOB_ID = "post-mortem-review-reminders"
PRUNE_INTERVAL_SECONDS = 3600
DIGEST_JOB_ID = "weekly-digest"
DIGEST_CHECK_SECONDS = 60  # how often each scheduler asks whether the weekly digest is due


def _nothing() -> None:
    return None


class ReminderScheduler:
    """`start()` then `shutdown()`; `run_once()` is the job, callable directly (tests, the CLI)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        wake_outbox: Callable[[], None] = _nothing,
        interval_seconds: float | None = None,
        batch: int = 100,
    ):
        self.runtime = runtime
        self.wake_outbox = wake_outbox
        self.interval_seconds = interval_seconds or runtime.settings.reminder_tick_seconds
        self.batch = batch
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )
        # APScheduler logs every run at INFO ("Running job ..."); keep its warnings and errors only.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Run each job now (catching up after downtime at once), then at its interval: the reminder tick every
        `interval_seconds`, the change-event pruning, the review meetings, the weekly digest and the ticket sync."""
        jobs = (
            (self.run_once, self.interval_seconds, JOB_ID),
            (self.prune_changes, PRUNE_INTERVAL_SECONDS, PRUNE_JOB_ID),
            (self.review_tick, self.interval_seconds, REVIEW_JOB_ID),
            (self.digest_tick, DIGEST_CHECK_SECONDS, DIGEST_JOB_ID),
            (self.ticket_tick, TICKET_CHECK_SECONDS, TICKET_JOB_ID),
        )
        for job, seconds, job_id in jobs:
            self._scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                id=job_id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),
                replace_existing=True,
            )
        self._scheduler.start()
        log.info("scheduler.started", tick_seconds=self.interval_seconds)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop; with `wait`, a tick in progress finishes (its transaction commits or rolls back) first."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            log.info("scheduler.stopped")

    def stop(self) -> None:
        """`app.http.server`'s background-service interface."""
        self.shutdown(wait=True)

    def run_once(self) -> TickResult | None:
        """One tick. A failure is logged and rolled back; the next tick tries again (nothing is lost)."""
        try:
            result = reminders.tick(
                self.runtime.sessions, now=self.runtime.now(), process=self.runtime.process, batch=self.batch
            )
        except Exception:  # the job must survive a database hiccup
            log.exception("reminders.tick_failed")
            return None
        if result.sent:
            log.info(
                "reminders.tick",
                reminders=result.reminders,
                escalations=result.escalations,
                gaps=result.gaps,
                examined=result.examined,
            )
            self.wake_outbox()
        return result

    def review_tick(self) -> review.TickResult | None:
        """The post-mortem reviews' reminders (incidents.review.tick), on the same interval as the stakeholder
        updates'; exactly once across replicas the same way. A failure is logged; the next run tries again."""
        try:
            result = review.tick(
                self.runtime.sessions, now=self.runtime.now(), process=self.runtime.process, batch=self.batch
            )
        except Exception:  # the job must survive a database hiccup
            log.exception("review.tick_failed")
            return None
        if result.sent:
            log.info("review.tick", reminders=result.reminders, nags=result.nags, examined=result.examined)
            self.wake_outbox()
        return result

    def digest_tick(self) -> bool | None:
        """Enqueue the weekly digest when it is due (DIGEST_DAY, DIGEST_TIME): once across replicas, by the week's
        unique `digests` row (incidents.digest). True when this scheduler enqueued it; None when it failed (logged)."""
        settings = self.runtime.settings
        schedule = digest.Schedule(
            day=settings.digest_day,
            at=settings.digest_time,
            timezone=settings.timezone,
            channel=settings.digest_channel or settings.announcements_channel,
        )
        try:
            with self.runtime.sessions.begin() as session:
                sent = digest.request_due(session, now=self.runtime.now(), schedule=schedule)
        except Exception:  # the job must survive a database hiccup
            log.exception("digest.request_failed")
            return None
        if sent is not None:
            log.info("digest.requested", week=sent.week, channel=sent.channel)
            self.wake_outbox()
        return sent is not None

    def prune_changes(self) -> int | None:
        """Delete the change events older than CHANGE_RETENTION_DAYS; how many went (None: it failed, logged,
        and the next run tries again)."""
        retention = timedelta(days=self.runtime.settings.change_retention_days)
        try:
            with self.runtime.sessions.begin() as session:
                pruned = changes.prune(session, now=self.runtime.now(), retention=retention)
        except Exception:  # the job must survive a database hiccup
            log.exception("changes.prune_failed")
            return None
        if pruned:
            log.info("changes.pruned", count=pruned, retention_days=retention.days)
        return pruned

    def ticket_tick(self) -> int | None:
        """Enqueue a TICKET_SYNC for every open ticket due a read (incidents.tickets.claim_due: claimed with SKIP
        LOCKED and moved on in the same transaction, so each is read once per TICKET_SYNC_SECONDS across replicas).
        How many were enqueued; None when it failed (logged; the next run tries again)."""
        every = timedelta(seconds=self.runtime.settings.ticket_sync_seconds)
        total = 0
        try:
            while True:
                with self.runtime.sessions.begin() as session:
                    claimed = tickets.claim_due(session, now=self.runtime.now(), sync_every=every, limit=self.batch)
                total += claimed
                if claimed < self.batch:
                    break
        except Exception:  # the job must survive a database hiccup
            log.exception("tickets.sync_tick_failed")
            return None
        if total:
            log.info("tickets.sync_due", count=total)
            self.wake_outbox()
        return total


class _Off:
    """RUN_SCHEDULER_IN_WEB=false: a separate `incidents scheduler` process sends the reminders."""

    def start(self) -> None:
        log.info("scheduler.not_in_web", hint="run `incidents scheduler` (a clock process) for reminders")

    def stop(self) -> None:
        return None


def build(deps: Deps) -> ReminderScheduler | _Off:
    """For `app.http.server.BACKGROUND_MODULES`: the scheduler inside each serving process, unless turned off."""
    if not deps.settings.run_scheduler_in_web:
        return _Off()
    return ReminderScheduler(deps.runtime, wake_outbox=lambda: deps.wake_outbox())
