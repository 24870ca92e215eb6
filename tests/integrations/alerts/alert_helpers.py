"""Sample payloads as the vendors send them and the headers that authenticate them, for the alert tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MAP = HERE / "ownership.yml"
RULES = HERE / "rules.yml"
SECRETS = {
    "TEST_ALERTMANAGER_TOKEN": "am-token-0123456789",
    "TEST_GRAFANA_SECRET": "grafana-hmac-secret",
    "TEST_CI_TOKEN": "ci-token-abcdef",
}
AM_AUTH = {"Authorization": f"Bearer {SECRETS['TEST_ALERTMANAGER_TOKEN']}"}
CI_AUTH = {"Authorization": f"Bearer {SECRETS['TEST_CI_TOKEN']}"}
TRIAGE_CHANNEL = "alerts-triage"


def am_alert(
    name: str = "HighErrorRate",
    *,
    service: str | None = "checkout",
    severity: str = "critical",
    status: str = "firing",
    fingerprint: str | None = "1a30ba71cca2921f",
    summary: str | None = "Checkout 5xx above 5%",
    **labels: str,
) -> dict[str, Any]:
    """One alert of an Alertmanager webhook (payload version 4)."""
    all_labels = {"alertname": name, "severity": severity, **labels}
    if service is not None:
        all_labels["service"] = service
    alert: dict[str, Any] = {
        "status": status,
        "labels": all_labels,
        "annotations": {"description": "5xx ratio over 5m"} | ({"summary": summary} if summary else {}),
        "startsAt": "2026-12-03T08:55:00.000Z",
        "endsAt": "2026-12-03T09:10:00.000Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29",
    }
    if fingerprint is not None:
        alert["fingerprint"] = fingerprint
    return alert


def am_payload(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """The whole webhook body, as Alertmanager 0.27 sends it."""
    alerts = alerts or (am_alert(),)
    common = dict(alerts[0]["labels"]) if len(alerts) == 1 else {}
    return {
        "version": "4",
        "groupKey": '{}/{severity="critical"}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status or alerts[0]["status"],
        "receiver": "incident-bot",
        "groupLabels": {"alertname": str(alerts[0]["labels"].get("alertname", ""))},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": list(alerts),
    }


def grafana_payload(**overrides: Any) -> dict[str, Any]:
    """Grafana alerting's webhook contact point: the Alertmanager shape plus Grafana's own fields."""
    alert = am_alert("DiskFull", service="ledger", severity="error", fingerprint="c6eadffa33fcdf37", summary="Disk 95%")
    alert |= {
        "silenceURL": "https://grafana.example.com/alerting/silence/new?matchers=alertname%3DDiskFull",
        "dashboardURL": "https://grafana.example.com/d/ledger",
        "panelURL": "https://grafana.example.com/d/ledger?viewPanel=2",
        "values": {"B": 95.2, "C": 1},
        "valueString": "[ var='B' labels={} value=95.2 ]",
    }
    body = am_payload(alert) | {
        "version": "1",
        "orgId": 1,
        "title": "[FIRING:1] DiskFull",
        "state": "alerting",
        "message": "**Firing**\nDisk 95%",
    }
    return body | overrides


def grafana_headers(raw: bytes, *, timestamp: str, secret: str = SECRETS["TEST_GRAFANA_SECRET"]) -> dict[str, str]:
    """Grafana's HMAC: hex HMAC-SHA256 of `<timestamp>:<body>` when a timestamp header is configured."""
    signature = hmac.new(secret.encode(), timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Grafana-Alerting-Signature": signature, "X-Grafana-Alerting-Timestamp": timestamp}


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()
