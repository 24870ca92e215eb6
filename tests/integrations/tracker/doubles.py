"""Local doubles of the two issue trackers: real HTTP servers on 127.0.0.1 in a thread, following the vendors'
documented request and answer shapes, with switches for what goes wrong.

- Jira Cloud REST v3 (basic auth, email:API token): `POST /rest/api/3/issue` with `fields` {project.key,
  issuetype.name, summary, description (an ADF document), labels, assignee.accountId (Data Center's v2:
  assignee.name)}: 201 `{id, key, self}`;
  400 `{"errorMessages": [], "errors": {field: message}}` for an unknown project ("valid project is required"),
  an issue type the project lacks, a missing or multi-line summary over 255 characters, a description that is
  not ADF, a label with a space; 401 without valid credentials. `GET /rest/api/3/issue/{key}?fields=status`: the
  status name and its category (new, indeterminate, done); 404 `errorMessages` for an unknown key. No ETag.
- GitHub Issues REST (`Authorization: Bearer`): `POST /repos/{owner}/{repo}/issues` {title, body, labels,
  assignees}: 201 with the issue; 401 "Bad credentials"; 404 "Not Found" for a repository it does not know; 422
  "Validation Failed" with `errors` for a missing title or an assignee who cannot be assigned.
  `GET /repos/{owner}/{repo}/issues/{number}`: the issue with an `ETag`, or 304 (no body) when `If-None-Match`
  matches.

Both: `outage = True` answers 503 to everything, `rate_limit(n, after)` answers the next n with 429 and
Retry-After, `fail_next(n, status, message)` the next n with that status; `requests` records every request.
GitHub also has `exhaust(n)`: 403 with `x-ratelimit-remaining: 0` (its primary rate limit); `secondary(n,
after)`: 403 with Retry-After and "You have exceeded a secondary rate limit" (remaining not 0); and `rename(old,
new)`: the old repository's URLs answer 301 to the new one (307 for a POST), as GitHub does for a renamed
repository.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


class TrackerDouble:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.outage = False
        self._rate_limited = 0
        self._retry_after = "1"
        self._failing: list[int] = []
        self._failing_message = "Internal Server Error"
        self.lock = threading.RLock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                parts = urlsplit(self.path)
                recorded = Recorded(
                    method,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                answer = double._answer(recorded)
                data = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                if answer.body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TrackerDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rate_limit(self, times: int, *, after: str = "1") -> None:
        with self.lock:
            self._rate_limited, self._retry_after = times, after

    def fail_next(self, times: int, status: int = 500, message: str = "Internal Server Error") -> None:
        with self.lock:
            self._failing = [status] * times
            self._failing_message = message

    def calls(self, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if method in (None, r.method)]

    def _answer(self, request: Recorded) -> Answer:
        with self.lock:
            self.requests.append(request)
            if self.outage:
                return Answer(503, {"message": "Service Unavailable"})
            if self._failing:
                return Answer(self._failing.pop(0), {"message": self._failing_message})
            if self._rate_limited:
                self._rate_limited -= 1
                return Answer(429, {"message": "Too Many Requests"}, {"Retry-After": self._retry_after})
            return self.handle(request)

    def handle(self, request: Recorded) -> Answer:
        raise NotImplementedError


SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
CATEGORIES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


class JiraDouble(TrackerDouble):
    """`projects`: project key -> the issue types it has. `issues`: key -> the stored issue."""

    def __init__(self, *, email: str, token: str, projects: dict[str, set[str]], data_center: bool = False):
        super().__init__()
        self.credentials = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self.version = "3"
        if data_center:  # Jira Data Center: REST v2, a personal access token, plain-text descriptions
            self.credentials, self.version = f"Bearer {token}", "2"
        self.projects = projects
        self.issues: dict[str, dict[str, Any]] = {}
        self._next_id = 10000

    def transition(self, key: str, name: str, category: str) -> None:
        with self.lock:
            self.issues[key]["status"] = {"name": name, "category": category}

    def handle(self, request: Recorded) -> Answer:
        if request.headers.get("authorization") != self.credentials:
            return Answer(
                401,
                {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]},
            )
        api = f"/rest/api/{self.version}/issue"
        if request.method == "POST" and request.path == api:
            return self._create(request.body)
        if request.method == "GET" and request.path.startswith(api + "/"):
            key = request.path.removeprefix(api + "/")
            issue = self.issues.get(key)
            if issue is None:
                return Answer(
                    404,
                    {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}},
                )
            status = issue["status"]
            return Answer(
                200,
                {
                    "id": issue["id"],
                    "key": key,
                    "self": f"{self.url}/rest/api/3/issue/{issue['id']}",
                    "fields": {
                        "status": {
                            "name": status["name"],
                            "statusCategory": {"key": status["category"], "name": CATEGORIES[status["category"]]},
                        }
                    },
                },
            )
        return Answer(404, {"errorMessages": ["Not Found"]})

    def _create(self, body: Any) -> Answer:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return Answer(400, {"errorMessages": ["Field 'fields' is required."], "errors": {}})
        errors: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            errors["project"] = "valid project is required"
        issue_type = (fields.get("issuetype") or {}).get("name")
        if project in self.projects and issue_type not in self.projects[project]:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        description = fields.get("description")
        if not (isinstance(description, str) if self.version == "2" else _is_adf(description)):
            errors["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        for label in fields.get("labels") or []:
            if " " in label:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        assignee = fields.get("assignee")
        person = "name" if self.version == "2" else "accountId"  # Cloud has no user names (GDPR), DC no ids
        if assignee is not None and (not isinstance(assignee, dict) or set(assignee) != {person}):
            errors["assignee"] = f"Specify the user by {person}"
        if errors:
            return Answer(400, {"errorMessages": [], "errors": errors})
        self._next_id += 1
        number = sum(1 for k in self.issues if k.startswith(f"{project}-")) + 1
        key = f"{project}-{number}"
        self.issues[key] = {
            "id": str(self._next_id),
            "fields": fields,
            "status": {"name": "To Do", "category": "new"},
        }
        return Answer(
            201, {"id": str(self._next_id), "key": key, "self": f"{self.url}/rest/api/3/issue/{self._next_id}"}
        )


def _is_adf(doc: Any) -> bool:
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return False
    for block in doc.get("content") or []:
        if block.get("type") != "paragraph":
            return False
        for node in block.get("content") or []:
            if node.get("type") != "text" or not node.get("text"):
                return False
    return isinstance(doc.get("content"), list)


class GitHubDouble(TrackerDouble):
    """`repos`: full name -> the logins that can be assigned. `issues`: (repo, number) -> the issue."""

    def __init__(self, *, token: str, repos: dict[str, set[str]]):
        super().__init__()
        self.token = token
        self.repos = repos
        self.issues: dict[tuple[str, int], dict[str, Any]] = {}
        self.renamed: dict[str, str] = {}
        self._exhausted = 0
        self._secondary = 0
        self._secondary_after = "60"

    def exhaust(self, times: int) -> None:
        with self.lock:
            self._exhausted = times

    def secondary(self, times: int, *, after: str = "60") -> None:
        with self.lock:
            self._secondary, self._secondary_after = times, after

    def rename(self, old: str, new: str) -> None:
        """The repository `old` is now `new`: its issues move along, its URLs redirect."""
        with self.lock:
            self.repos[new] = self.repos.pop(old)
            for repo, number in [k for k in self.issues if k[0] == old]:
                issue = self.issues.pop((repo, number))
                issue["html_url"] = f"https://github.example/{new}/issues/{number}"
                self.issues[(new, number)] = issue
            self.renamed[old] = new

    def close(self, repo: str, number: int, reason: str = "completed") -> dict[str, Any]:
        with self.lock:
            issue = self.issues[(repo, number)]
            issue.update(state="closed", state_reason=reason)
            return dict(issue)

    def reopen(self, repo: str, number: int) -> dict[str, Any]:
        with self.lock:
            issue = self.issues[(repo, number)]
            issue.update(state="open", state_reason="reopened")
            return dict(issue)

    def handle(self, request: Recorded) -> Answer:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        if self._exhausted:
            self._exhausted -= 1
            return Answer(
                403,
                {"message": "API rate limit exceeded for installation."},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"},
            )
        if self._secondary:
            self._secondary -= 1
            return Answer(
                403,
                {"message": SECONDARY_MESSAGE},
                {"Retry-After": self._secondary_after, "x-ratelimit-remaining": "4999"},
            )
        parts = request.path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "repos" or parts[3] != "issues":
            return Answer(404, {"message": "Not Found"})
        repo = f"{parts[1]}/{parts[2]}"
        if repo in self.renamed:
            location = f"{self.url}/repos/{self.renamed[repo]}/" + "/".join(parts[3:])
            status = 301 if request.method == "GET" else 307
            return Answer(status, {"message": "Moved Permanently", "url": location}, {"Location": location})
        if repo not in self.repos:
            return Answer(404, {"message": "Not Found"})
        if request.method == "POST" and len(parts) == 4:
            return self._create(repo, request.body)
        if request.method == "GET" and len(parts) == 5 and parts[4].isdigit():
            issue = self.issues.get((repo, int(parts[4])))
            if issue is None:
                return Answer(404, {"message": "Not Found"})
            etag = '"' + hashlib.sha1(json.dumps(issue, sort_keys=True).encode()).hexdigest() + '"'
            if request.headers.get("if-none-match") == etag:
                return Answer(304, None, {"ETag": etag})
            return Answer(200, issue, {"ETag": etag})
        return Answer(404, {"message": "Not Found"})

    def _create(self, repo: str, body: Any) -> Answer:
        if not isinstance(body, dict) or not str(body.get("title") or "").strip():
            return Answer(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}],
                },
            )
        for login in body.get("assignees") or []:
            if login not in self.repos[repo]:
                return Answer(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [{"value": login, "resource": "Issue", "field": "assignees", "code": "invalid"}],
                    },
                )
        number = sum(1 for r, _ in self.issues if r == repo) + 1
        issue = {
            "id": 1000 + number,
            "number": number,
            "html_url": f"https://github.example/{repo}/issues/{number}",
            "state": "open",
            "state_reason": None,
            "title": body["title"],
            "body": body.get("body") or "",
            "labels": [{"name": name} for name in body.get("labels") or []],
            "assignees": [{"login": login} for login in body.get("assignees") or []],
        }
        self.issues[(repo, number)] = issue
        return Answer(201, issue)
