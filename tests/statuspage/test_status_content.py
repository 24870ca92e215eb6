"""What the status page and its feeds say: current and past incidents with their status, severity, duration and
stakeholder updates, newest first; the JSON Feed 1.1 and Atom (RFC 4287) shapes; what people wrote made safe."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from tests.statuspage.site import Site

ATOM = "{http://www.w3.org/2005/Atom}"


def a_day_of_incidents(site: Site) -> tuple[str, str]:
    """One incident resolved yesterday after 1h 15m, one open since 20 minutes ago."""
    old = site.declare("Search is slow", severity="SEV3", ago=24 * 60)
    site.clock.advance(minutes=-(24 * 60 - 10))
    site.update(old, "We found a slow index and are rebuilding it.", impact="Searches take 10 s")
    site.clock.advance(minutes=65)
    site.update(old, "The index is rebuilt; search is fast again.")
    site.resolve(old)
    site.clock.advance(minutes=24 * 60 - 75)  # back to 14:00 today
    new = site.declare("Checkout is down", severity="SEV1", ago=20)
    site.update(new, "Card payments fail; we are rolling back.", next_steps="Roll back", eta="30 minutes")
    return old, new


def test_the_page_shows_current_then_past_incidents_with_status_severity_and_duration(site: Site) -> None:
    old, new = a_day_of_incidents(site)
    page = site.get("/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    current, past = page.text.split('id="current"')[1].split('id="past"')
    assert new in current and "Checkout is down" in current and old not in current
    assert old in past and "Search is slow" in past
    assert "SEV1" in current and "Investigating" in current
    assert "SEV3" in past and "Resolved" in past and "lasted 1h 15m" in past
    assert "Card payments fail; we are rolling back." in current
    assert "Next steps:</strong> Roll back" in current and "ETA:</strong> 30 minutes" in current
    assert "1 current incident" in page.text
    # updates newest first
    assert past.index("search is fast again") < past.index("We found a slow index")


def test_with_nothing_going_on_the_page_says_so(site: Site) -> None:
    page = site.get("/")
    assert page.status == 200
    assert "No current incidents" in page.text and "No incidents in the last 90 days" in page.text


def test_an_incident_without_an_update_yet_shows_with_its_status_only(site: Site) -> None:
    ref = site.declare("Login errors")
    text = site.get("/").text
    assert ref in text and "Login errors" in text and "No update has been posted yet." in text
    assert "summary of Login errors" not in text  # the declaration's summary is not a stakeholder update


def test_only_the_last_days_are_shown_and_days_narrows_them(site: Site) -> None:
    ancient = site.declare("Ancient outage", ago=100 * 24 * 60)
    site.resolve(ancient)  # resolved now: still within the window
    older = site.declare("Last month", ago=40 * 24 * 60)
    site.clock.advance(days=-35)
    site.resolve(older)
    site.clock.advance(days=35)
    assert "Last month" in site.get("/").text
    assert "Last month" not in site.get("/?days=30").text
    assert "Ancient outage" in site.get("/?days=1").text
    site.clock.advance(days=91)
    assert "Ancient outage" not in site.get("/").text and "Last month" not in site.get("/").text


def test_the_json_feed_is_json_feed_1_1_with_one_item_per_update_newest_first(site: Site) -> None:
    old, new = a_day_of_incidents(site)
    answer = site.get("/feed.json")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/feed+json; charset=utf-8"
    feed = json.loads(answer.body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Service status"
    assert feed["home_page_url"] == "http://localhost:3000/status/"
    assert feed["feed_url"] == "http://localhost:3000/status/feed.json"
    items = feed["items"]
    assert [i["_incident"]["ref"] for i in items] == [new, old, old]
    first = items[0]
    assert first["title"] == f"{new}: Checkout is down (Investigating, SEV1)"
    assert first["content_text"].startswith("Card payments fail; we are rolling back.")
    assert "ETA: 30 minutes" in first["content_text"]
    assert first["date_published"] == "2026-11-21T14:00:00Z"
    assert first["url"] == f"http://localhost:3000/status/#{new}"
    for item in items:
        assert re.fullmatch(r"tag:localhost,2026:INC-\d+/update/\d+", item["id"])
        assert item["content_html"].startswith("<p>")
    assert len({i["id"] for i in items}) == 3
    incidents = {i["ref"]: i for i in feed["_status_page"]["incidents"]}
    assert incidents[old]["duration"] == "1h 15m" and incidents[old]["status"] == "resolved"
    assert incidents[new]["resolved_at"] is None and incidents[new]["severity"] == "SEV1"


def test_the_atom_feed_has_the_required_elements_and_stable_ids(site: Site) -> None:
    old, new = a_day_of_incidents(site)
    answer = site.get("/feed.atom")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(answer.body)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "tag:localhost,2026:status"
    assert feed.findtext(f"{ATOM}title") == "Service status"
    assert feed.findtext(f"{ATOM}updated") == "2026-11-21T14:00:00Z"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost:3000/status/feed.atom"  # type: ignore[union-attr]
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Service status"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert entry.find(f"{ATOM}content").get("type") == "html"  # type: ignore[union-attr]
    assert entries[0].findtext(f"{ATOM}title") == f"{new}: Checkout is down (Investigating, SEV1)"
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    site.clock.advance(minutes=5)
    site.update(new, "Rolled back; payments recover.")
    again = [e.findtext(f"{ATOM}id") for e in ET.fromstring(site.get("/feed.atom").body).findall(f"{ATOM}entry")]
    assert again[1:] == ids  # the new one on top, the others unchanged


def test_an_update_posted_appears_at_once_with_the_status_it_has_now(site: Site) -> None:
    ref = site.declare("Checkout is down")
    assert "Rolling back" not in site.get("/").text
    site.update(ref, "Rolling back the deploy.")
    assert "Rolling back the deploy." in site.get("/").text
    assert "Rolling back the deploy." in site.get("/feed.json").text
    assert "Rolling back the deploy." in site.get("/feed.atom").text
    site.resolve(ref)
    page = site.get("/").text
    assert "1 current incident" not in page and "lasted 20m" not in page
    assert f"{ref}: Checkout is down (Resolved, SEV2)" in site.get("/feed.json").text


def test_what_people_wrote_is_escaped_and_never_shows_slack_ids(site: Site) -> None:
    ref = site.declare('Checkout <script>alert("title")</script>')
    site.update(
        ref,
        "*Rolled back* with <@U0ALICE>, <@U0BOB|bob> and <!subteam^S0ONCALL|@oncall> in <#C0OPS|ops> and <#C0SECRET>. "
        "<!here> See <https://grafana.example.com/d/1?a=1&amp;b=2|the graph> or <javascript:alert(1)|this>. "
        "&lt;script&gt;alert('update')&lt;/script&gt; 5 &lt; 6 <script>alert('raw')</script>",
    )
    for target in ("/", "/feed.json", "/feed.atom"):
        body = site.get(target).text
        for leaked in ("U0ALICE", "U0BOB", "S0ONCALL", "C0OPS", "C0SECRET", "javascript:", "<!here>"):
            assert leaked not in body, (target, leaked)
    html_of_json = json.loads(site.get("/feed.json").body)["items"][0]["content_html"]
    for html in (site.get("/").text, site.get("/feed.atom").text, html_of_json):  # JSON titles are plain text
        assert "<script>alert" not in html
    page = site.get("/").text
    assert "Checkout &lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page
    assert "<strong>Rolled back</strong> with a team member, a team member and a team in #ops and a channel." in page
    assert (
        '<a href="https://grafana.example.com/d/1?a=1&amp;b=2" rel="nofollow noopener noreferrer">the graph</a>' in page
    )
    assert "or this." in page and "5 &lt; 6" in page and "&lt;script&gt;alert('update')" in page
    item = json.loads(site.get("/feed.json").body)["items"][0]
    assert item["content_text"].startswith("Rolled back with a team member, a team member and a team in #ops")
    assert "the graph (https://grafana.example.com/d/1?a=1&b=2)" in item["content_text"]
    assert "&lt;script&gt;alert('update')&lt;/script&gt; 5 &lt; 6" in item["content_html"]
