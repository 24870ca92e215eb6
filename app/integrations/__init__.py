"""Outside systems other than Slack, one package per port with one module per vendor behind it:

- `alerts/`: alerts in (Prometheus Alertmanager and Grafana alerting webhooks, a generic JSON format);
- `pager/`: paging out (PagerDuty Events API v2, Opsgenie Alert API v2);
- `changes/`: change events in (our JSON, PagerDuty change events, GitHub `deployment_status` webhooks);
- `tracker/`: follow-ups' tickets out (Jira Cloud, GitHub Issues) and GitHub `issues` webhooks in.

Every inbound endpoint is listed in `webhooks` below (nothing registers itself by being imported); every
outbound call is an outbox effect whose handler is listed in `app.delivery.handlers.GROUPS`."""

from __future__ import annotations

from app.http.webhook import WSGIApp
from app.integrations import alerts, changes, tracker
from app.slack.deps import Deps


def webhooks(deps: Deps) -> dict[str, WSGIApp]:
    """The inbound endpoints by path (a path ending in `/` takes every path under it)."""
    routes: dict[str, WSGIApp] = {}
    routes.update(alerts.route(deps))  # /alerts/<source> (404 saying so until ALERT_RULES_PATH is set)
    routes.update(changes.webhooks(deps))  # /changes, /changes/github
    routes.update(tracker.webhooks(deps))  # /tickets/github (GitHub `issues` events for follow-up tickets)
    return routes
