"""A private incident never shows: not on the page, not in either feed, not through ?incident=, not even by
changing the ETag. And only what stakeholder updates said: never the summary, notes, or who wrote them."""

from __future__ import annotations

import json

from incidents import service
from tests.statuspage.site import REPORTER, Site

PAGES = ("/", "/feed.json", "/feed.atom")


def test_a_private_incident_and_its_updates_never_show(site: Site) -> None:
    public = site.declare("Checkout is down")
    site.update(public, "Rolling back.")
    secret = site.declare("Payroll data exposed", severity="SEV1", private=True)
    site.update(secret, "Legal is informed; rotating the keys.")
    site.resolve(secret)
    for target in PAGES:
        body = site.get(target).text
        assert "Checkout is down" in body
        for leaked in ("Payroll", "Legal is informed", secret):
            assert leaked not in body, (target, leaked)
    feed = json.loads(site.get("/feed.json").body)
    assert [i["ref"] for i in feed["_status_page"]["incidents"]] == [public]


def test_asking_for_a_private_incident_reads_as_asking_for_one_that_does_not_exist(site: Site) -> None:
    secret = site.declare("Payroll data exposed", private=True)
    private = site.get(f"/?incident={secret}")
    missing = site.get("/?incident=INC-999")
    assert private.status == missing.status == 404
    assert private.text.replace(secret, "INC-?") == missing.text.replace("INC-999", "INC-?")
    assert "Payroll" not in private.text
    for target in ("/feed.json", "/feed.atom"):
        assert site.get(f"{target}?incident={secret}").status == 404


def test_a_private_incident_changing_changes_nothing_a_reader_can_see(site: Site) -> None:
    public = site.declare("Checkout is down")
    site.update(public, "Rolling back.")
    before = {t: site.get(t) for t in PAGES}
    secret = site.declare("Payroll data exposed", private=True)
    site.clock.advance(minutes=5)
    site.update(secret, "Rotating the keys.")
    for target, answer in before.items():
        again = site.get(target)
        assert (again.body, again.headers["etag"], again.headers["last-modified"]) == (
            answer.body,
            answer.headers["etag"],
            answer.headers["last-modified"],
        )


def test_only_the_stakeholder_updates_show_not_the_summary_notes_or_authors(site: Site) -> None:
    ref = site.declare("Checkout is down")
    site.update(ref, "Rolling back.")
    site.change(
        ref,
        lambda s, i: service.add_note(s, i, text="Bob thinks it was the cache", author_id="U0BOB", now=site.clock.now),
    )
    for target in PAGES:
        body = site.get(target).text
        for leaked in ("summary of Checkout is down", "Bob thinks", "U0AUTHOR", REPORTER, "U0BOB"):
            assert leaked not in body, (target, leaked)
