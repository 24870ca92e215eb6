"""GitHub Issues REST API (also GitHub Enterprise Server at its own API URL), with a token
(`Authorization: Bearer GITHUB_ISSUES_TOKEN`: a fine-grained token with Issues read and write on the
repositories, or a GitHub App installation token).

Create: `POST {GITHUB_API_URL}/repos/{owner}/{repo}/issues` with `title`, `body` (Markdown), `labels` and
`assignees` (the team's `assignee` login). GitHub answers 201 with the issue (`number`, `html_url`, `state`);
404 for a repository it does not know or the token cannot see, 410 when its issues are turned off, 422
"Validation Failed" with `errors` (an assignee who cannot be assigned, a missing title), 401 for a bad token,
403 with `x-ratelimit-remaining: 0` or 429 with Retry-After when rate-limited, 403 or 429 with Retry-After (or
"secondary rate limit" in the message) for its secondary limits; a renamed repository or a transferred issue
answers 301 to its new place (307 for a POST), which is followed.

Read: `GET /repos/{owner}/{repo}/issues/{number}` with `If-None-Match: <the last ETag>`: 304 when nothing
changed (and it does not count against the rate limit), else the issue: `state` open or closed (closed, for
whatever `state_reason`, means the follow-up is done).
"""

from __future__ import annotations

from typing import Any

import httpx

from app.integrations.tracker.http import body_of, call
from incidents.tickets import NewTicket, Paragraph, Seen, TicketRef, TrackerRefused

TITLE_MAX = 256
BODY_MAX = 65536
VENDOR = "GitHub"
API_VERSION = "2022-11-28"


def markdown(paragraphs: tuple[Paragraph, ...]) -> str:
    """The body in GitHub-flavoured Markdown: paragraphs separated by a blank line, links as `[text](url)`;
    what people wrote is escaped so that it reads as typed."""
    out = []
    for paragraph in paragraphs:
        text = "".join(
            f"[{_escape(span.text)}]({span.href})" if span.href else _escape(span.text) for span in paragraph
        )
        if text.strip():
            out.append(text)
    return "\n\n".join(out)[:BODY_MAX]


def _escape(text: str) -> str:
    for char in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|"):
        text = text.replace(char, "\\" + char)
    return text.replace("@", "@\u200b")  # no accidental mention of a GitHub user


def state_of(issue: dict[str, Any]) -> tuple[str, bool]:
    state = str(issue.get("state") or "")
    reason = issue.get("state_reason")
    words = f"{state} ({str(reason).replace('_', ' ')})" if state == "closed" and reason else state
    return words, state == "closed"


class GitHubIssues:
    name = "github"

    def __init__(self, api_url: str, *, token: str, timeout: float, transport: httpx.BaseTransport | None = None):
        self.base = api_url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)

    def create(self, ticket: NewTicket) -> Seen:
        body: dict[str, Any] = {
            "title": " ".join(ticket.title.split())[:TITLE_MAX],
            "body": markdown(ticket.body),
            "labels": list(ticket.labels),
        }
        if ticket.assignee:
            body["assignees"] = [ticket.assignee]
        url = f"{self.base}/repos/{ticket.project}/issues"
        response = call(self.http, VENDOR, "POST", url, json=body, headers=self.headers)
        return self._seen(ticket.project, body_of(response), response, status=response.status_code)

    def read(self, ref: TicketRef, *, etag: str | None = None) -> Seen | None:
        headers = dict(self.headers)
        if etag:
            headers["If-None-Match"] = etag
        url = f"{self.base}/repos/{ref.project}/issues/{ref.external_id}"
        response = call(self.http, VENDOR, "GET", url, headers=headers)
        if response.status_code == 304:
            return None
        return self._seen(ref.project, body_of(response), response, status=response.status_code)

    def _seen(self, project: str, issue: dict[str, Any], response: httpx.Response, *, status: int) -> Seen:
        number = issue.get("number")
        if not isinstance(number, int):
            raise TrackerRefused(f"{VENDOR} answered {status} without an issue number")
        words, done = state_of(issue)
        return Seen(
            key=f"{project}#{number}",
            external_id=str(number),
            url=str(issue.get("html_url") or ""),
            status=words,
            done=done,
            etag=response.headers.get("ETag"),
        )
