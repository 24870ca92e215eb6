"""The store keeps the last good map, reloading on access when the files changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from incidents.owners import OwnershipMapError, OwnershipStore, load_map

GOOD = """\
teams:
  - {name: payments, members: [U024BE7LH]}
services:
  - {name: checkout, team: payments}
"""
BETTER = GOOD + "  - {name: ledger, team: payments}\n"
BROKEN = GOOD + "  - {name: ledger, team: paymnts}\n"


def rewrite(path: Path, text: str, stamp: int) -> None:
    """Write and set a distinct mtime, so the change is seen whatever the filesystem's resolution."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stamp * 10**9, stamp * 10**9))


@pytest.fixture
def map_file(tmp_path: Path) -> Path:
    path = tmp_path / "ownership.yml"
    rewrite(path, GOOD, 1)
    return path


def names(store: OwnershipStore) -> list[str]:
    return [service.name for service in store.current().services]


def test_initial_load_failing_raises_with_the_problems(map_file: Path) -> None:
    rewrite(map_file, BROKEN, 2)
    with pytest.raises(OwnershipMapError) as caught:
        OwnershipStore(map_file)
    assert [str(p) for p in caught.value.problems] == [
        f"{map_file}:5: service 'ledger' references unknown team 'paymnts' (did you mean 'payments'?)"
    ]


def test_changed_file_is_reloaded_once_the_check_interval_has_passed(map_file: Path, clock) -> None:
    store = OwnershipStore(map_file, clock=clock, check_every=10)
    rewrite(map_file, BETTER, 2)
    clock.advance(9)
    assert names(store) == ["checkout"]
    clock.advance(1)
    with capture_logs() as logs:
        assert names(store) == ["checkout", "ledger"]
    assert logs == [{"event": "ownership_map_reloaded", "log_level": "info", "teams": 1, "services": 2, "warnings": []}]


def test_invalid_edit_keeps_the_last_good_map_and_logs_why_once(map_file: Path, clock) -> None:
    store = OwnershipStore(map_file, clock=clock, check_every=10)
    rewrite(map_file, BROKEN, 2)
    with capture_logs() as logs:
        clock.advance(10)
        assert names(store) == ["checkout"]
        clock.advance(10)
        assert names(store) == ["checkout"]
    assert len(logs) == 1
    assert logs[0]["event"] == "ownership_map_reload_failed"
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["problems"] == [
        f"{map_file}:5: service 'ledger' references unknown team 'paymnts' (did you mean 'payments'?)"
    ]
    rewrite(map_file, BETTER, 3)
    clock.advance(10)
    assert names(store) == ["checkout", "ledger"]


def test_unchanged_files_are_not_read_again(map_file: Path, clock) -> None:
    calls: list[list[Path]] = []

    def loader(paths: list[Path]):  # type: ignore[no-untyped-def]
        calls.append(paths)
        return load_map(paths)

    store = OwnershipStore([map_file], loader=loader, clock=clock, check_every=10)
    for _ in range(3):
        clock.advance(10)
        store.current()
    assert calls == [[map_file]]


def test_a_file_added_to_a_folder_is_picked_up(tmp_path: Path, clock) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    rewrite(folder / "teams.yml", "teams:\n  - {name: payments, members: [U024BE7LH]}\n", 1)
    rewrite(folder / "a.yml", "services:\n  - {name: checkout, team: payments}\n", 1)
    store = OwnershipStore(folder, clock=clock, check_every=10)
    (folder / "sub").mkdir()
    rewrite(folder / "sub" / "b.yaml", "services:\n  - {name: ledger, team: payments}\n", 1)
    clock.advance(10)
    assert names(store) == ["checkout", "ledger"]
    (folder / "a.yml").unlink()
    clock.advance(10)
    assert names(store) == ["ledger"]


def test_a_deleted_file_keeps_the_last_good_map(map_file: Path, clock) -> None:
    store = OwnershipStore(map_file, clock=clock, check_every=10)
    map_file.unlink()
    with capture_logs() as logs:
        clock.advance(10)
        assert names(store) == ["checkout"]
    assert logs[0]["problems"] == [f"{map_file}: cannot read file: No such file or directory"]
