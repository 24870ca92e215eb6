"""Bad input to every endpoint of the status page gets a clear plain-text answer, never a 500: unknown paths 404,
other methods 405 with Allow, unreadable or unknown query parameters 400, a database that cannot be read 503."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.statuspage.site import Clock, Site, make_runtime, request, serve

PAGES = ("/", "/feed.json", "/feed.atom")


@pytest.mark.parametrize("target", ["/nope", "/feed.xml", "/feed.json/", "//feed.json", "/INC-1", "/.env"])
def test_an_unknown_path_is_404_naming_the_pages_there_are(site: Site, target: str) -> None:
    answer = site.get(target)
    assert answer.status == 404
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert "/status/feed.json" in answer.text and "/status/feed.atom" in answer.text
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("target", PAGES)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(site: Site, target: str, method: str) -> None:
    answer = site.get(target, method=method)
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert "only answers GET" in answer.text


@pytest.mark.parametrize("target", PAGES)
@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("days=0", "days='0' is not a whole number from 1 to 90"),
        ("days=91", "days='91' is not a whole number from 1 to 90"),
        ("days=-3", "is not a whole number from 1 to 90"),
        ("days=seven", "days='seven' is not a whole number"),
        ("days=", "days='' is not a whole number"),
        ("days=%D9%A3", "is not a whole number"),  # an Arabic-Indic digit is a digit to Python, not to us
        ("days=7&days=8", "days is given twice"),
        ("incident=checkout", "incident='checkout' is not an incident reference; write it like INC-12"),
        ("incident=", "is not an incident reference"),
        ("page=2", "Unknown query parameter 'page'; this page takes days=1..90"),
        ("days", "cannot be read"),
        ("days=%ff", "cannot be read"),
        ("x" * 300, "The query is too long"),
    ],
)
def test_bad_query_parameters_are_400_saying_what_to_write(site: Site, target: str, query: str, says: str) -> None:
    answer = site.get(f"{target}?{query}")
    assert answer.status == 400, answer.text
    assert says in answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("target", PAGES)
def test_good_query_parameters_are_taken(site: Site, target: str) -> None:
    ref = site.declare("Checkout is down")
    for query in ("days=1", "days=90", f"incident={ref}", "incident=inc-1", "days=7&incident=1", ""):
        assert site.get(f"{target}?{query}").status == 200, query
    assert site.get(f"{target}?incident=INC-2").status == 404


def test_the_page_polls_the_feed_with_its_own_query(site: Site) -> None:
    ref = site.declare("Checkout is down")
    assert f'data-feed="/status/feed.json?days=7&amp;incident={ref}"' in site.get(f"/?days=7&incident={ref}").text
    assert 'data-feed="/status/feed.json"' in site.get("/").text


def test_a_database_that_cannot_be_read_is_503_not_a_stack_trace(tmp_path: Path) -> None:
    runtime = make_runtime(f"sqlite:///{tmp_path / 'never-migrated.db'}", Clock())
    server = serve(runtime)
    try:
        for target in PAGES:
            answer = request(server, "GET", "/status" + target)
            assert answer.status == 503
            assert answer.text == "The status page cannot read its data right now; try again in a minute.\n"
            assert answer.headers["retry-after"] == "30"
    finally:
        server.stop()
        runtime.close()
