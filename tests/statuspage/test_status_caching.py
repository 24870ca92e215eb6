"""Caching: a strong ETag that changes with what is shown and only then, Last-Modified, a short public max-age,
and 304 for If-None-Match only (never for If-Modified-Since alone); HEAD answers the same headers without a body."""

from __future__ import annotations

import re
from email.utils import format_datetime

import pytest

from tests.statuspage.site import Site

PAGES = ("/", "/feed.json", "/feed.atom")


@pytest.fixture
def busy(site: Site) -> Site:
    ref = site.declare("Checkout is down", ago=10)
    site.update(ref, "Rolling back.")
    return site


@pytest.mark.parametrize("target", PAGES)
def test_every_page_has_a_strong_etag_last_modified_and_a_short_public_max_age(busy: Site, target: str) -> None:
    answer = busy.get(target)
    assert answer.status == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', answer.headers["etag"])  # strong: no W/
    assert answer.headers["last-modified"] == "Sat, 21 Nov 2026 14:00:00 GMT"
    assert answer.headers["cache-control"] == "public, max-age=30"
    assert busy.get(target).headers["etag"] == answer.headers["etag"]  # the same bytes, the same tag


@pytest.mark.parametrize("target", PAGES)
def test_if_none_match_answers_304_with_the_caching_headers_and_no_body(busy: Site, target: str) -> None:
    etag = busy.get(target).headers["etag"]
    for given in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        answer = busy.get(target, headers={"If-None-Match": given})
        assert answer.status == 304, given
        assert answer.body == b""
        assert answer.headers["etag"] == etag and answer.headers["cache-control"] == "public, max-age=30"
    assert busy.get(target, headers={"If-None-Match": '"other"'}).status == 200


@pytest.mark.parametrize("target", PAGES)
def test_a_new_update_changes_the_etag_and_the_reader_gets_it_at_once(busy: Site, target: str) -> None:
    first = busy.get(target)
    busy.clock.advance(minutes=3)
    busy.update("INC-1", "Payments recover.")
    answer = busy.get(target, headers={"If-None-Match": first.headers["etag"]})
    assert answer.status == 200 and "Payments recover." in answer.text
    assert answer.headers["etag"] != first.headers["etag"]
    assert answer.headers["last-modified"] == "Sat, 21 Nov 2026 14:03:00 GMT"


def test_if_modified_since_never_answers_304(busy: Site) -> None:
    """Only the ETag decides: Last-Modified can go back in time (see the next test)."""
    modified = busy.get("/").headers["last-modified"]
    assert busy.get("/", headers={"If-Modified-Since": modified}).status == 200
    later = format_datetime(busy.clock.now.replace(year=2027), usegmt=True)
    assert busy.get("/", headers={"If-Modified-Since": later}).status == 200
    assert busy.get("/", headers={"If-None-Match": '"stale"', "If-Modified-Since": later}).status == 200
    etag = busy.get("/").headers["etag"]
    assert busy.get("/", headers={"If-None-Match": etag, "If-Modified-Since": later}).status == 304


@pytest.mark.parametrize("target", PAGES)
def test_an_incident_turned_private_leaves_a_reader_revalidating_by_date(busy: Site, target: str) -> None:
    """Its update was the latest change shown: Last-Modified goes back, and a reader asking If-Modified-Since
    with the date it has gets the page without it, not a 304 that keeps it."""
    busy.clock.advance(minutes=3)
    other = busy.declare("Search is slow")
    busy.update(other, "Reindexing the search cluster.")
    seen = busy.get(target)
    assert "Reindexing the search cluster." in seen.text
    busy.change(other, lambda session, incident: setattr(incident, "private", True))
    answer = busy.get(target, headers={"If-Modified-Since": seen.headers["last-modified"]})
    assert answer.status == 200 and "Reindexing the search cluster." not in answer.text
    assert answer.headers["last-modified"] == "Sat, 21 Nov 2026 14:00:00 GMT"  # back to INC-1's update


@pytest.mark.parametrize("target", PAGES)
def test_head_answers_the_same_headers_without_a_body(busy: Site, target: str) -> None:
    get, head = busy.get(target), busy.get(target, method="HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("etag", "last-modified", "cache-control", "content-type", "content-length"):
        assert head.headers[name] == get.headers[name], name


def test_the_page_is_locked_down_and_feeds_are_not_sniffed(busy: Site) -> None:
    page = busy.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for target in PAGES:
        assert busy.get(target).headers["x-content-type-options"] == "nosniff"


def test_with_nothing_shown_there_is_no_last_modified_but_still_an_etag(site: Site) -> None:
    answer = site.get("/feed.atom")
    assert answer.status == 200 and "last-modified" not in answer.headers
    assert site.get("/feed.atom", headers={"If-None-Match": answer.headers["etag"]}).status == 304
