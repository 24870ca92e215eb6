"""The "What changed recently" message within Block Kit's limits, whatever a sender put in a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.slack.blocks.changes import MAX_SHOWN, ago, changes_blocks

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def _shown(changes: list[dict], total: int | None = None) -> dict:
    return {
        "services": ["s" * 200],
        "dependencies": ["d" * 200] * 60,
        "since": (NOW - timedelta(hours=6)).isoformat(),
        "as_of": NOW.isoformat(),
        "changes": changes,
        "total": len(changes) if total is None else total,
    }


def test_the_longest_changes_fit_slacks_limits() -> None:
    widest = {
        "service": "<&>" * 66,
        "kind": "feature_flag",
        "summary": "<!channel> & " * 78,
        "who": "&" * 200,
        "version": "`" * 200,
        "link": "https://example.com/" + "x" * 1980,
        "occurred_at": (NOW - timedelta(minutes=5)).isoformat(),
    }
    blocks = [b.to_dict() for b in changes_blocks(_shown([widest] * 40, total=400))]  # to_dict checks the limits
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == MAX_SHOWN
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "<!channel>" not in str(blocks)  # user text cannot ping anyone
    assert blocks[-1]["elements"][0]["text"].startswith("…and 385 more not shown.")
    assert len(blocks) <= 50


def test_how_long_ago_reads_like_a_person_would_say_it() -> None:
    assert [
        ago(NOW - d, NOW)
        for d in (
            timedelta(seconds=30),
            timedelta(minutes=12, seconds=30),
            timedelta(hours=3, minutes=5),
            timedelta(days=2, hours=4),
        )
    ] == [
        "just now",
        "12m ago",
        "3h 05m ago",
        "2d 4h ago",
    ]
