"""How the draft shows time (the configured zone; dates when the incident spans days), open incidents, owners,
Slack markup, and a team's own template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.postmortem.markup import slack_to_markdown
from app.postmortem.render import TemplateProblem, render_markdown
from incidents import service
from incidents.postmortem import build
from incidents.queries import get_incident

LATE = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)  # 23:30 in Paris, 17:30 in New York


@pytest.fixture
def across_midnight(sessions, process):
    """Declared at 23:30 Paris time, resolved at 01:10 the next day."""
    with sessions.begin() as s:
        inc = service.declare(s, title="Search is slow", severity="SEV3", reporter_id="U1", now=LATE, process=process)
        service.acknowledge(s, inc, user_id="U2", now=LATE + timedelta(minutes=5))
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by="U2", now=LATE + timedelta(minutes=100), process=process)


def draft(sessions, timezone="Europe/Paris", **kw):
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=LATE + timedelta(hours=3), timezone=timezone, **kw)
    return data, render_markdown(data, template_path=kw.pop("template_path", None))


def test_an_incident_across_midnight_shows_dates_and_a_heading_per_day(sessions, across_midnight):
    data, text = draft(sessions)
    assert data.spans_days
    assert "| Date | Saturday 21 November 2026 to Sunday 22 November 2026 |" in text
    assert "| Declared | 2026-11-21 23:30 | — |" in text
    assert "| Resolved | 2026-11-22 01:10 | 1h 40m (time to resolve) |" in text
    saturday, sunday = text.index("### Saturday 21 November 2026"), text.index("### Sunday 22 November 2026")
    assert saturday < text.index("**23:30** INC-1 declared") < text.index("**23:35** Acknowledged") < sunday
    assert sunday < text.index("**01:10** Resolved")


def test_the_same_incident_in_new_york_happened_on_one_day_and_shows_times_only(sessions, across_midnight):
    data, text = draft(sessions, timezone="America/New_York")
    assert not data.spans_days
    assert "All times are in America/New_York (UTC-05:00)." in text
    assert "| Date | Saturday 21 November 2026 |" in text
    assert "| Declared | 17:30 | — |" in text
    assert "### Saturday" not in text
    assert "- **17:30** INC-1 declared as SEV3: Search is slow" in text


def test_utc_is_named_plainly(sessions, across_midnight):
    _, text = draft(sessions, timezone="UTC")
    assert "All times are in UTC." in text
    assert "| Declared | 2026-11-21 22:30 | — |" in text, "22:30 to 00:10 UTC crosses midnight too"


def test_the_zone_label_uses_the_incidents_offset_not_the_export_days(sessions, process):
    """A January incident in Paris was at UTC+01:00, even when the draft is exported in July (summer time)."""
    january = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    with sessions.begin() as s:
        inc = service.declare(s, title="t", severity="SEV3", reporter_id="U1", now=january, process=process)
        service.resolve(s, inc, by="U1", now=january + timedelta(hours=1), process=process)
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=datetime(2026, 7, 1, 12, 0, tzinfo=UTC), timezone="Europe/Paris")
    text = render_markdown(data)
    assert "All times are in Europe/Paris (UTC+01:00)." in text
    assert "| Declared | 10:00 | — |" in text


def test_an_incident_across_a_clock_change_names_the_zone_and_both_offsets(sessions, process):
    """Declared at 01:30 CET on 29 March 2026, resolved at 04:00 CEST: the clocks went forward in between."""
    declared = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with sessions.begin() as s:
        inc = service.declare(s, title="t", severity="SEV3", reporter_id="U1", now=declared, process=process)
        service.resolve(s, inc, by="U1", now=declared + timedelta(hours=1, minutes=30), process=process)
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=datetime(2026, 11, 1, tzinfo=UTC), timezone="Europe/Paris")
    text = render_markdown(data)
    zone = "Europe/Paris (UTC+01:00, then UTC+02:00: the clocks changed during the incident)"
    assert f"All times are in {zone}." in text
    assert "| Declared | 01:30 | — |" in text and "| Resolved | 04:00 | 1h 30m (time to resolve) |" in text


def test_a_reopened_incident_shows_its_first_mitigation_and_says_it_was_reopened(sessions, process, now):
    """Milestones are firsts (service.reopen): mitigated at 15:10, resolved finally at 15:50, reopened at 15:20."""
    with sessions.begin() as s:
        inc = service.declare(s, title="t", severity="SEV3", reporter_id="U1", now=now, process=process)
        service.mark_mitigated(s, inc, by="U1", now=now + timedelta(minutes=10))
        service.resolve(s, inc, by="U1", now=now + timedelta(minutes=15), process=process)
        service.reopen(s, inc, by="U1", now=now + timedelta(minutes=20), process=process)
        service.resolve(s, inc, by="U1", now=now + timedelta(minutes=50), process=process)
    with sessions() as s:
        text = render_markdown(build(s, get_incident(s, 1), now=now + timedelta(hours=1), timezone="Europe/Paris"))
    assert "| Mitigated | 15:10 | 10m 00s (time to mitigate) |" in text
    assert "| Resolved | 15:50 | 50m 00s (time to resolve) |" in text
    assert "Reopened at 15:20: acknowledged and\nmitigated are the first times, resolved is the final" in text
    assert "Skipped ahead: acknowledged recorded" in text  # by the first mitigation
    assert "Skipped ahead: mitigated" not in text


def test_an_open_incident_exports_with_the_milestones_it_has_not_reached(sessions, process):
    with sessions.begin() as s:
        service.declare(s, title="Login errors", severity="SEV2", reporter_id="U1", now=LATE, process=process)
    _, text = draft(sessions)
    assert "| Acknowledged | not yet | — |" in text
    assert "| Resolved | not yet | — |" in text
    assert "_Nobody took a role._" in text
    assert "_No stakeholder update was posted._" in text
    assert "No update window was missed." in text
    assert "_No follow-up action yet" in text


def test_services_without_an_ownership_map_are_listed_without_owners(sessions, process):
    with sessions.begin() as s:
        service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=LATE, process=process, services=["search"])
    _, text = draft(sessions)
    assert "- **search**\n" in text
    assert "No ownership map was configured" in text
    _, text = draft(sessions, owners_of=lambda name: None)
    assert "- **search**: no owner found in the ownership map" in text


def test_a_severity_kept_from_declaration_is_not_called_changed(sessions, across_midnight, process):
    _, text = draft(sessions, process=process)
    assert "| Severity | SEV3 (Minor: a feature is degraded for some customers, with a workaround) |" in text


def test_a_private_incident_says_so_in_its_draft(sessions, process):
    with sessions.begin() as s:
        service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=LATE, process=process, private=True)
    _, text = draft(sessions)
    assert "| Visibility | private" in text


def test_people_without_a_known_name_are_shown_by_id(sessions, across_midnight):
    _, text = draft(sessions)
    assert "Acknowledged by @U2" in text
    _, text = draft(sessions, name_of={"U2": "bob"}.get)
    assert "Acknowledged by @bob" in text


@pytest.mark.parametrize(
    ("slack", "markdown"),
    [
        ("ask <@U02BOB>", "ask @bob"),
        ("ask <@U09X|zed>", "ask @zed"),
        ("ask <@U09X>", "ask @U09X"),
        ("see <#C123|ops>", "see #ops"),
        ("<!here> look", "@here look"),
        ("<!subteam^S123|@payments-oncall> look", "@payments-oncall look"),
        ("<https://x.example/a?b=1&amp;c=2|the graph>", "[the graph](https://x.example/a?b=1&c=2)"),
        ("<https://x.example>", "<https://x.example>"),
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
        ("*bold* and ~gone~", "**bold** and ~~gone~~"),
        ("5 * 3 * 2", "5 * 3 * 2"),
    ],
)
def test_slack_markup_becomes_markdown(slack, markdown):
    assert slack_to_markdown(slack, {"U02BOB": "bob"}) == markdown


def test_a_team_template_replaces_the_built_in_one(sessions, across_midnight, tmp_path):
    template = tmp_path / "ours.md.j2"
    template.write_text(
        "# {{ pm.ref }} review\n{% for e in pm.timeline %}{{ when(e.occurred_at) }} {{ md(e.text) }}\n{% endfor %}"
    )
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=LATE, timezone="Europe/Paris")
    text = render_markdown(data, template_path=template)
    assert text.startswith("# INC-1 review\n2026-11-21 23:30 INC-1 declared as SEV3: Search is slow\n")


def test_an_edited_team_template_is_read_again(sessions, across_midnight, tmp_path):
    import os

    template = tmp_path / "ours.md.j2"
    template.write_text("v1 {{ pm.ref }}")
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=LATE)
    assert render_markdown(data, template_path=template) == "v1 INC-1"
    template.write_text("v2 {{ pm.ref }}")
    os.utime(template, (1, 1))  # a different modification time, whatever the file system's resolution
    assert render_markdown(data, template_path=template) == "v2 INC-1"


def test_a_template_with_a_syntax_error_is_reported_with_its_line(sessions, across_midnight, tmp_path):
    template = tmp_path / "broken.md.j2"
    template.write_text("# fine\n{% for x in %}\n")
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=LATE)
    with pytest.raises(TemplateProblem, match=r"broken.md.j2 has an error on line 2"):
        render_markdown(data, template_path=template)


def test_a_template_naming_an_unknown_field_fails_clearly(sessions, across_midnight, tmp_path):
    template = tmp_path / "typo.md.j2"
    template.write_text("{{ pm.titel }}")
    with sessions() as s:
        data = build(s, get_incident(s, 1), now=LATE)
    with pytest.raises(TemplateProblem, match="titel"):
        render_markdown(data, template_path=template)


def test_the_default_template_ships_inside_the_package():
    from importlib import resources

    assert (resources.files("incidents") / "templates" / "postmortem.md.j2").is_file()
