"""Trigger ids and views: modal stacks per user (3 deep at most) and App Home tabs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.sandbox.blockkit import with_generated_ids
from app.sandbox.errors import ApiError, Err
from app.sandbox.ids import IdFactory
from app.sandbox.models import JSON, Trigger, View

TRIGGER_TTL_SECONDS = 3.0
MAX_MODAL_STACK = 3


class Modals:
    def __init__(self, lock: threading.RLock, ids: IdFactory, clock: Callable[[], float]) -> None:
        self._lock = lock
        self._ids = ids
        self._clock = clock
        self._triggers: dict[str, Trigger] = {}
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}

    # trigger ids: single use, expire 3 seconds after issue

    def issue_trigger_id(self, user_id: str) -> str:
        with self._lock:
            trigger_id = f"{self._ids.now()}.{self._ids.serial()}.{self._ids.token(32)}"
            self._triggers[trigger_id] = Trigger(trigger_id, user_id, self._clock())
            return trigger_id

    def exchange(self, trigger_id: str) -> Trigger:
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise ApiError(Err.INVALID_TRIGGER_ID)
            if trigger.used:
                raise ApiError(Err.EXCHANGED_TRIGGER_ID)
            if self._clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
                raise ApiError(Err.EXPIRED_TRIGGER_ID)
            trigger.used = True
            return trigger

    # views

    def view(self, view_id: str) -> View:
        with self._lock:
            view = self._views.get(view_id)
            if view is None or not view.is_open:
                raise ApiError(Err.NOT_FOUND)
            return view

    def stack(self, user_id: str) -> list[View]:
        """The user's open modal views, root first."""
        with self._lock:
            return [self._views[v] for v in self._stacks.get(user_id, [])]

    def home(self, user_id: str) -> View | None:
        with self._lock:
            view_id = self._homes.get(user_id)
            return self._views[view_id] if view_id else None

    def open(self, trigger_id: str, body: JSON) -> View:
        with self._lock:
            self._check_external_id(body)
            user = self.exchange(trigger_id).user
            for old in self.stack(user):
                old.is_open = False
            view = self._new_view(user, body, previous=None)
            self._stacks[user] = [view.id]
            return view

    def push(self, trigger_id: str, body: JSON) -> View:
        with self._lock:
            return self.push_for(self.exchange(trigger_id).user, body)

    def push_for(self, user_id: str, body: JSON) -> View:
        """Push without a trigger, as `response_action: push` does."""
        with self._lock:
            stack = self._stacks.get(user_id, [])
            if not stack:
                raise ApiError(Err.NOT_FOUND)
            if len(stack) >= MAX_MODAL_STACK:
                raise ApiError(Err.PUSH_LIMIT_REACHED)
            self._check_external_id(body)
            view = self._new_view(user_id, body, previous=self._views[stack[-1]])
            stack.append(view.id)
            return view

    def update(self, *, view_id: str | None, external_id: str | None, body: JSON, hash: str | None) -> View:
        with self._lock:
            view = self._find(view_id, external_id)
            if hash is not None and hash != view.hash:
                raise ApiError(Err.HASH_CONFLICT)
            self._check_external_id(body, allowed=view)
            view.body = self._filled(body)
            view.external_id = str(body.get("external_id") or view.external_id)
            view.hash = self._new_hash()
            return view

    def publish(self, user_id: str, body: JSON, hash: str | None = None) -> View:
        with self._lock:
            current = self.home(user_id)
            if current is not None:
                if hash is not None and hash != current.hash:
                    raise ApiError(Err.HASH_CONFLICT)
                current.body = self._filled(body)
                current.hash = self._new_hash()
                return current
            view = self._new_view(user_id, body, previous=None)
            self._homes[user_id] = view.id
            return view

    def close(self, view_id: str) -> None:
        """The view leaves the user's stack with everything pushed above it (Slack's 'Back' or submit)."""
        with self._lock:
            view = self.view(view_id)
            stack = self._stacks.get(view.user, [])
            if view_id in stack:
                for gone in stack[stack.index(view_id) :]:
                    self._views[gone].is_open = False
                del stack[stack.index(view_id) :]

    def clear(self, user_id: str) -> None:
        with self._lock:
            for view in self.stack(user_id):
                view.is_open = False
            self._stacks[user_id] = []

    def _find(self, view_id: str | None, external_id: str | None) -> View:
        if view_id:
            return self.view(view_id)
        for view in self._views.values():
            if external_id and view.external_id == external_id and view.is_open:
                return view
        raise ApiError(Err.NOT_FOUND)

    def _check_external_id(self, body: JSON, allowed: View | None = None) -> None:
        external_id = body.get("external_id")
        if not external_id:
            return
        for view in self._views.values():
            if view.external_id == external_id and view.is_open and view is not allowed:
                raise ApiError(Err.DUPLICATE_EXTERNAL_ID)

    def _new_view(self, user: str, body: JSON, previous: View | None) -> View:
        view_id = self._ids.new("V")
        root = previous.root_view_id if previous else view_id
        view = View(
            id=view_id,
            user=user,
            body=self._filled(body),
            hash=self._new_hash(),
            root_view_id=root,
            previous_view_id=previous.id if previous else None,
            external_id=str(body.get("external_id") or ""),
        )
        self._views[view_id] = view
        return view

    def _filled(self, body: JSON) -> JSON:
        return {**body, "blocks": with_generated_ids(body.get("blocks") or [], self._ids.short)}

    def _new_hash(self) -> str:
        return f"{self._ids.now()}.{self._ids.token(8)}"
