"""Whatever an incident's title, a page's message or a team's name holds (any Unicode, any length), the pagers
get a request their API accepts: the adapters cut to the documented limits. And `/incident page` with any text
answers the person, never fails, and pages nobody the map does not name."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.integrations.pager.opsgenie import Opsgenie
from app.integrations.pager.pagerduty import PagerDuty
from incidents.paging import PageCall, dedup_key
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.integrations.paging.paging_helpers import OPSGENIE_KEY, PAGERDUTY_KEY, pages
from tests.slack.slack_harness import Harness

TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=3000)
FIXTURES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FIXTURES
@given(summary=TEXT, team=st.text(min_size=1, max_size=300), detail=TEXT)
def test_any_text_makes_a_page_both_vendors_accept(
    pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble, summary: str, team: str, detail: str
) -> None:
    call = PageCall(
        dedup_key=dedup_key(12, team),
        secret="",
        summary=summary,
        severity="SEV1",
        source="incident-bot",
        details={"message": detail},
    )
    assert len(call.dedup_key) <= 255
    answer = PagerDuty(pagerduty.url, timeout=5).trigger(PageCall(**{**call.__dict__, "secret": PAGERDUTY_KEY}))
    assert answer["status"] == "success"
    answer = Opsgenie(opsgenie.url, timeout=5).trigger(PageCall(**{**call.__dict__, "secret": OPSGENIE_KEY}))
    assert answer["result"] == "Request will be processed"


@FIXTURES
@given(text=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=200))
def test_page_with_any_text_answers_and_pages_nobody_unknown(
    bot: Harness, pagerduty: PagerDutyDouble, text: str
) -> None:
    if not _declared(bot):  # once: the examples share the function's fixtures
        bot.declare("Checkout is failing", severity="SEV2", services=["ledger"])
    before = len(bot.replies_to("U01ALICE"))
    result = bot.command(f"page {text}", channel=bot.incident().channel_id)
    assert result.status == 200
    assert len(bot.replies_to("U01ALICE")) > before  # told something: usage, not found, no pager, paging
    assert set(pages(bot)) <= {"payments", "search"}  # only teams the map names, with a pager


def _declared(bot: Harness) -> bool:
    try:
        bot.latest_incident()
    except AssertionError:
        return False
    return True
