"""What the alert formats share: pydantic errors as plain field paths, text the database can store, UTC times."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from app.http.webhook import Rejected

LINK_MAX = 2000
DEDUP_MAX = 255
DETAILS_MAX = 20  # error lines shown


def path_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the body)"


def rejected(exc: ValidationError, what: str) -> Rejected:
    """400 with one line per problem: `alerts[0].startsAt: Input should be a valid datetime`."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if p not in ("function-after", "function-before"))
        message = "missing" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        lines.append(f"{path_of(loc)}: {message}")
    more = len(lines) - DETAILS_MAX
    shown = lines[:DETAILS_MAX] + ([f"... and {more} more"] if more > 0 else [])
    return Rejected(400, f"this is not {what}: {shown[0]}", details=shown)


def utc(value: datetime | None, path: str) -> datetime | None:
    """In UTC; Alertmanager's zero time (0001-01-01) means none."""
    if value is None or value.year < 1970:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Rejected(400, f"{path}: the time is out of range") from None


def labels_key(labels: Mapping[str, str]) -> str:
    """A stable key for an alert without a fingerprint: a hash of its sorted labels."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def link_or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value[:LINK_MAX] if value else None
