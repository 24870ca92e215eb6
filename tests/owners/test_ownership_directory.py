"""Emails become Slack user ids through the UserDirectory port; what cannot be resolved is reported."""

from __future__ import annotations

import threading

from incidents.owners import ResolvingDirectory, resolve_contacts


def test_contacts_resolve_to_slack_ids_and_unresolved_ones_are_reported(directory) -> None:
    resolved, unresolved = resolve_contacts(
        ["U024BE7LH", "ana@example.com", "nobody@example.com", "user:default/ghost", "Ana@Example.com"],
        directory,
    )
    assert resolved == ["U024BE7LH", "U0ANA00001"]
    assert unresolved == ["nobody@example.com", "user:default/ghost"]


def test_slack_ids_are_not_looked_up(directory) -> None:
    resolve_contacts(["U024BE7LH", "W0ENTERPRISE"], directory)
    assert directory.calls == []


def test_resolving_directory_caches_hits_until_the_ttl(directory, clock) -> None:
    cached = ResolvingDirectory(directory, ttl=60, miss_ttl=10, clock=clock)
    assert cached.lookup_by_email("ana@example.com") == "U0ANA00001"
    assert cached.lookup_by_email("ANA@example.com") == "U0ANA00001"
    assert directory.calls == ["ana@example.com"]
    clock.advance(61)
    cached.lookup_by_email("ana@example.com")
    assert len(directory.calls) == 2


def test_resolving_directory_caches_misses_for_less_time(directory, clock) -> None:
    cached = ResolvingDirectory(directory, ttl=60, miss_ttl=10, clock=clock)
    assert cached.lookup_by_email("new@example.com") is None
    directory.users["new@example.com"] = "U0NEW00001"
    assert cached.lookup_by_email("new@example.com") is None
    clock.advance(11)
    assert cached.lookup_by_email("new@example.com") == "U0NEW00001"


def test_resolving_directory_is_safe_across_threads(directory, clock) -> None:
    cached = ResolvingDirectory(directory, clock=clock)
    results: list[str | None] = []
    lock = threading.Lock()

    def look() -> None:
        for _ in range(200):
            answer = cached.lookup_by_email("marc@example.com")
            with lock:
                results.append(answer)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["U0MARC0001"] * 1600
    assert 1 <= len(directory.calls) <= 8
