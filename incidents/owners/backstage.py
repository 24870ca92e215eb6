"""Backstage catalog files (``catalog-info.yaml``): Component and System -> services, Group -> teams.

What is read (Backstage has no well-known Slack annotation for groups; the notifications plugin's
``slack.com/bot-notify`` is a different thing and is not read):

- ``Component`` / ``System``: ``metadata.name``; ``metadata.title`` and the ``incident-bot/aliases`` annotation
  (comma-separated) as aliases; ``spec.owner`` (``group:default/payments`` or ``payments``) as the team;
  ``spec.dependsOn`` refs of kind component or system as dependencies (resource and API refs are not services
  and are skipped); ``metadata.links``: the first link whose title, type or icon says "runbook" is the runbook,
  links whose title, type or icon says "dashboard" are dashboards; ``incident-bot/tier`` (1-4).
- ``Group``: ``metadata.name``; annotations ``slack.com/usergroup`` (``@handle``, bare handle or ``S...`` id),
  ``slack.com/channel`` (``#name``, bare name or ``C...`` id), ``incident-bot/escalation``
  (``primary=user:alice, secondary=bob@example.com, manager=U024BE7LH``), ``incident-bot/contact`` (falls back
  to ``spec.profile.email``), ``incident-bot/pager`` (``pagerduty:PAGERDUTY_PAYMENTS_KEY`` or
  ``opsgenie:OPSGENIE_PAYMENTS_KEY``: the vendor and the environment variable holding the key); members from
  ``spec.members`` and from Users' ``spec.memberOf``.
- ``User``: ``spec.profile.email`` resolves a member ref to an email. A ref with no User or no email is kept
  as the ref and reported as a warning (the Slack layer reports it as unresolved when engaging the team).

Namespaces are flattened: ``group:platform/payments`` is team ``payments``. Other kinds are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from incidents.owners.model import SLACK_CHANNEL_ID, SLACK_USERGROUP_ID, check_contact, normalize
from incidents.owners.validate import Entry, LineDict, LineList, Problem, line_of, problems_from_validation

ALIASES = "incident-bot/aliases"
TIER = "incident-bot/tier"
ESCALATION = "incident-bot/escalation"
CONTACT = "incident-bot/contact"
PAGER = "incident-bot/pager"  # pagerduty:PAGERDUTY_PAYMENTS_KEY (the vendor, then the variable holding its key)
SLACK_CHANNEL = "slack.com/channel"
SLACK_USERGROUP = "slack.com/usergroup"

SERVICE_KINDS = {"component", "system"}
_LABELS = {
    "aliases": f"metadata.annotations.{ALIASES}",
    "tier": f"metadata.annotations.{TIER}",
    "team": "spec.owner",
    "depends_on": "spec.dependsOn",
    "runbook": "metadata.links",
    "dashboards": "metadata.links",
    "slack_usergroup": f"metadata.annotations.{SLACK_USERGROUP}",
    "channel": f"metadata.annotations.{SLACK_CHANNEL}",
    "escalation": f"metadata.annotations.{ESCALATION}",
    "pager": f"metadata.annotations.{PAGER}",
    "members": "spec.members",
    "name": "metadata.name",
}


def is_backstage_document(document: Any) -> bool:
    return isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("backstage.io/")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Link(_Loose):
    url: str
    title: str | None = None
    icon: str | None = None
    type: str | None = None


class _Metadata(_Loose):
    name: str = Field(min_length=1)
    namespace: str = "default"
    title: str | None = None
    annotations: dict[str, str] = {}
    links: list[_Link] = []


class _Profile(_Loose):
    email: str | None = None


class _OwnedSpec(_Loose):
    owner: str = Field(min_length=1)
    dependsOn: list[str] = []  # Backstage's spelling


class _GroupSpec(_Loose):
    members: list[str] = []
    profile: _Profile | None = None


class _UserSpec(_Loose):
    memberOf: list[str] = []  # Backstage's spelling
    profile: _Profile | None = None


class _Entity(_Loose):
    apiVersion: str  # Backstage's spelling
    kind: str
    metadata: _Metadata
    spec: dict[str, Any] = {}


_SPECS: dict[str, type[_Loose]] = {
    "component": _OwnedSpec,
    "system": _OwnedSpec,
    "group": _GroupSpec,
    "user": _UserSpec,
}


def parse_ref(ref: str, *, default_kind: str) -> tuple[str, str, str]:
    """``[kind:][namespace/]name`` -> (kind, namespace, name), lower-cased (Backstage compares refs so)."""
    kind, _, rest = ref.strip().rpartition(":")
    namespace, _, name = rest.rpartition("/")
    return (kind or default_kind).lower(), (namespace or "default").lower(), name.lower()


@dataclass
class _Parsed:
    file: str
    raw: LineDict
    kind: str
    entity: _Entity
    spec: Any


@dataclass
class _Users:
    emails: dict[tuple[str, str], str | None] = field(default_factory=dict)
    member_of: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # group -> refs of its Users

    def resolve(self, ref: str) -> tuple[str, str | None]:
        """A member ref -> (email or the ref, why it could not be resolved)."""
        _, namespace, name = parse_ref(ref, default_kind="user")
        canonical = f"user:{namespace}/{name}"
        if (namespace, name) not in self.emails:
            return canonical, f"member '{ref}' is not a User in the catalog"
        email = self.emails[(namespace, name)]
        if email is None:
            return canonical, f"member '{ref}' has no spec.profile.email"
        return email, None


def entries_from_entities(
    documents: list[tuple[str, LineDict]],
) -> tuple[list[Entry], list[Problem], list[Problem]]:
    """Backstage entities from any number of files -> (entries, problems, warnings).

    All files are read first: a Group's members are resolved with User entities found in any file.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    parsed = [item for file, raw in documents if (item := _parse(file, raw, problems)) is not None]
    users = _users([item for item in parsed if item.kind == "user"], problems)
    entries: list[Entry] = []
    for item in parsed:
        if item.kind in SERVICE_KINDS:
            entries.append(_service(item))
        elif item.kind == "group":
            entries.append(_team(item, users, problems, warnings))
    return entries, problems, warnings


def _parse(file: str, raw: LineDict, problems: list[Problem]) -> _Parsed | None:
    kind = str(raw.get("kind", "")).lower()
    spec_model = _SPECS.get(kind)
    if spec_model is None:
        return None
    metadata = raw.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    what = f"{raw['kind']} '{name}'" if isinstance(name, str) else str(raw["kind"])
    try:
        entity = _Entity.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, file=file, raw=raw, what=what))
        return None
    try:
        spec = spec_model.model_validate(raw.get("spec") or {})
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, file=file, raw=raw, what=what, within=("spec",)))
        return None
    return _Parsed(file, raw, kind, entity, spec)


def _users(items: list[_Parsed], problems: list[Problem]) -> _Users:
    users = _Users()
    for item in items:
        meta = item.entity.metadata
        email = item.spec.profile.email if item.spec.profile else None
        if email is not None:
            try:
                email = check_contact(email)
            except ValueError as exc:
                problems.append(
                    Problem(
                        item.file,
                        line_of(item.raw, ("spec", "profile", "email")),
                        f"User '{meta.name}': spec.profile.email: {exc}",
                    )
                )
                email = None
        key = (meta.namespace.lower(), meta.name.lower())
        users.emails[key] = email
        for group in item.spec.memberOf:
            _, namespace, name = parse_ref(group, default_kind="group")
            users.member_of.setdefault((namespace, name), []).append(f"user:{key[0]}/{key[1]}")
    return users


def _annotation(item: _Parsed, key: str) -> tuple[str | None, int | None]:
    value = item.entity.metadata.annotations.get(key)
    return value, line_of(item.raw, ("metadata", "annotations", key))


def _service(item: _Parsed) -> Entry:
    meta, spec, raw = item.entity.metadata, item.spec, item.raw
    out = LineDict(raw.line)
    out.put("name", meta.name, line_of(raw, ("metadata", "name")))
    kind, _, owner = parse_ref(spec.owner, default_kind="group")
    out.put("team", owner if kind == "group" else spec.owner, line_of(raw, ("spec", "owner")))

    value, line = _annotation(item, ALIASES)
    aliases = LineList(line)
    for alias in (value or "").split(","):
        if alias.strip():
            aliases.add(alias.strip(), line)
    if meta.title and normalize(meta.title) != normalize(meta.name):
        aliases.add(meta.title.strip(), line_of(raw, ("metadata", "title")))
    out.put("aliases", aliases, line)

    value, line = _annotation(item, TIER)
    if value is not None:
        out.put("tier", int(value) if value.strip().isdigit() else value, line)

    depends_on = LineList(line_of(raw, ("spec", "dependsOn")))
    for index, ref in enumerate(spec.dependsOn):
        ref_kind, _, name = parse_ref(ref, default_kind="component")
        if ref_kind in SERVICE_KINDS:
            depends_on.add(name, line_of(raw, ("spec", "dependsOn", index)))
    out.put("depends_on", depends_on, depends_on.line)

    dashboards = LineList(line_of(raw, ("metadata", "links")))
    for index, link in enumerate(meta.links):
        line = line_of(raw, ("metadata", "links", index))
        says = " ".join(filter(None, (link.title, link.type, link.icon))).lower()
        if "runbook" in says and "runbook" not in out:
            out.put("runbook", link.url, line)
        elif "dashboard" in says:
            dashboards.add(LineDict.of({"url": link.url, "title": link.title}, line), line)
    out.put("dashboards", dashboards, dashboards.line)
    return Entry("service", item.file, out, labels=_LABELS, source_kind=item.entity.kind)


def _team(item: _Parsed, users: _Users, problems: list[Problem], warnings: list[Problem]) -> Entry:
    meta, spec, raw = item.entity.metadata, item.spec, item.raw
    out = LineDict(raw.line)
    out.put("name", meta.name, line_of(raw, ("metadata", "name")))
    value, line = _annotation(item, SLACK_USERGROUP)
    if value:
        bare = not value.startswith("@") and not SLACK_USERGROUP_ID.match(value)
        out.put("slack_usergroup", f"@{value}" if bare else value, line)
    value, line = _annotation(item, SLACK_CHANNEL)
    if value:
        bare = not value.startswith("#") and not SLACK_CHANNEL_ID.match(value)
        out.put("channel", f"#{value}" if bare else value, line)
    value, line = _annotation(item, CONTACT)
    if value:
        out.put("contact", value, line)
    elif spec.profile and spec.profile.email:
        out.put("contact", f"email {spec.profile.email}", line_of(raw, ("spec", "profile", "email")))

    def resolve(ref: str, line: int | None) -> str:
        contact, why = users.resolve(ref)
        if why:
            warnings.append(Problem(item.file, line, f"Group '{meta.name}': {why}; kept as '{contact}' (unresolvable)"))
        return contact

    members = LineList(line_of(raw, ("spec", "members")))
    refs = [(ref, line_of(raw, ("spec", "members", index))) for index, ref in enumerate(spec.members)]
    refs += [(ref, raw.line) for ref in users.member_of.get((meta.namespace.lower(), meta.name.lower()), [])]
    seen: set[tuple[str, str, str]] = set()
    for ref, ref_line in refs:
        if parse_ref(ref, default_kind="user") not in seen:
            seen.add(parse_ref(ref, default_kind="user"))
            members.add(resolve(ref, ref_line), ref_line)
    out.put("members", members, members.line)

    value, line = _annotation(item, ESCALATION)
    escalation = LineList(line)
    for step in filter(None, (step.strip() for step in (value or "").split(","))):
        role, separator, who = (part.strip() for part in step.partition("="))
        if not separator or not role or not who:
            problems.append(
                Problem(
                    item.file,
                    line,
                    f"Group '{meta.name}': {ESCALATION}: expected 'role=user, role=user, ...', got {step!r}",
                )
            )
            continue
        user = resolve(who, line) if who.lower().startswith("user:") else who
        escalation.add(LineDict.of({"role": role, "user": user}, line), line)
    out.put("escalation", escalation, line)
    value, line = _annotation(item, PAGER)
    if value:
        vendor, _, key_env = (part.strip() for part in value.partition(":"))
        out.put("pager", LineDict.of({"service": vendor, "key_env": key_env}, line), line)
    return Entry("team", item.file, out, allow_entity_refs=True, labels=_LABELS, source_kind=item.entity.kind)
