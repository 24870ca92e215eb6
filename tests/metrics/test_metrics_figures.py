"""The report's figures on the fixture month (tests/metrics/fixture.py), each worked out by hand from its story."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from app.charts.stats import incidents_per_service
from incidents import metrics_query
from incidents.metrics import NO_TEAM, PRIVATE, Report, report
from incidents.postmortem import communication_gaps
from incidents.queries import get_incident
from incidents.timeline_view import visible_events
from tests.metrics.fixture import NOW, PRIVATE_WORDS, SINCE, seed, seed_private, team_of

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def month(sessions, process):
    seed(sessions, process)
    return sessions


def build(sessions, **filters) -> Report:
    with sessions() as s:
        rows = metrics_query.fetch(s, since=SINCE, until=NOW, **filters)
    return report(rows, now=NOW, timezone="UTC", team_of=team_of, followup_due=timedelta(days=14))


def test_counts_only_the_incidents_declared_in_the_period_by_severity_service_and_team(month):
    r = build(month)
    assert r.total == 6  # INC-1..6; INC-7 was declared on 20 Oct
    assert (r.open, r.resolved) == (2, 4)  # INC-5 and INC-6 are open
    assert r.reopened == 1  # INC-4, once
    assert r.by_severity == {"SEV1": 2, "SEV2": 2, "SEV3": 1, "SEV4": 1}
    assert r.by_service == {"checkout": 3, "payments": 2, "search": 2}  # INC-2 counts for both its services
    assert r.by_team == {"storefront": 3, "payments": 2, "discovery": 2}


def test_time_to_acknowledge_leaves_skipped_milestones_out_rather_than_counting_zero(month):
    r = build(month).to_acknowledge
    # measured: INC-1 5m, INC-2 15m, INC-4 10m, INC-5 20m; skipped: INC-3 (resolved ahead), INC-6 (mitigated ahead)
    assert (r.measured, r.skipped, r.open) == (4, 2, 0)
    assert r.median == 12 * M + 30 * timedelta(seconds=1)  # (10 + 15) / 2
    assert r.p90 == 20 * M  # nearest rank: ceil(0.9 * 4) = the 4th of 4


def test_time_to_mitigate_counts_the_first_mitigation_and_an_unmitigated_open_incident_as_open(month):
    r = build(month).to_mitigate
    # measured: INC-1 30m, INC-2 90m, INC-4 20m (the first, before the reopen), INC-6 25m; skipped: INC-3; open: INC-5
    assert (r.measured, r.skipped, r.open) == (4, 1, 1)
    assert r.median == 27 * M + 30 * timedelta(seconds=1)  # (25 + 30) / 2
    assert r.p90 == 90 * M


def test_time_to_resolve_runs_to_the_final_resolution_of_a_reopened_incident(month):
    r = build(month).to_resolve
    # INC-1 2h, INC-2 3h, INC-3 45m, INC-4 3h10m (resolved at 09:40, reopened, resolved again at 12:10); open: 5, 6
    assert (r.measured, r.skipped, r.open) == (4, 0, 2)
    assert r.median == 2 * H + 30 * M  # (2h + 3h) / 2
    assert r.p90 == 3 * H + 10 * M


def test_weekly_trend_has_every_week_of_the_period_including_empty_ones(month):
    weeks = build(month).weeks
    assert [w.start for w in weeks] == [date(2026, 10, 26) + timedelta(weeks=n) for n in range(6)]
    assert [w.incidents for w in weeks] == [0, 2, 2, 0, 2, 0]
    by_week = {w.start: w for w in weeks}
    assert by_week[date(2026, 11, 2)].to_mitigate.median == 60 * M  # INC-1 30m, INC-2 90m
    assert by_week[date(2026, 11, 9)].to_mitigate.median == 20 * M  # INC-4; INC-3 skipped
    assert by_week[date(2026, 11, 9)].to_mitigate.skipped == 1
    assert by_week[date(2026, 11, 23)].to_mitigate.median == 25 * M  # INC-6; INC-5 open
    assert by_week[date(2026, 11, 23)].to_mitigate.open == 1
    assert by_week[date(2026, 11, 16)].to_mitigate.median is None  # no incident, no figure (not zero)


def test_update_gaps_per_incident_and_per_team(month):
    r = build(month)
    assert set(r.gaps_by_incident) == {"INC-2", "INC-4", "INC-5"}
    assert r.gaps_by_incident["INC-2"].silent == 80 * M  # 10:00 to the update at 11:20
    assert r.gaps_by_incident["INC-4"].silent == 70 * M  # the reopening at 11:00 to the resolution at 12:10
    five = r.gaps_by_incident["INC-5"]
    assert (five.gaps, five.ongoing, five.silent) == (1, 1, timedelta())  # still silent: ongoing, not a length
    storefront = r.gaps_by_team["storefront"]  # INC-2 and INC-5
    assert (storefront.gaps, storefront.ongoing, storefront.silent, storefront.longest) == (2, 1, 80 * M, 80 * M)
    assert r.gaps_by_team["payments"].silent == 80 * M  # INC-2
    assert r.gaps_by_team["discovery"].silent == 70 * M  # INC-4
    assert sorted(r.gap_minutes) == [70.0, 80.0]


def test_gaps_are_the_ones_the_post_mortem_shows(month):
    r = build(month)
    with month() as s:
        for ref in ("INC-2", "INC-4", "INC-5"):
            incident = get_incident(s, ref)
            expected = [(g.started_at, g.ended_at) for g in communication_gaps(incident, visible_events(s, incident))]
            assert [(g.started_at, g.ended_at) for g in r.gaps if g.incident_ref == ref] == expected


def test_followups_opened_done_and_overdue(month):
    f = build(month).followups
    assert (f.opened, f.done, f.open) == (4, 1, 3)  # INC-7's is outside the period
    # Overdue after 14 days: INC-1's open one (opened 2 Nov) and INC-4's (11 Nov); INC-5's is 6 days old
    assert [(o.incident_ref, o.text) for o in f.overdue] == [
        ("INC-1", "Runbook for the payment fallback"),
        ("INC-4", "Index the slow query"),
    ]
    assert f.overdue[0].age == NOW - f.overdue[0].opened_at


def test_an_old_open_follow_up_is_overdue_whatever_its_incidents_declaration_date(month):
    """A seven-day period (what the digest covers) holds no incident older than the 30 days a follow-up may stay
    open; the overdue ones are read apart from the period's."""
    with month() as s:
        r = metrics_query.build_report(s, since=NOW - 7 * D, until=NOW, now=NOW, followup_due=30 * D)
    assert [i.ref for i in r.incidents] == ["INC-5", "INC-6"]  # declared 24 and 25 Nov
    f = r.followups
    assert (f.opened, f.done) == (1, 0)  # INC-5's "Capacity review": opened and done stay with the period
    # INC-7's, opened 20 Oct 11:00: 41 days and 1 hour before NOW; INC-1's open one (2 Nov) is 28 days old
    assert [(o.incident_ref, o.text, o.age) for o in f.overdue] == [("INC-7", "Outside the period", 41 * D + H)]


def test_a_private_incident_counts_in_the_figures_but_shows_only_its_reference_and_severity(month, process):
    seed_private(month, process)
    with month() as s:
        r = metrics_query.build_report(s, since=SINCE, until=NOW, now=NOW, team_of=team_of, followup_due=30 * D)
        full = metrics_query.build_report(
            s, since=SINCE, until=NOW, now=NOW, team_of=team_of, followup_due=30 * D, private_details=True
        )
        by_service = metrics_query.build_report(s, since=SINCE, until=NOW, now=NOW, service="payroll")
    assert r.total == 7  # INC-1..6 and INC-9; INC-8 was declared on 1 Oct
    assert r.by_severity == {"SEV1": 2, "SEV2": 3, "SEV3": 1, "SEV4": 1}  # INC-2, INC-3, INC-9
    assert r.by_service == {"checkout": 3, "payments": 2, "search": 2, PRIVATE: 1}
    assert r.by_team == {"storefront": 3, "payments": 2, "discovery": 2, PRIVATE: 1}
    # measured: 20m (INC-4), 25m (INC-6), 30m (INC-1), 40m (INC-9), 90m (INC-2): the middle one; p90 the 5th of 5
    assert (r.to_mitigate.measured, r.to_mitigate.median, r.to_mitigate.p90) == (5, 30 * M, 90 * M)
    nine = r.incidents[-1]
    assert (nine.ref, nine.severity, nine.title, nine.services, nine.private) == ("INC-9", "SEV2", "", (), True)
    # overdue after 30 days: INC-8's (1 Oct 12:00, 60 days), then INC-7's (20 Oct 11:00, 41 days)
    assert [(o.incident_ref, o.text, o.owner_id, o.private) for o in r.followups.overdue] == [
        ("INC-8", "", None, True),
        ("INC-7", "Outside the period", "U03CAROL", False),
    ]
    assert incidents_per_service(r).labels == ("checkout", "payments", "search", PRIVATE)
    assert not any(word in json.dumps(r.as_dict()) for word in PRIVATE_WORDS)
    # a service filter would tell a private incident's service: it never matches one
    assert (by_service.total, by_service.followups.overdue) == (0, ())
    # the operator's CLI keeps everything
    assert full.by_service == {"checkout": 3, "payments": 2, "search": 2, "payroll": 1}
    assert full.incidents[-1].title == "Payroll export exposed"
    assert full.followups.overdue[0].text == "Rotate the payroll keys"


def test_filters_by_service_and_severity(month):
    checkout = build(month, service="Checkout")
    assert checkout.total == 3 and checkout.by_service["checkout"] == 3
    assert checkout.to_mitigate.measured == 2 and checkout.to_mitigate.open == 1  # INC-1, INC-2; INC-5 open
    sev2 = build(month, severity="SEV2")
    assert sev2.total == 2 and sev2.by_severity == {"SEV2": 2}
    assert sev2.to_acknowledge.skipped == 1  # INC-3


def test_an_incident_with_no_known_team_counts_under_no_team(month):
    with month() as s:
        rows = metrics_query.fetch(s, since=SINCE, until=NOW)
    r = report(rows, now=NOW)
    assert r.by_team == {NO_TEAM: 6}


def test_json_shape_carries_seconds_and_the_filters(month):
    data = build(month, severity="SEV1").as_dict()
    assert data["filters"] == {"service": None, "severity": "SEV1"}
    assert data["durations"]["to_acknowledge"] == {
        "measured": 2,
        "skipped": 0,
        "open": 0,
        "median_seconds": 750.0,  # INC-1 5m, INC-5 20m
        "p90_seconds": 1200.0,
    }
