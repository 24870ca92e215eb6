"""Loading the ownership map from its files, and keeping the last good one current as the files change.

No background thread: ``OwnershipStore.current()`` looks at the files' mtimes (and folder listings) at most every
``check_every`` seconds and reloads when they changed. An invalid edit keeps the last good map and is logged.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import structlog

from incidents.owners.backstage import entries_from_entities, is_backstage_document
from incidents.owners.lookup import OwnershipMap
from incidents.owners.validate import (
    Entry,
    LineDict,
    OwnershipMapError,
    Problem,
    read_documents,
    validate_entries,
)
from incidents.owners.yaml_map import entries_from_document, is_ownership_document

PathLike = str | os.PathLike[str]
YAML_SUFFIXES = {".yaml", ".yml"}
UNRECOGNISED = "neither an ownership map ('teams:', 'services:') nor a Backstage entity (apiVersion: backstage.io/...)"


def as_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(path) for path in paths]


def source_files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
    """(file, named explicitly?): a folder gives its ``*.yaml``/``*.yml`` files, recursively, hidden ones skipped."""
    for path in paths:
        if not path.is_dir():
            yield path, True
            continue
        for file in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
            if file.suffix in YAML_SUFFIXES and file.is_file() and not hidden:
                yield file, False


def load_map(paths: PathLike | Iterable[PathLike]) -> OwnershipMap:
    """Read our YAML and/or Backstage files (format detected per document), validate, merge.

    Raises OwnershipMapError with every problem found, each with its file and line.
    """
    paths = as_paths(paths)
    problems: list[Problem] = []
    entries: list[Entry] = []
    entities: list[tuple[str, LineDict]] = []
    files = list(source_files(paths))
    unreadable = False
    for file, explicit in files:
        name = str(file)
        documents, read_problems = read_documents(file, display=name)
        problems.extend(read_problems)
        unreadable = unreadable or bool(read_problems)
        for document in documents:
            if is_backstage_document(document):
                entities.append((name, document))
            elif is_ownership_document(document):
                found, document_problems = entries_from_document(document, name)
                entries.extend(found)
                problems.extend(document_problems)
            elif explicit and document is not None:
                problems.append(Problem(name, getattr(document, "line", None), UNRECOGNISED))
    backstage_entries, backstage_problems, warnings = entries_from_entities(entities)
    entries.extend(backstage_entries)
    problems.extend(backstage_problems)
    order = {str(file): index for index, (file, _) in enumerate(files)}
    entries.sort(key=lambda entry: (order.get(entry.file, len(order)), entry.raw.line or 0))
    # After a file could not be read, its teams and services are unknown: checking references would only
    # report errors that are not there.
    teams, services, entry_problems = validate_entries(entries, references=not unreadable)
    problems.extend(entry_problems)
    if not entries and not problems:
        problems.append(Problem(", ".join(map(str, paths)) or "<no path>", None, "no teams or services found"))
    if problems:
        raise OwnershipMapError(sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.line or 0)))
    return OwnershipMap(teams, services, warnings)


def fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, int | None, int | None], ...]:
    """What changes when a file is edited, added, removed or renamed."""
    stamps = []
    for file, _ in source_files(paths):
        try:
            stat = file.stat()
        except OSError:
            stamps.append((str(file), None, None))
        else:
            stamps.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


class OwnershipStore:
    """The current ownership map. The first load raises OwnershipMapError (the bot refuses to start with
    the same messages as ``incidents owners check``); later failures keep the last good map.

    Thread-safe: a caller arriving during a reload waits for it (small files, milliseconds)."""

    def __init__(
        self,
        paths: PathLike | Iterable[PathLike],
        *,
        loader: Callable[[list[Path]], OwnershipMap] = load_map,
        logger: Any = None,
        clock: Callable[[], float] = time.monotonic,
        check_every: float = 10.0,
    ) -> None:
        self._paths = as_paths(paths)
        self._loader = loader
        self._log = logger if logger is not None else structlog.get_logger(__name__)
        self._clock = clock
        self._check_every = check_every
        self._lock = threading.Lock()
        self._fingerprint = fingerprint(self._paths)
        self._map = loader(self._paths)
        self._checked_at = clock()
        self._log.info("ownership_map_loaded", **_summary(self._map))

    def current(self) -> OwnershipMap:
        with self._lock:
            now = self._clock()
            if now - self._checked_at >= self._check_every:
                self._checked_at = now
                self._reload_if_changed()
            return self._map

    def _reload_if_changed(self) -> None:
        stamps = fingerprint(self._paths)
        if stamps == self._fingerprint:
            return
        self._fingerprint = stamps  # a failed edit is logged once, not at every check
        try:
            new_map = self._loader(self._paths)
        except OwnershipMapError as exc:
            self._log.warning(
                "ownership_map_reload_failed",
                problems=[str(problem) for problem in exc.problems],
                kept=repr(self._map),
            )
            return
        self._map = new_map
        self._log.info("ownership_map_reloaded", **_summary(new_map))


def _summary(ownership: OwnershipMap) -> dict[str, Any]:
    return {
        "teams": len(ownership.teams),
        "services": len(ownership.services),
        "warnings": [str(warning) for warning in ownership.warnings],
    }
