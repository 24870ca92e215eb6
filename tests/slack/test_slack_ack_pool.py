"""Acks never wait behind slow work: with every listener thread's post-ack work stuck in slow Slack calls, a new
request is still answered at once; and views.open gets one short try, since its trigger dies after 3 seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from app.http.wsgi import make_wsgi_app
from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, wsgi_deliver
from app.sandbox.delivery import Result
from app.sandbox.workspace import Workspace
from app.settings import Settings
from app.slack.bolt_app import build_app, shutdown
from app.slack.client import build_client
from app.slack.deps import Deps
from app.slack.ids import CardAction
from app.slack.listener_pool import ContextExecutor, current_ack
from tests.slack.slack_harness import ALICE, BOB, CAROL, GENERAL, SIGNING_SECRET, Clock, Harness
from tests.waiting import wait_for

LISTENER_THREADS = 2


def real_app(settings: Settings, clock: Clock, workspace: Workspace, **changes: object) -> Harness:
    runtime = Runtime(settings.model_copy(update=changes), clock=clock)
    deps = Deps.build(runtime, build_client(runtime.settings))
    app = build_app(deps)
    slack = SlackClientSimulator(workspace, wsgi_deliver(make_wsgi_app(app)), signing_secret=SIGNING_SECRET)
    return Harness(workspace=workspace, slack=slack, app=app, deps=deps, clock=clock)


@pytest.fixture
def small_pool(settings: Settings, clock: Clock, workspace: Workspace) -> Iterator[Harness]:
    """The real app with only two listener threads."""
    h = real_app(settings, clock, workspace, listener_threads=LISTENER_THREADS)
    yield h
    shutdown(h.app)
    h.runtime.engine.dispose()


@pytest.fixture
def patient(settings: Settings, clock: Clock, workspace: Workspace) -> Iterator[Harness]:
    """The real app with the production timeout for Slack calls (10 s) and its retry handlers."""
    h = real_app(settings, clock, workspace, slack_timeout_seconds=10.0, slack_retry_max_wait_seconds=3.0)
    yield h
    shutdown(h.app)
    h.runtime.engine.dispose()


def test_help_is_answered_at_once_while_every_listener_thread_waits_on_slack(small_pool: Harness) -> None:
    h = small_pool
    h.workspace.faults.fail("views.open", delay=1.5, times=None)  # every form opens 1.5 seconds late
    declared: list[Result] = []
    senders = [
        threading.Thread(target=lambda: declared.append(h.slack.slash_command(ALICE, GENERAL, "/incident", "declare")))
        for _ in range(LISTENER_THREADS * 2)
    ]
    for sender in senders:
        sender.start()
    wait_for(lambda: len(declared) == len(senders), "every declare to be acked (their listeners wait on views.open)")
    started = time.monotonic()
    answer = h.slack.slash_command(BOB, GENERAL, "/incident", "help")
    waited = time.monotonic() - started
    assert answer.in_time and waited < 0.5, f"help took {waited:.2f} s"
    assert "runs incidents from Slack" in answer.json["text"]
    for sender in senders:
        sender.join(10)
    assert len(declared) == LISTENER_THREADS * 2
    assert all(result.in_time and result.elapsed < 0.5 for result in declared), [r.elapsed for r in declared]
    executor = h.app.listener_runner.listener_executor
    assert executor.wait_idle(10)
    h.workspace.faults.clear()
    assert len(h.calls("views.open")) == LISTENER_THREADS * 2  # every form opened, after the acks


def test_a_click_is_acked_while_slow_clicks_hold_every_listener_thread(small_pool: Harness) -> None:
    h = small_pool
    incident = h.declare()
    h.workspace.latency = 1.5  # every Slack Web API call is slow now
    card = (incident.channel_id, incident.card_ts)
    acked: list[Result] = []
    slow = [
        threading.Thread(target=lambda: acked.append(h.slack.click(CAROL, *card, CardAction.POST_UPDATE, None)))
        for _ in range(LISTENER_THREADS * 2)
    ]
    for sender in slow:
        sender.start()
    wait_for(lambda: len(acked) == len(slow), "every slow click to be acked (their listeners wait on views.open)")
    answer = h.slack.click(BOB, *card, CardAction.ACKNOWLEDGE, None)
    assert answer.in_time and answer.elapsed < 0.5, answer.elapsed
    for sender in slow:
        sender.join(10)
    assert h.app.listener_runner.listener_executor.wait_idle(10)
    h.workspace.latency = 0
    assert h.incident().acknowledged_at is not None


def test_a_form_slack_does_not_open_in_time_is_given_up_after_one_short_try(patient: Harness) -> None:
    patient.workspace.faults.fail("views.open", delay=3.5)  # past the trigger's life
    started = time.monotonic()
    patient.command("declare", settle=False)
    assert patient.app.listener_runner.listener_executor.wait_idle(10)
    took = time.monotonic() - started
    assert took < 3.0, f"the listener waited {took:.1f} s (retried, or no short timeout)"
    assert patient.last_reply() == "I could not open the form: Slack did not answer in time. Please try again."


class FakeAck:
    """What the pool needs of Bolt's ack: a callback once the answer is set."""

    def __init__(self) -> None:
        self.callbacks: list = []
        self.answered = False

    def when_answered(self, callback) -> None:  # type: ignore[no-untyped-def]
        if self.answered:
            callback()
        else:
            self.callbacks.append(callback)

    def __call__(self) -> None:
        self.answered = True
        for callback in self.callbacks:
            callback()


def test_the_pool_limits_listeners_before_their_ack_and_frees_a_slot_at_each_ack() -> None:
    pool = ContextExecutor(max_workers=2)
    started = [threading.Event() for _ in range(3)]
    finish = threading.Event()
    acks = [FakeAck() for _ in range(3)]

    def listener(n: int) -> None:
        started[n].set()
        assert finish.wait(10)

    for n, ack in enumerate(acks):
        token = current_ack.set(ack)  # as the request middleware does before Bolt submits the listener
        pool.submit(listener, n)
        current_ack.reset(token)
    assert started[0].wait(5) and started[1].wait(5)
    assert not started[2].wait(0.2), "a third listener ran before any of the first two acked"
    acks[0]()  # the first acks and goes on with its slow work
    assert started[2].wait(5), "the ack did not free its slot"
    finish.set()
    assert pool.wait_idle(5)
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(listener, 0)


def test_the_pool_runs_listeners_of_acked_requests_at_once() -> None:
    """Events API requests are acked before their listener runs: they take no slot."""
    pool = ContextExecutor(max_workers=1)
    release, ran = threading.Event(), threading.Event()
    ack = FakeAck()
    ack()
    token = current_ack.set(ack)
    pool.submit(release.wait, 10)
    current_ack.reset(token)
    pool.submit(ran.set)  # no ack in its context: it holds its slot until done
    assert ran.wait(5)
    release.set()
    assert pool.wait_idle(5)
    pool.shutdown()
