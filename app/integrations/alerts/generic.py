"""Our generic alert format, for whatever is not Alertmanager or Grafana (CI, cron jobs, scripts): one JSON
object, or `{"alerts": [...]}` with up to 1,000 of them.

    {"title": "Nightly backup failed", "severity": "error", "service": "billing",
     "dedup_key": "backup-2026-12-03", "status": "firing", "link": "https://ci.example.com/jobs/81",
     "details": {"job": "backup", "exit_code": 2}}

`title` is required; `status` is `firing` (the default) or `resolved`; `dedup_key` defaults to a hash of the
title and service; `labels` (strings) may add more for the routing rules. Unknown fields are refused (a typo in
`sevrity` would otherwise route the alert wrongly)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.http.webhook import Rejected
from app.integrations.alerts.common import DEDUP_MAX, LINK_MAX, labels_key, link_or_none, rejected, utc
from incidents.alert_rules import AlertRules
from incidents.alerts import IncomingAlert

ALERTS_MAX = 1000


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=500)
    severity: str | None = Field(default=None, max_length=100)
    service: str | None = Field(default=None, max_length=200)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=DEDUP_MAX)
    status: Literal["firing", "resolved"] = "firing"
    link: str | None = Field(default=None, max_length=LINK_MAX)
    details: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class GenericBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: list[GenericAlert] = Field(min_length=1, max_length=ALERTS_MAX)


def parse(body: Any, *, source: str, rules: AlertRules) -> list[IncomingAlert]:
    if not isinstance(body, dict):
        raise Rejected(400, 'send one alert as a JSON object, or {"alerts": [...]}')
    try:
        alerts = GenericBatch.model_validate(body).alerts if "alerts" in body else [GenericAlert.model_validate(body)]
    except ValidationError as exc:
        raise rejected(exc, "a generic alert (title, severity, service, dedup_key, status, link, details)") from None
    out = []
    for index, alert in enumerate(alerts):
        labels = dict(alert.labels)
        if alert.severity:
            labels[rules.severity_label] = alert.severity
        if alert.service:
            labels[rules.service_label] = alert.service
        where = f"alerts[{index}]" if "alerts" in body else ""
        out.append(
            IncomingAlert(
                source=source,
                dedup_key=alert.dedup_key or labels_key({"title": alert.title, "service": alert.service or ""}),
                status=alert.status,
                title=alert.title,
                severity=alert.severity,
                labels=labels,
                details=alert.details,
                link=link_or_none(alert.link),
                starts_at=utc(alert.starts_at, f"{where}.starts_at".lstrip(".")),
                ends_at=utc(alert.ends_at, f"{where}.ends_at".lstrip(".")),
            )
        )
    return out
