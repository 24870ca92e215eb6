"""A month of incidents built through the use cases at fixed instants (the clock is a parameter: every use case is
given its `now`), with the stakeholder-update gaps recorded by real reminder ticks. The figures each test expects
are worked out by hand in tests/metrics/test_metrics_figures.py from the story told here.

    INC-1 SEV1 checkout           Mon 2 Nov 09:00  ack +5m, update +10m, mitigated +30m, resolved +2h
    INC-2 SEV2 checkout, payments Tue 3 Nov 10:00  ack +15m, gap from 10:00 (missed at 11:00) to the update at
                                                   11:20 (80 min), mitigated +90m, resolved +3h
    INC-3 SEV2 payments           Tue 10 Nov 09:00 resolved +45m with nothing before: ack and mitigation skipped
    INC-4 SEV3 search             Wed 11 Nov 09:00 ack +10m, mitigated +20m, resolved +40m, reopened at 11:00, gap
                                                   from 11:00 (missed at 12:00) to the resolution at 12:10
                                                   (70 min), mitigated again 11:30, resolved again 12:10 (+3h10m)
    INC-5 SEV1 checkout           Tue 24 Nov 09:00 ack +20m, still open, not mitigated; gap from 09:00 (missed at
                                                   10:00) still ongoing
    INC-6 SEV4 search             Wed 25 Nov 09:00 mitigated +25m without an acknowledgement (skipped), still open
    INC-7 SEV3 (no service)       Tue 20 Oct 09:00 (declared last) before the period: never counted

Follow-ups: INC-1 two opened 2 Nov 12:00 (one done 5 Nov), INC-4 one opened 11 Nov 13:00, INC-5 one opened 24 Nov
12:00, INC-7 one opened 20 Oct (outside). Teams: checkout -> storefront, payments -> payments, search -> discovery.
The report is asked for at NOW, Mon 30 Nov 12:00 UTC, over the 30 days before it.

`seed_private` adds, after those, two private incidents (the figures above do not include them):

    INC-8 SEV2 payroll (private)  Thu 1 Oct 09:00  "Payroll keys leaked", resolved +1h; follow-up "Rotate the
                                                   payroll keys" opened 1 Oct 12:00, still open (60 days at NOW)
    INC-9 SEV2 payroll (private)  Thu 26 Nov 09:00 "Payroll export exposed", ack +10m, mitigated +40m, still open;
                                                   follow-up "Tell HR about the export" opened 26 Nov 12:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from incidents import followups, reminders, service
from incidents.process import Process
from incidents.queries import get_incident

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
TEAMS = {"checkout": "storefront", "payments": "payments", "search": "discovery"}
M = timedelta(minutes=1)


def team_of(service_name: str) -> str | None:
    return TEAMS.get(service_name)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def seed(sessions: sessionmaker[Session], process: Process | None = None) -> None:
    process = process or Process()

    def declare(when: datetime, severity: str, services: list[str], title: str) -> int:
        with sessions.begin() as s:
            return service.declare(
                s, title=title, severity=severity, services=services, reporter_id="U01ALICE", now=when, process=process
            ).number

    def use(number: int, case, **kw) -> None:  # type: ignore[no-untyped-def]
        with sessions.begin() as s:
            case(s, get_incident(s, number, for_update=True), **kw)

    def ack(n: int, when: datetime) -> None:
        use(n, service.acknowledge, user_id="U02BOB", now=when)

    def mitigate(n: int, when: datetime) -> None:
        use(n, service.mark_mitigated, by="U02BOB", now=when)

    def resolve(n: int, when: datetime) -> None:
        use(n, service.resolve, by="U02BOB", now=when, process=process)

    def update(n: int, when: datetime) -> None:
        use(n, service.post_status_update, text="Working on it", author_id="U02BOB", now=when, process=process)

    def followup(n: int, when: datetime, text: str) -> None:
        use(n, followups.add_followup, text=text, owner_id="U03CAROL", by="U02BOB", now=when)

    def tick(when: datetime) -> None:
        reminders.tick(sessions, now=when, process=process)

    t = at(2, 9)
    one = declare(t, "SEV1", ["checkout"], "Checkout is down")
    ack(one, t + 5 * M)
    update(one, t + 10 * M)
    mitigate(one, t + 30 * M)
    resolve(one, t + 120 * M)
    followup(one, at(2, 12), "Alert on checkout error rate")
    followup(one, at(2, 12, 1), "Runbook for the payment fallback")
    with sessions.begin() as s:
        inc = get_incident(s, one)
        first = min(f.id for f in inc.followups)
        followups.mark_done(s, inc, followup_id=first, by="U03CAROL", now=at(5, 9))

    t = at(3, 10)
    two = declare(t, "SEV2", ["checkout", "payments"], "Payments time out")
    ack(two, t + 15 * M)
    tick(t + 30 * M)  # reminded
    tick(t + 60 * M)  # the window closed without an update: a gap since 10:00
    update(two, t + 80 * M)
    mitigate(two, t + 60 * M + 30 * M)
    resolve(two, t + 180 * M)

    t = at(10, 9)
    three = declare(t, "SEV2", ["payments"], "Refunds stuck")
    resolve(three, t + 45 * M)

    t = at(11, 9)
    four = declare(t, "SEV3", ["search"], "Search is slow")
    ack(four, t + 10 * M)
    mitigate(four, t + 20 * M)
    resolve(four, t + 40 * M)
    use(four, service.reopen, by="U02BOB", now=t + 120 * M, process=process)
    tick(t + 150 * M)  # reminded (the window began at the reopening, 11:00)
    mitigate(four, t + 150 * M)
    tick(t + 180 * M)  # a gap since 11:00
    resolve(four, t + 190 * M)
    followup(four, at(11, 13), "Index the slow query")

    t = at(24, 9)
    five = declare(t, "SEV1", ["checkout"], "Checkout errors again")
    ack(five, t + 20 * M)
    tick(t + 30 * M)
    tick(t + 60 * M)  # a gap since 09:00, never ended
    followup(five, at(24, 12), "Capacity review")

    t = at(25, 9)
    six = declare(t, "SEV4", ["search"], "Typos in suggestions")
    mitigate(six, t + 25 * M)

    old = declare(at(20, 9, month=10), "SEV3", [], "Old news")  # declared last, dated before the period
    resolve(old, at(20, 10, month=10))
    followup(old, at(20, 11, month=10), "Outside the period")
    assert (one, two, three, four, five, six, old) == (1, 2, 3, 4, 5, 6, 7), "numbers follow the declarations"


PRIVATE_WORDS = ("payroll", "Payroll", "Tell HR", "U04DAVE")  # what must never reach a public conversation


def seed_private(sessions: sessionmaker[Session], process: Process | None = None) -> None:
    """INC-8 and INC-9, private (after `seed`)."""
    process = process or Process()

    def declare(when: datetime, title: str) -> int:
        with sessions.begin() as s:
            return service.declare(
                s,
                title=title,
                severity="SEV2",
                services=["payroll"],
                private=True,
                reporter_id="U04DAVE",
                now=when,
                process=process,
            ).number

    def use(number: int, case, **kw) -> None:  # type: ignore[no-untyped-def]
        with sessions.begin() as s:
            case(s, get_incident(s, number, for_update=True), **kw)

    eight = declare(at(1, 9, month=10), "Payroll keys leaked")
    use(eight, service.resolve, by="U04DAVE", now=at(1, 10, month=10), process=process)
    use(
        eight,
        followups.add_followup,
        text="Rotate the payroll keys",
        owner_id="U04DAVE",
        by="U04DAVE",
        now=at(1, 12, month=10),
    )
    nine = declare(at(26, 9), "Payroll export exposed")
    use(nine, service.acknowledge, user_id="U04DAVE", now=at(26, 9, 10))
    use(nine, service.mark_mitigated, by="U04DAVE", now=at(26, 9, 40))
    use(nine, followups.add_followup, text="Tell HR about the export", owner_id="U04DAVE", by="U04DAVE", now=at(26, 12))
    assert (eight, nine) == (8, 9)
