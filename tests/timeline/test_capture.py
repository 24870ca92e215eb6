"""Messages marked as important in the incident channel (pinned, or reacted to with the capture emoji)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from incidents import capture, db
from incidents.capture import PIN, mark_message, message_time, reaction_mark, unmark_message
from incidents.errors import InvalidInput
from incidents.models import MessageMark, TimelineEvent
from incidents.queries import get_incident
from incidents.timeline_view import visible_events

CHANNEL = "C0INC1"


def ts_at(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def mark(change, now, *, ts, mark=PIN, text="payments-api error rate is 31%", thread_ts=None, author="U03CAROL"):
    return change(
        lambda s, inc: (
            mark_message(
                s,
                inc,
                channel=CHANNEL,
                ts=ts,
                thread_ts=thread_ts,
                author_id=author,
                text=text,
                permalink=f"https://example.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}",
                mark=mark,
                now=now,
            ).changed
        )
    )


def unmark(change, now, *, ts, mark=PIN):
    return change(lambda s, inc: unmark_message(s, inc, channel=CHANNEL, ts=ts, mark=mark, now=now))


def messages(sessions):
    with sessions() as s:
        return [e for e in visible_events(s, get_incident(s, 1)) if e.kind == "message"]


def counts(sessions):
    with sessions() as s:
        events = s.scalar(select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "message"))
        marks = s.scalar(select(func.count()).select_from(MessageMark))
        return events, marks


def test_a_pinned_message_lands_on_the_timeline_with_its_own_time_author_text_and_permalink(
    sessions, change, declared, now
):
    posted = now + timedelta(minutes=3, seconds=12, microseconds=400)
    assert mark(change, now + timedelta(minutes=20), ts=ts_at(posted)) is True
    [entry] = messages(sessions)
    assert entry.occurred_at == posted, "dated when it was posted, not when it was pinned"
    assert entry.recorded_at == now + timedelta(minutes=20)
    assert entry.actor_id == "U03CAROL"
    assert entry.text == "payments-api error rate is 31%"
    assert entry.link == f"https://example.slack.com/archives/{CHANNEL}/p{ts_at(posted).replace('.', '')}"
    assert entry.data["channel"] == CHANNEL and entry.data["ts"] == ts_at(posted)


def test_a_message_reacted_to_with_the_capture_emoji_lands_on_the_timeline(sessions, change, declared, now):
    assert mark(change, now, ts=ts_at(now), mark=reaction_mark("U02BOB", "pushpin")) is True
    assert [e.text for e in messages(sessions)] == ["payments-api error rate is 31%"]


def test_a_message_pinned_and_reacted_to_by_several_people_is_stored_once(sessions, change, declared, now):
    ts = ts_at(now + timedelta(minutes=1))
    mark(change, now, ts=ts, mark=PIN)
    mark(change, now, ts=ts, mark=reaction_mark("U02BOB", "pushpin"))
    mark(change, now, ts=ts, mark=reaction_mark("U04DAN", "pushpin"))
    assert len(messages(sessions)) == 1
    assert counts(sessions) == (1, 3)


def test_the_same_mark_delivered_twice_changes_nothing(sessions, change, declared, now):
    """Slack retries events; the second delivery of one pin is a no-op."""
    ts = ts_at(now)
    assert mark(change, now, ts=ts) is True
    assert mark(change, now + timedelta(seconds=5), ts=ts) is False
    assert counts(sessions) == (1, 1)


def test_unpinning_keeps_the_message_while_a_reaction_remains(sessions, change, declared, now):
    ts = ts_at(now)
    mark(change, now, ts=ts, mark=PIN)
    mark(change, now, ts=ts, mark=reaction_mark("U02BOB", "pushpin"))
    assert unmark(change, now, ts=ts, mark=PIN) is False
    assert len(messages(sessions)) == 1


def test_removing_the_last_mark_takes_the_message_off_the_timeline(sessions, change, declared, now):
    ts = ts_at(now)
    mark(change, now, ts=ts, mark=reaction_mark("U02BOB", "pushpin"))
    mark(change, now, ts=ts, mark=reaction_mark("U04DAN", "pushpin"))
    assert unmark(change, now, ts=ts, mark=reaction_mark("U02BOB", "pushpin")) is False
    assert unmark(change, now + timedelta(minutes=2), ts=ts, mark=reaction_mark("U04DAN", "pushpin")) is True
    assert messages(sessions) == []
    with sessions() as s:
        hidden = s.scalar(select(TimelineEvent).where(TimelineEvent.kind == "message"))
        assert hidden.removed_at == now + timedelta(minutes=2), "kept as history, hidden"


def test_one_persons_reaction_removed_does_not_remove_anothers(sessions, change, declared, now):
    ts = ts_at(now)
    mark(change, now, ts=ts, mark=reaction_mark("U02BOB", "pushpin"))
    assert unmark(change, now, ts=ts, mark=reaction_mark("U04DAN", "pushpin")) is False
    assert len(messages(sessions)) == 1


def test_marking_a_removed_message_again_restores_it_with_its_current_text(sessions, change, declared, now):
    ts = ts_at(now)
    mark(change, now, ts=ts, text="first words")
    unmark(change, now, ts=ts)
    assert mark(change, now + timedelta(minutes=9), ts=ts, text="edited words") is True
    [entry] = messages(sessions)
    assert entry.text == "edited words"
    assert entry.occurred_at == message_time(ts)
    assert counts(sessions) == (1, 1)


def test_a_thread_reply_is_captured_and_knows_its_thread(sessions, change, declared, now):
    parent, reply = ts_at(now), ts_at(now + timedelta(minutes=4))
    mark(change, now, ts=reply, thread_ts=parent, text="rolling back now", author="U04DAN")
    [entry] = messages(sessions)
    assert entry.in_thread and entry.data["thread_ts"] == parent
    assert entry.occurred_at == now + timedelta(minutes=4)


def test_a_thread_parent_is_not_marked_as_a_reply(sessions, change, declared, now):
    ts = ts_at(now)
    mark(change, now, ts=ts, thread_ts=ts)
    [entry] = messages(sessions)
    assert not entry.in_thread


def test_unmarking_a_message_that_was_never_marked_does_nothing(sessions, change, declared, now):
    assert unmark(change, now, ts=ts_at(now)) is False
    assert counts(sessions) == (0, 0)


def test_captured_messages_take_their_place_in_time_among_other_events(sessions, change, declared, now):
    from incidents import service

    change(lambda s, inc: service.acknowledge(s, inc, user_id="U02BOB", now=now + timedelta(minutes=10)))
    mark(change, now + timedelta(minutes=30), ts=ts_at(now + timedelta(minutes=5)))
    with sessions() as s:
        kinds = [e.kind for e in visible_events(s, get_incident(s, 1))]
    assert kinds == ["declared", "message", "acknowledged", "role_assigned"]


def test_a_very_long_message_is_clipped(sessions, change, declared, now):
    mark(change, now, ts=ts_at(now), text="x" * 10_000)
    [entry] = messages(sessions)
    assert len(entry.text) == capture.TEXT_LIMIT and entry.text.endswith("…")


def test_message_time_reads_slack_timestamps_to_the_microsecond():
    assert message_time("1795269912.000200") == datetime(2026, 11, 21, 14, 5, 12, 200, tzinfo=UTC)


def test_a_malformed_slack_timestamp_is_refused():
    with pytest.raises(InvalidInput):
        message_time("yesterday")


@pytest.mark.postgres_only
def test_two_replicas_marking_the_same_message_at_once_store_it_once(pg_url, now, process):
    """Both insert; the second waits on the first's uniqueness check, then does nothing."""
    from incidents import service

    engine = db.make_engine(pg_url)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as s:
        service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=now, process=process)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def mark_as(user: str) -> None:
        try:
            with sessions.begin() as s:
                inc = get_incident(s, 1)  # no row lock: both run at once
                barrier.wait()
                mark_message(
                    s,
                    inc,
                    channel=CHANNEL,
                    ts=ts_at(now),
                    thread_ts=None,
                    author_id="U3",
                    text="x",
                    permalink=None,
                    mark=reaction_mark(user, "pushpin"),
                    now=now,
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=mark_as, args=(u,)) for u in ("U1", "U2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    try:
        assert errors == []
        assert counts(sessions) == (1, 2)
    finally:
        engine.dispose()


def test_a_mark_handled_after_its_own_removal_is_not_applied(sessions, change, declared, now):
    """Slack sends pin_added then pin_removed; handled in parallel, the removal can be handled first."""
    ts = ts_at(now)
    pinned_at, unpinned_at = now + timedelta(seconds=1), now + timedelta(seconds=2)
    change(lambda s, inc: unmark_message(s, inc, channel=CHANNEL, ts=ts, mark=PIN, now=now, unmarked_at=unpinned_at))
    marked = change(
        lambda s, inc: (
            mark_message(
                s,
                inc,
                channel=CHANNEL,
                ts=ts,
                thread_ts=None,
                author_id="U1",
                text="x",
                permalink=None,
                mark=PIN,
                now=now,
                marked_at=pinned_at,
            ).event
        )
    )
    assert marked is None
    assert messages(sessions) == []


def test_marking_again_after_a_removal_counts(sessions, change, declared, now):
    ts = ts_at(now)
    for step, (how, seconds) in enumerate([("mark", 1), ("unmark", 2), ("mark", 3)]):
        at = now + timedelta(seconds=seconds)
        if how == "mark":
            change(
                lambda s, inc, at=at: mark_message(
                    s,
                    inc,
                    channel=CHANNEL,
                    ts=ts,
                    thread_ts=None,
                    author_id="U1",
                    text="x",
                    permalink=None,
                    mark=PIN,
                    now=at,
                    marked_at=at,
                )
            )
        else:
            change(
                lambda s, inc, at=at: unmark_message(s, inc, channel=CHANNEL, ts=ts, mark=PIN, now=at, unmarked_at=at)
            )
        assert len(messages(sessions)) == (0 if how == "unmark" else 1), step
