"""Steps of one effect already done, kept on its outbox row so that a retry skips them.

Each step is saved in its own short transaction as soon as it is done (only while this worker still holds the
lease); the handler returns `progress.result()` so the final settle keeps them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from incidents.models import OutboxMessage


class Progress:
    def __init__(self, sessions: sessionmaker[Session], message: OutboxMessage):
        self._sessions = sessions
        self._message = message
        self._steps: dict[str, Any] = dict((message.result or {}).get("steps") or {})

    def done(self, step: str) -> bool:
        return step in self._steps

    def get(self, step: str) -> Any:
        return self._steps.get(step)

    def mark(self, step: str, value: Any = True) -> None:
        self._steps[step] = value
        with self._sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == self._message.id, OutboxMessage.claim_token == self._message.claim_token)
                .values(result={"steps": dict(self._steps)})
            )

    def result(self, **extra: Any) -> dict[str, Any]:
        return {"steps": dict(self._steps), **extra}
