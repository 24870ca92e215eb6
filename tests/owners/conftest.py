"""Fixtures for the ownership map: the data files, a writer for small maps, a fake directory, a clock."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from incidents.owners import OwnershipMap, load_map

DATA = Path(__file__).parent / "data"
EXAMPLE = Path(__file__).parents[2] / "docs" / "ownership-map.example.yml"

WriteYaml = Callable[..., Path]


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture
def example_map() -> OwnershipMap:
    return load_map(EXAMPLE)


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """write_yaml(text, name="ownership.yml") -> path; the text is dedented, so line numbers are as written."""

    def write(text: str, name: str = "ownership.yml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


class FakeDirectory:
    """An in-memory UserDirectory that counts its lookups."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.calls: list[str] = []

    def lookup_by_email(self, email: str) -> str | None:
        self.calls.append(email)
        return self.users.get(email.lower())


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory({"ana@example.com": "U0ANA00001", "marc@example.com": "U0MARC0001"})
