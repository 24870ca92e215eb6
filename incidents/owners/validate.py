"""Problems with their file and line: YAML read with line numbers, model validation, cross-references.

YAML is composed once by a SafeLoader whose mappings and sequences remember the line of every key and item
(``LineDict`` / ``LineList``). Both readers hand over ``Entry`` objects whose raw data are such nodes, so a
pydantic error location or a bad reference is traced back to the line it came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from incidents.owners.model import ALLOW_ENTITY_REFS, Service, Team, normalize


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class OwnershipMapError(Exception):
    """The map cannot be loaded; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class LineDict(dict[Any, Any]):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int | None] = {}

    @classmethod
    def of(cls, values: Mapping[str, Any], line: int | None) -> LineDict:
        """A mapping built in code (not read from YAML) whose values all come from ``line``."""
        data = cls(line)
        for key, value in values.items():
            data.put(key, value, line)
        return data

    def put(self, key: Any, value: Any, line: int | None) -> None:
        self[key] = value
        self.key_lines[key] = line


class LineList(list[Any]):
    """A YAML sequence that knows its own line and the line of each item (1-based)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int | None] = []

    def add(self, value: Any, line: int | None) -> None:
        self.append(value)
        self.item_lines.append(line)


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, Any, int | None]] = []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict(node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if key in data:
            loader.duplicate_keys.append((line, key, data.key_lines[key]))
        data.put(key, loader.construct_object(value_node, deep=False), line)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList(node.start_mark.line + 1)
    yield data
    for child in node.value:
        data.add(loader.construct_object(child, deep=False), child.start_mark.line + 1)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def read_documents(path: Path, *, display: str | None = None) -> tuple[list[Any], list[Problem]]:
    """Every YAML document of a file, read once, with line numbers; never raises."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return [], [Problem(name, None, f"cannot read file: {reason}")]
    loader = _LineLoader(text)
    documents: list[Any] = []
    problems: list[Problem] = []
    try:
        while loader.check_data():
            documents.append(loader.get_data())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = str(exc.problem or exc.context)
        if exc.context and exc.problem and exc.context_mark:
            detail += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        problems.append(Problem(name, mark.line + 1 if mark else None, f"YAML syntax error: {detail}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(name, None, f"YAML error: {exc}"))
    finally:
        loader.dispose()
    for line, key, first in loader.duplicate_keys:
        problems.append(Problem(name, line, f"duplicate key {key!r} (first on line {first})"))
    return documents, problems


def line_of(raw: Any, loc: Iterable[Any]) -> int | None:
    """The line of the deepest node of ``loc`` that exists in ``raw``."""
    return _walk(raw, tuple(loc))[0]


def _walk(raw: Any, loc: tuple[Any, ...]) -> tuple[int | None, str]:
    node, line, path = raw, getattr(raw, "line", None), ""
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part) or line
            node, path = node[part], f"{path}.{part}" if path else str(part)
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part] or line
            node, path = node[part], f"{path}[{part}]"
        else:  # not in the data (a missing field): named, but the line stays the parent's
            node = None
            path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else str(part)
    return line, path


@dataclass(frozen=True)
class Entry:
    """One team or service as read from a source, before validation."""

    kind: Literal["team", "service"]
    file: str
    raw: LineDict
    allow_entity_refs: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # field name -> how the source spells it
    source_kind: str | None = None  # how the source calls it (a Backstage "Group"), for messages

    @property
    def name(self) -> str | None:
        name = self.raw.get("name")
        return name.strip() or None if isinstance(name, str) else None

    @property
    def what(self) -> str:
        kind = self.source_kind or self.kind
        return f"{kind} {self.name!r}" if self.name else kind

    def problem(self, loc: Iterable[Any], message: str) -> Problem:
        return Problem(self.file, line_of(self.raw, loc), message)

    def where(self) -> str:
        return f"{self.file}:{self.raw.line}"


def problems_from_validation(
    error: ValidationError,
    *,
    file: str,
    raw: Any,
    what: str,
    labels: Mapping[str, str] | None = None,
    within: tuple[str, ...] = (),
) -> list[Problem]:
    """One problem per pydantic error, at the line of the offending key or item; ``within`` is the path in
    ``raw`` of what was validated."""
    problems = []
    for detail in error.errors(include_url=False):
        line, path = _walk(raw, within + tuple(detail["loc"]))
        label = _relabel(path, labels or {})
        if detail["type"] == "missing":
            message = f"missing required field '{label}'"
        elif detail["type"] == "extra_forbidden":
            message = f"unknown field '{label}'"
        else:
            text = detail["msg"].removeprefix("Value error, ").replace("a valid tuple", "a list")
            message = f"{label}: {text}" if label else text
        problems.append(Problem(file, line, f"{what}: {message}"))
    return problems


def _relabel(path: str, labels: Mapping[str, str]) -> str:
    head = path.split(".", 1)[0].split("[", 1)[0]
    return labels[head] + path[len(head) :] if head in labels else path


def _hint(value: str, candidates: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(normalize(value), list(candidates), n=1)
    return f" (did you mean '{candidates[close[0]]}'?)" if close else ""


def validate_entries(
    entries: Sequence[Entry], *, references: bool = True
) -> tuple[list[Team], list[Service], list[Problem]]:
    """Validate each entry, then (unless ``references`` is false) the references between them."""
    problems: list[Problem] = []
    teams: list[Team] = []
    services: list[Service] = []
    for entry in entries:
        model = Team if entry.kind == "team" else Service
        try:
            parsed = model.model_validate(entry.raw, context={ALLOW_ENTITY_REFS: entry.allow_entity_refs})
        except ValidationError as exc:
            problems.extend(
                problems_from_validation(exc, file=entry.file, raw=entry.raw, what=entry.what, labels=entry.labels)
            )
            continue
        if isinstance(parsed, Team):
            teams.append(parsed)
        else:
            services.append(parsed)
    if references:
        problems.extend(check_references(entries))
    return teams, services, problems


def _texts(entry: Entry, key: str) -> list[tuple[int, str]]:
    values = entry.raw.get(key)
    if not isinstance(values, list):
        return []
    return [(index, value.strip()) for index, value in enumerate(values) if isinstance(value, str) and value.strip()]


def check_references(entries: Sequence[Entry]) -> list[Problem]:
    """Duplicate names and aliases, unknown teams, unknown dependencies. Read from the raw entries, so an
    entry with some other problem (say a bad runbook URL) is still checked, and still counts as known."""
    problems: list[Problem] = []
    teams: dict[str, Entry] = {}
    services: dict[str, tuple[Entry, str]] = {}  # key -> (service, "the name" or "the alias 'x'")
    for entry in entries:
        if entry.kind == "team" and entry.name:
            first = teams.setdefault(normalize(entry.name), entry)
            if first is not entry:
                problems.append(
                    entry.problem(("name",), f"duplicate team '{entry.name}' (first defined at {first.where()})")
                )
    named = [entry for entry in entries if entry.kind == "service" and entry.name]
    for entry in named:  # names first: an alias equal to another service's name is reported on the alias
        first, _ = services.setdefault(normalize(entry.name or ""), (entry, "the name"))
        if first is not entry:
            problems.append(
                entry.problem(("name",), f"duplicate service '{entry.name}' (first defined at {first.where()})")
            )
    for entry in named:
        for index, alias in _texts(entry, "aliases"):
            first, what = services.setdefault(normalize(alias), (entry, f"the alias '{alias}'"))
            if first is not entry and normalize(first.name or "") != normalize(entry.name or ""):
                problems.append(
                    entry.problem(
                        ("aliases", index),
                        f"service '{entry.name}': alias '{alias}' clashes "
                        f"with {what} of service '{first.name}' ({first.where()})",
                    )
                )
    team_names = {key: entry.name or "" for key, entry in teams.items()}
    service_names = {key: entry.name or "" for key, (entry, _) in services.items()}
    for entry in named:
        team = entry.raw.get("team")
        if isinstance(team, str) and team.strip() and normalize(team) not in teams:
            problems.append(
                entry.problem(
                    ("team",),
                    f"service '{entry.name}' references unknown team '{team.strip()}'{_hint(team, team_names)}",
                )
            )
        for index, dependency in _texts(entry, "depends_on"):
            if normalize(dependency) not in services:
                problems.append(
                    entry.problem(
                        ("depends_on", index),
                        f"service '{entry.name}' depends on unknown "
                        f"service '{dependency}'{_hint(dependency, service_names)}",
                    )
                )
    return problems
