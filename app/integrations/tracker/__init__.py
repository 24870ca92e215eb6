"""Tickets for follow-ups: the adapters behind `incidents.tickets.Tracker`, one module per vendor (jira.py: Jira
Cloud REST v3; github.py: GitHub Issues REST), built once from the settings (base URLs, credentials,
TRACKER_TIMEOUT_SECONDS); `webhook.py` takes GitHub's `issues` events (POST /tickets/github).

A tracker is built only when its credentials are set (Jira: JIRA_BASE_URL and JIRA_API_TOKEN, with JIRA_EMAIL
for Cloud's basic auth, without it a Data Center personal access token;
GitHub: GITHUB_ISSUES_TOKEN). `check_trackers` runs at start-up: TICKET_DEFAULT or a team of the ownership map
naming a tracker that is not configured stops start-up, naming what to set (never a value)."""

from __future__ import annotations

from app.http.webhook import WSGIApp
from app.integrations.tracker import webhook
from app.integrations.tracker.github import GitHubIssues
from app.integrations.tracker.jira import Jira
from app.settings import Settings, SettingsError
from app.slack.deps import Deps
from incidents.owners import OwnershipStore
from incidents.tickets import Destination, Tracker

NEEDS = {
    "jira": "JIRA_BASE_URL and JIRA_API_TOKEN (and JIRA_EMAIL for Jira Cloud)",
    "github": "GITHUB_ISSUES_TOKEN",
}


def build_trackers(settings: Settings) -> dict[str, Tracker]:
    timeout = settings.tracker_timeout_seconds
    trackers: dict[str, Tracker] = {}
    if settings.jira_base_url and settings.jira_api_token is not None:
        trackers["jira"] = Jira(
            settings.jira_base_url,
            email=settings.jira_email.strip(),
            token=settings.jira_api_token.get_secret_value(),
            timeout=timeout,
            api_version=settings.jira_api_version,
        )
    if settings.github_issues_token is not None:
        trackers["github"] = GitHubIssues(
            settings.github_api_url, token=settings.github_issues_token.get_secret_value(), timeout=timeout
        )
    return trackers


def tracker_problems(settings: Settings, owners: OwnershipStore | None) -> list[str]:
    configured = set(build_trackers(settings))
    problems = []
    if settings.ticket_default:
        default = Destination.parse(settings.ticket_default)
        if default.tracker not in configured:
            problems.append(
                f"TICKET_DEFAULT sends tickets to {default.tracker}, which is not configured: set "
                f"{NEEDS[default.tracker]}, or change TICKET_DEFAULT"
            )
    if owners is not None:
        for team in owners.current().teams:
            if team.tracker is not None and team.tracker.service not in configured:
                problems.append(
                    f"team {team.name!r} files its tickets in {team.tracker.service}, which is not configured: "
                    f"set {NEEDS[team.tracker.service]}, or remove the team's tracker from the ownership map"
                )
    return problems


def check_trackers(settings: Settings, owners: OwnershipStore | None) -> None:
    """Start-up: raise SettingsError naming every tracker that is used but not configured."""
    problems = tracker_problems(settings, owners)
    if problems:
        raise SettingsError(problems)


def webhooks(deps: Deps) -> dict[str, WSGIApp]:
    return webhook.webhooks(deps)
