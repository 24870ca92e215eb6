"""GitHub's `deployment_status` webhook, read into `incidents.changes.NewChange` (a deploy).

What is taken from the event (GitHub's documented payload: `deployment_status`, `deployment`, `repository`,
`sender`):
- recorded: the states `success` (deployed) and `failure` / `error` (a deploy that failed may have left part
  of the change out there, so responders see it too); `pending`, `queued`, `in_progress`, `inactive` are
  answered 202 and not stored;
- service: `deployment.payload.service` when the deployment carries one (set it when the repository's name is
  not the service's), else the repository's name; `deployment.payload.kind` may say another kind than deploy;
- version: the commit's short sha; who: the status's creator, else the deployment's, else the sender; link:
  the status's `log_url`, else `target_url`, `environment_url`, the repository; when: the status's
  `created_at`; the environment is in the summary and in `details`.
The external id is the delivery's `X-GitHub-Delivery` (a redelivery carries the same one)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from incidents.changes import NewChange

GITHUB = "github"
RECORDED_STATES = ("success", "failure", "error")
SHORT_SHA = 12


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class User(_Model):
    login: str = ""


class Status(_Model):
    id: int | None = None
    state: str
    description: str | None = None
    environment: str | None = None
    target_url: str | None = None
    log_url: str | None = None
    environment_url: str | None = None
    creator: User | None = None
    created_at: datetime | None = None


class Deployment(_Model):
    id: int | None = None
    sha: str = ""
    ref: str = ""
    task: str | None = None
    environment: str | None = None
    description: str | None = None
    payload: dict[str, Any] | str | None = None
    creator: User | None = None


class Repository(_Model):
    name: str
    full_name: str = ""
    html_url: str | None = None


class DeploymentStatusEvent(_Model):
    action: str | None = None
    deployment_status: Status
    deployment: Deployment
    repository: Repository
    sender: User | None = None

    @property
    def state(self) -> str:
        return self.deployment_status.state.strip().lower()

    def deployment_payload(self) -> dict[str, Any]:
        """The deployment's own payload: an object, or (as the REST API allows) a JSON string of one."""
        payload = self.deployment.payload
        if isinstance(payload, str):
            try:
                payload = json.loads(payload) if payload.strip() else {}
            except ValueError:
                return {}
        return payload if isinstance(payload, dict) else {}

    def change(self, *, delivery: str) -> NewChange:
        status, deployment, repo = self.deployment_status, self.deployment, self.repository
        own = self.deployment_payload()
        service = own.get("service") if isinstance(own.get("service"), str) and own["service"].strip() else repo.name
        kind = own.get("kind") if isinstance(own.get("kind"), str) and own["kind"].strip() else "deploy"
        environment = status.environment or deployment.environment or "an environment"
        what = " ".join(p for p in (repo.full_name or repo.name, deployment.ref) if p)
        if deployment.sha and deployment.ref != deployment.sha:
            what += f" ({deployment.sha[:7]})"
        if self.state == "success":
            summary = f"Deployed {what} to {environment}"
        else:
            summary = f"Deploy of {what} to {environment} failed ({self.state})"
        said = (status.description or deployment.description or "").strip()
        if said:
            summary += f": {said}"
        who = next(
            (u.login for u in (status.creator, deployment.creator, self.sender) if u is not None and u.login), ""
        )
        link = status.log_url or status.target_url or status.environment_url or repo.html_url or None
        return NewChange(
            service=service,
            kind=kind,
            summary=summary,
            who=who,
            version=deployment.sha[:SHORT_SHA],
            link=link,
            source=GITHUB,
            external_id=f"{GITHUB}:{delivery}",
            details={
                "state": self.state,
                "environment": environment,
                "repository": repo.full_name or repo.name,
                "ref": deployment.ref,
                "sha": deployment.sha,
                "deployment_id": deployment.id,
                "status_id": status.id,
            },
            occurred_at=status.created_at,
        )
