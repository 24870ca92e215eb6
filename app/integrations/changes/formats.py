"""The two shapes `POST /changes` takes, read into `incidents.changes.NewChange`:

- ours: `{"service", "kind", "summary", "who", "version", "link", "occurred_at", "external_id", "details"}`
  (only service, kind and summary are required; unknown fields are refused, so a typo is not lost);
- a PagerDuty change event as PagerDuty's Events API v2 takes it (`/v2/change/enqueue`): `routing_key`,
  `payload {summary, timestamp, source, custom_details}`, `links [{href, text}]`. The service is
  `payload.custom_details.service`, else `payload.source`; the kind is `custom_details.kind`, else `deploy`;
  who and version come from `custom_details` (`who`/`author`/`user`, `version`/`revision`/`commit`/
  `build_number`); the link is the first of `links`. A change event has no id of its own, so its external id is
  a hash of the event: the same event sent again is stored once. The routing key is not kept.

A document is one object or a list of them (of either shape), at most `MAX_ITEMS`."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.http.webhook import Rejected
from incidents.changes import NewChange

MAX_ITEMS = 100
PAGERDUTY = "pagerduty"
WHO_KEYS = ("who", "author", "user", "triggered_by")
VERSION_KEYS = ("version", "revision", "commit", "sha", "build_number")


class OurChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str
    kind: str
    summary: str
    who: str = ""
    version: str = ""
    link: str | None = None
    occurred_at: datetime | None = None
    external_id: str | None = None
    source: str | None = None  # who sent it (`cli` from `incidents changes record`); `api` when not said
    details: dict[str, Any] = Field(default_factory=dict)

    def change(self, *, source: str) -> NewChange:
        return NewChange(
            service=self.service,
            kind=self.kind,
            summary=self.summary,
            who=self.who,
            version=self.version,
            link=self.link,
            source=self.source or source,
            external_id=self.external_id,
            details=self.details,
            occurred_at=self.occurred_at,
        )


class PagerDutyLink(BaseModel):
    model_config = ConfigDict(extra="ignore")

    href: str
    text: str | None = None


class PagerDutyPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str
    timestamp: datetime | None = None
    source: str | None = None
    custom_details: dict[str, Any] = Field(default_factory=dict)


class PagerDutyChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    routing_key: str | None = None
    payload: PagerDutyPayload
    links: list[PagerDutyLink] = Field(default_factory=list)

    def change(self, raw: dict[str, Any]) -> NewChange:
        details = dict(self.payload.custom_details)
        service = _text(details.get("service")) or (self.payload.source or "").strip()
        if not service:
            raise Rejected(
                400,
                "a PagerDuty change event must say which service changed: "
                "set payload.custom_details.service (or payload.source)",
            )
        link = self.links[0].href if self.links else None
        kept = {k: v for k, v in raw.items() if k != "routing_key"}
        digest = hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:40]
        extra: dict[str, Any] = {"custom_details": details}
        if self.payload.source:
            extra["source"] = self.payload.source
        if len(self.links) > 1 or (self.links and self.links[0].text):
            extra["links"] = [link.model_dump() for link in self.links]
        return NewChange(
            service=service,
            kind=_text(details.get("kind")) or "deploy",
            summary=self.payload.summary,
            who=next((_text(details[k]) for k in WHO_KEYS if _text(details.get(k))), ""),
            version=next((_text(details[k]) for k in VERSION_KEYS if _text(details.get(k))), ""),
            link=link,
            source=PAGERDUTY,
            external_id=f"{PAGERDUTY}:{digest}",
            details=extra,
            occurred_at=self.payload.timestamp,
        )


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def is_pagerduty(item: Any) -> bool:
    """A PagerDuty change event has a `payload` object; ours never has one."""
    return isinstance(item, dict) and isinstance(item.get("payload"), dict)


def read(document: Any, *, source: str) -> list[NewChange]:
    """The change events in a parsed JSON document; `Rejected(400)` listing every problem by its field path."""
    items = document if isinstance(document, list) else [document]
    if not items:
        raise Rejected(400, "the list is empty; send at least one change event")
    if len(items) > MAX_ITEMS:
        raise Rejected(400, f"the list has {len(items)} change events; send at most {MAX_ITEMS} at a time")
    changes: list[NewChange] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(document, list) else ""
        if not isinstance(item, dict):
            problems.append(f"{where or 'the body'}: expected a JSON object, got {type(item).__name__}")
            continue
        try:
            if is_pagerduty(item):
                changes.append(PagerDutyChange.model_validate(item).change(item))
            else:
                changes.append(OurChange.model_validate(item).change(source=source))
        except ValidationError as exc:
            problems.extend(field_errors(exc, prefix=where))
        except Rejected as exc:
            problems.append(f"{where} {exc.message}".strip())
    if problems:
        raise Rejected(400, "the change event is not valid: " + "; ".join(problems), details=problems)
    return changes


def field_errors(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """pydantic's errors as `path: message` (`[1].payload.summary: Field required`)."""
    out = []
    for error in exc.errors(include_url=False):
        path = prefix
        for part in error.get("loc") or ():
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        out.append(f"{path or 'the body'}: {error.get('msg', 'invalid value')}")
    return out
