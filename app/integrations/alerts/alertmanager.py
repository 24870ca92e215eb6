"""Prometheus Alertmanager's webhook payload (version 4), which Grafana alerting's webhook contact point sends
too (with `orgId`, `title`, `message` and, per alert, `values`, `silenceURL`, `dashboardURL`, `panelURL`: extra
fields are accepted and ignored). One alert of the payload is one `IncomingAlert`; its dedup key is the alert's
`fingerprint`, or a hash of its sorted labels when there is none."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.http.webhook import Rejected
from app.integrations.alerts.common import DEDUP_MAX, labels_key, link_or_none, rejected, utc
from incidents.alert_rules import AlertRules
from incidents.alerts import IncomingAlert


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AlertmanagerAlert(_Open):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime  # Alertmanager spells its fields in camelCase
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(default="", max_length=DEDUP_MAX)


class AlertmanagerPayload(_Open):
    version: str = "4"
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert]


def parse(body: Any, *, source: str, rules: AlertRules) -> list[IncomingAlert]:
    """The payload's alerts in our terms; `Rejected(400)` naming each field that is wrong."""
    if not isinstance(body, dict):
        raise Rejected(400, "send the webhook payload as a JSON object (version, status, alerts, ...)")
    try:
        payload = AlertmanagerPayload.model_validate(body)
    except ValidationError as exc:
        raise rejected(exc, "an Alertmanager webhook payload (version 4)") from None
    out = []
    for index, alert in enumerate(payload.alerts):
        where = f"alerts[{index}]"
        details: dict[str, Any] = dict(alert.annotations)
        for extra in ("silenceURL", "dashboardURL", "panelURL"):
            value = (alert.model_extra or {}).get(extra)
            if isinstance(value, str) and value:
                details[extra] = value
        out.append(
            IncomingAlert(
                source=source,
                dedup_key=alert.fingerprint.strip() or labels_key(alert.labels),
                status=alert.status,
                title=alert.annotations.get(rules.title_annotation) or alert.labels.get("alertname", ""),
                severity=alert.labels.get(rules.severity_label),
                labels=alert.labels,
                details=details,
                link=link_or_none(alert.generatorURL or payload.externalURL),
                starts_at=utc(alert.startsAt, f"{where}.startsAt"),
                ends_at=utc(alert.endsAt, f"{where}.endsAt"),
            )
        )
    return out
