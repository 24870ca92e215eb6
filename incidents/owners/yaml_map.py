"""Our own YAML format: a document with a ``teams:`` list and/or a ``services:`` list.

See docs/ownership-map.example.yml for a complete, commented example.
"""

from __future__ import annotations

from typing import Any, Literal

from incidents.owners.validate import Entry, LineDict, LineList, Problem

SECTIONS: dict[str, Literal["team", "service"]] = {"teams": "team", "services": "service"}


def is_ownership_document(document: Any) -> bool:
    return isinstance(document, dict) and any(section in document for section in SECTIONS)


def entries_from_document(document: LineDict, file: str) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    for key, line in document.key_lines.items():
        if key not in SECTIONS:
            problems.append(Problem(file, line, f"unknown top-level key {key!r} (expected 'teams' and 'services')"))
    for section, kind in SECTIONS.items():
        items = document.get(section)
        if items is None:
            continue
        if not isinstance(items, LineList):
            problems.append(Problem(file, document.key_lines[section], f"'{section}' should be a list"))
            continue
        for item, line in zip(items, items.item_lines, strict=True):
            if isinstance(item, LineDict):
                entries.append(Entry(kind, file, item))
            else:
                problems.append(Problem(file, line, f"each of '{section}' should be a mapping with a 'name'"))
    return entries, problems
