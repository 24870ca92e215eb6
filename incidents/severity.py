"""Severities: names and one-line meanings, configurable (SEVERITIES="SEV1=Critical...;SEV2=...")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Severity:
    name: str
    meaning: str


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity("SEV1", "Critical: the product is down or data is at risk for many customers"),
    Severity("SEV2", "Major: a core feature is broken or badly degraded for many customers"),
    Severity("SEV3", "Minor: a feature is degraded for some customers, with a workaround"),
    Severity("SEV4", "Low: little customer impact; fix during working hours"),
)


def parse_severities(text: str) -> tuple[Severity, ...]:
    """Parse `NAME=meaning;NAME=meaning`, most severe first."""
    items = [part.strip() for part in text.split(";") if part.strip()]
    if not items:
        raise ValueError("give at least one severity as NAME=meaning;NAME=meaning")
    result: list[Severity] = []
    for item in items:
        name, sep, meaning = item.partition("=")
        name = name.strip().upper()
        if not sep or not name or not meaning.strip():
            raise ValueError(f"{item!r} is not NAME=meaning")
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 20:
            raise ValueError(f"severity name {name!r} must be letters and digits, at most 20 characters")
        if any(s.name == name for s in result):
            raise ValueError(f"severity {name} is listed twice")
        result.append(Severity(name, meaning.strip()))
    return tuple(result)
