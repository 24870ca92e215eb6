"""The threads Bolt runs listeners in, built so that an ack never waits behind another request's slow work.

Bolt (`process_before_response=False`) submits each listener to one executor and answers Slack when the listener
calls `ack()`; the listener then carries on with its work after the ack (Slack calls, views.open...) in the same
thread. With a plain fixed pool, a burst of slow post-ack work fills every thread and the next request's listener
waits in the queue, past Slack's 3-second deadline, although its ack would take a millisecond.

Here only listeners that have not acked yet count against `max_workers` (LISTENER_THREADS). When a listener acks,
its thread stops counting and finishes the post-ack work on its own, while an idle or new thread takes the next
listener. So acks wait only for other acks, never for post-ack work. Threads that fall idle linger a while for
the next request, at most `max_workers` of them.

Each listener runs with the submitting request's contextvars (its log context); the request's summary line is
told when the work is done; `wait_idle()` waits until no listener is running (tests, benchmarks).
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol

from app.observability import request_log

IDLE_SECONDS = 30.0  # how long an idle thread waits for work before it stops


class Answerable(Protocol):
    def when_answered(self, callback: Callable[[], None]) -> None: ...


# The ack of the request being dispatched (set by the request middleware, copied into the listener's context).
current_ack: contextvars.ContextVar[Answerable | None] = contextvars.ContextVar("current_ack", default=None)


@dataclass
class _Task:
    context: contextvars.Context
    fn: Callable[[], Any]
    future: Future[Any]
    log: request_log.RequestLog | None


class ContextExecutor(Executor):
    def __init__(self, max_workers: int, thread_name_prefix: str = "listener"):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self.thread_name_prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._handed_off = threading.Condition(self._lock)  # idle threads wait on it for a handoff
        self._all_done = threading.Condition(self._lock)  # wait_idle waits on it
        self._queued: deque[_Task] = deque()  # waiting for a slot
        self._handoff: deque[_Task] = deque()  # given a slot, waiting for an idle thread to take them
        self._before_ack = 0  # slots in use: listeners running that have not acked yet
        self._idle = 0  # threads waiting for a handoff
        self._running = 0  # submitted and not finished (queued ones included)
        self._threads: set[threading.Thread] = set()
        self._count = 0
        self._shutdown = False

    # --- Executor ---------------------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        log = request_log.current()
        future: Future[Any] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new listeners after shutdown")
            if log is not None:
                log.work_started()
            self._running += 1
            self._queued.append(_Task(context, lambda: context.run(fn, *args, **kwargs), future, log))
            self._dispatch()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new listeners; with `wait`, let the running ones (post-ack work included) finish."""
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._queued:
                    task = self._queued.popleft()
                    task.future.cancel()
                    if task.log is not None:
                        task.log.work_finished()
                    self._finished()
            self._handed_off.notify_all()
        while wait:  # threads started meanwhile (queued listeners getting a slot) are waited for too
            with self._lock:
                threads = [t for t in self._threads if t is not threading.current_thread()]
            if not threads:
                return
            for thread in threads:
                thread.join()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._all_done.wait_for(lambda: self._running == 0, timeout)

    # --- inside -----------------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Give free slots to queued listeners: to an idle thread, or a new one. Called with the lock held."""
        while self._queued and self._before_ack < self.max_workers:
            task = self._queued.popleft()
            self._before_ack += 1
            if self._idle > len(self._handoff):
                self._handoff.append(task)
                self._handed_off.notify()
            else:
                self._count += 1
                thread = threading.Thread(
                    target=self._work, args=(task,), name=f"{self.thread_name_prefix}-{self._count}", daemon=True
                )
                self._threads.add(thread)
                thread.start()

    def _work(self, task: _Task | None) -> None:
        try:
            while task is not None:
                self._run(task)
                task = self._next()
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _next(self) -> _Task | None:
        with self._lock:
            if self._shutdown and not self._queued:
                return None
            if self._idle >= self.max_workers:
                return None  # enough threads wait already: this one (a post-ack one) stops
            self._idle += 1
            try:
                self._handed_off.wait_for(lambda: self._handoff or self._shutdown, IDLE_SECONDS)
            finally:
                self._idle -= 1
            return self._handoff.popleft() if self._handoff else None

    def _run(self, task: _Task) -> None:
        released = False

        def release() -> None:
            """The listener acked (or ended): its slot goes to the next listener; its thread carries on."""
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._before_ack -= 1
                self._dispatch()

        try:
            if not task.future.set_running_or_notify_cancel():
                return
            ack = task.context.get(current_ack)
            if ack is not None:
                ack.when_answered(release)  # at once if the request was acked before the listener ran (events)
            try:
                task.future.set_result(task.fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the future, as ThreadPoolExecutor does
                task.future.set_exception(exc)
        finally:
            release()
            if task.log is not None:
                task.log.work_finished()
            with self._lock:
                self._finished()

    def _finished(self) -> None:
        self._running -= 1
        self._all_done.notify_all()
