"""Jira Cloud REST API v3 (also Jira Data Center at its own base URL), with basic auth: the account's email and
an API token (JIRA_EMAIL, JIRA_API_TOKEN).

Create: `POST {JIRA_BASE_URL}/rest/api/3/issue` with `fields`: `project.key`, `issuetype.name`, `summary` (at
most 255 characters, one line), `description` (an Atlassian Document Format document), `labels` (no spaces),
and `assignee.accountId` when the team names one. Jira answers 201 `{id, key, self}`; 400 `{errorMessages,
errors: {field: message}}` for an unknown project, a missing field or an issue type the project lacks; 401/403
for credentials; 429 with Retry-After when rate-limited.

Jira Data Center / Server (`JIRA_API_VERSION=2`): the same calls under `/rest/api/2/`, the description as plain
text (it has no ADF), `assignee.name` (the user name: Data Center has no account ids), and a personal access
token as `Authorization: Bearer` when no JIRA_EMAIL is set.

Create answers no status (the workflow's first one is unknown until the first read).

Read: `GET /rest/api/3/issue/{key}?fields=status`: `fields.status.name` (the workflow's word) and
`fields.status.statusCategory.key` (`new`, `indeterminate`, `done`): "done" means the follow-up is done. Jira
sends no ETag, so each poll is a plain GET of the one issue (cheap: one field).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from app.integrations.tracker.http import body_of, call
from incidents.tickets import NewTicket, Paragraph, Seen, TicketRef, TrackerRefused

SUMMARY_MAX = 255
VENDOR = "Jira"


def adf(paragraphs: tuple[Paragraph, ...]) -> dict[str, Any]:
    """The body as an Atlassian Document Format document: one paragraph node per paragraph, links as text with
    a link mark (ADF allows no empty text node)."""
    content = []
    for paragraph in paragraphs:
        nodes: list[dict[str, Any]] = []
        for span in paragraph:
            if not span.text:
                continue
            node: dict[str, Any] = {"type": "text", "text": span.text}
            if span.href:
                node["marks"] = [{"type": "link", "attrs": {"href": span.href}}]
            nodes.append(node)
        if nodes:
            content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def plain_text(paragraphs: tuple[Paragraph, ...]) -> str:
    """The body for Jira Data Center's v2 API: paragraphs separated by a blank line, links as `text (url)`."""
    out = []
    for paragraph in paragraphs:
        text = "".join(f"{span.text} ({span.href})" if span.href else span.text for span in paragraph)
        if text.strip():
            out.append(text)
    return "\n\n".join(out)


def summary(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= SUMMARY_MAX else title[: SUMMARY_MAX - 1] + "…"


class Jira:
    name = "jira"

    def __init__(
        self,
        base_url: str,
        *,
        email: str,
        token: str,
        timeout: float,
        api_version: str = "3",
        transport: httpx.BaseTransport | None = None,
    ):
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/rest/api/{api_version}"
        self.version = api_version
        if email:
            credentials = base64.b64encode(f"{email}:{token}".encode()).decode()
            authorization = f"Basic {credentials}"
        else:  # a Jira Data Center personal access token
            authorization = f"Bearer {token}"
        self.headers = {"Authorization": authorization, "Accept": "application/json"}
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)

    def create(self, ticket: NewTicket) -> Seen:
        fields: dict[str, Any] = {
            "project": {"key": ticket.project},
            "issuetype": {"name": ticket.issue_type or "Task"},
            "summary": summary(ticket.title),
            "description": adf(ticket.body) if self.version == "3" else plain_text(ticket.body),
            "labels": [label.replace(" ", "-") for label in ticket.labels],
        }
        if ticket.assignee:  # Cloud knows people by account id; Data Center by user name
            fields["assignee"] = {"accountId" if self.version == "3" else "name": ticket.assignee}
        response = call(self.http, VENDOR, "POST", f"{self.api}/issue", json={"fields": fields}, headers=self.headers)
        body = body_of(response)
        key, issue_id = body.get("key"), body.get("id")
        if not isinstance(key, str) or not key:
            raise TrackerRefused(f"{VENDOR} answered {response.status_code} without an issue key")
        # Jira's answer has no status, and a workflow's first one is not always "To Do": unknown until read
        return Seen(key=key, external_id=str(issue_id or ""), url=self.browse(key), status="", done=False)

    def read(self, ref: TicketRef, *, etag: str | None = None) -> Seen | None:
        headers = dict(self.headers)
        if etag:
            headers["If-None-Match"] = etag
        url = f"{self.api}/issue/{quote(ref.key, safe='')}"
        response = call(self.http, VENDOR, "GET", url, headers=headers, params={"fields": "status"})
        if response.status_code == 304:
            return None
        status = (body_of(response).get("fields") or {}).get("status") or {}
        name = str(status.get("name") or "")
        category = str((status.get("statusCategory") or {}).get("key") or "")
        if not name and not category:
            raise TrackerRefused(f"{VENDOR} answered without the issue's status")
        return Seen(
            key=ref.key,
            external_id=ref.external_id,
            url=self.browse(ref.key),
            status=name or category,
            done=category == "done",
            etag=response.headers.get("ETag"),
        )

    def browse(self, key: str) -> str:
        return f"{self.base}/browse/{quote(key, safe='')}"
