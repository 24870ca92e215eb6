"""Each tracker adapter against its vendor's double over real HTTP: the documented request shapes, the answers
turned into ours (a ticket seen, TrackerRefused with the tracker's reason, TrackerUnavailable with Retry-After),
and conditional reads (GitHub's ETag and 304)."""

from __future__ import annotations

import base64

import pytest

from app.integrations.tracker.github import GitHubIssues, markdown
from app.integrations.tracker.jira import Jira, adf
from incidents.tickets import NewTicket, Span, TicketRef, TrackerRefused, TrackerUnavailable
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.integrations.tracker.tracker_helpers import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN

BODY = (
    (Span("This follow-up action comes from incident INC-7."),),
    (Span("Incident channel: "), Span("#inc-7-checkout", "https://slack.com/app_redirect?channel=C1")),
)


def ticket(project: str, **changes: object) -> NewTicket:
    values: dict[str, object] = {
        "project": project,
        "title": "Alert on checkout error rate",
        "body": BODY,
        "labels": ("incident-followup", "payments"),
    }
    values.update(changes)
    return NewTicket(**values)  # type: ignore[arg-type]


def jira_adapter(double: JiraDouble, token: str = JIRA_TOKEN) -> Jira:
    return Jira(double.url, email=JIRA_EMAIL, token=token, timeout=5)


def github_adapter(double: GitHubDouble, token: str = GITHUB_TOKEN) -> GitHubIssues:
    return GitHubIssues(double.url, token=token, timeout=5)


# --- Jira -------------------------------------------------------------------------------------------------


def test_jira_creates_an_issue_with_an_adf_description_and_basic_auth(jira: JiraDouble) -> None:
    seen = jira_adapter(jira).create(ticket("OPS", issue_type="Bug", assignee="5b10ac8d82e05b22cc7d4ef5"))

    assert (seen.key, seen.done, seen.url) == ("OPS-1", False, f"{jira.url}/browse/OPS-1")
    [request] = jira.calls("POST")
    expected = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == expected
    fields = request.body["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Bug"}
    assert fields["summary"] == "Alert on checkout error rate"
    assert fields["labels"] == ["incident-followup", "payments"]
    assert fields["assignee"] == {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
    assert fields["description"] == adf(BODY)
    link = fields["description"]["content"][1]["content"][1]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "https://slack.com/app_redirect?channel=C1"}}]


def test_jira_refuses_an_unknown_project_and_says_why(jira: JiraDouble) -> None:
    with pytest.raises(TrackerRefused) as refused:
        jira_adapter(jira).create(ticket("NOPE"))
    assert str(refused.value) == "Jira refused it (400): project: valid project is required"


def test_jira_refuses_an_issue_type_the_project_lacks(jira: JiraDouble) -> None:
    with pytest.raises(TrackerRefused, match="issuetype: Specify a valid issue type"):
        jira_adapter(jira).create(ticket("PLAT", issue_type="Bug"))


def test_jira_with_a_wrong_token_is_refused(jira: JiraDouble) -> None:
    with pytest.raises(TrackerRefused, match=r"\(401\): You are not authenticated"):
        jira_adapter(jira, token="wrong").create(ticket("OPS"))


def test_a_long_multiline_title_becomes_a_valid_jira_summary(jira: JiraDouble) -> None:
    seen = jira_adapter(jira).create(ticket("OPS", title="Fix\nthe " + "very " * 80 + "long thing"))
    summary = jira.issues[seen.key]["fields"]["summary"]
    assert len(summary) == 255 and "\n" not in summary and summary.endswith("…")


def test_jira_data_center_uses_rest_v2_a_personal_access_token_and_plain_text() -> None:
    double = JiraDouble(email="", token="pat-123", projects={"OPS": {"Task"}}, data_center=True).start()
    try:
        adapter = Jira(double.url, email="", token="pat-123", timeout=5, api_version="2")
        seen = adapter.create(ticket("OPS", assignee="jsmith"))
        [request] = double.calls("POST")
        assert request.path == "/rest/api/2/issue" and request.headers["authorization"] == "Bearer pat-123"
        assert request.body["fields"]["assignee"] == {"name": "jsmith"}  # Data Center knows user names
        assert request.body["fields"]["description"] == (
            "This follow-up action comes from incident INC-7.\n\n"
            "Incident channel: #inc-7-checkout (https://slack.com/app_redirect?channel=C1)"
        )
        read = adapter.read(TicketRef(project="OPS", key=seen.key, external_id=seen.external_id))
        assert read is not None and read.status == "To Do"
    finally:
        double.stop()


def test_jira_reads_the_status_category_done_as_done(jira: JiraDouble) -> None:
    adapter = jira_adapter(jira)
    created = adapter.create(ticket("OPS"))
    ref = TicketRef(project="OPS", key=created.key, external_id=created.external_id)
    jira.transition(created.key, "In Progress", "indeterminate")
    seen = adapter.read(ref)
    assert seen is not None and (seen.status, seen.done) == ("In Progress", False)
    jira.transition(created.key, "Closed", "done")
    seen = adapter.read(ref)
    assert seen is not None and (seen.status, seen.done) == ("Closed", True)
    assert jira.calls("GET")[-1].query == {"fields": ["status"]}


def test_jira_reading_a_deleted_issue_is_refused(jira: JiraDouble) -> None:
    with pytest.raises(TrackerRefused, match="Issue does not exist"):
        jira_adapter(jira).read(TicketRef(project="OPS", key="OPS-99", external_id="1"))


# --- GitHub -----------------------------------------------------------------------------------------------


def test_github_creates_an_issue_with_a_markdown_body_labels_and_assignee(github: GitHubDouble) -> None:
    seen = github_adapter(github).create(ticket("acme/search", assignee="octocat", title="Fix *it* @now"))

    assert (seen.key, seen.external_id, seen.done) == ("acme/search#1", "1", False)
    assert seen.url == "https://github.example/acme/search/issues/1"
    [request] = github.calls("POST")
    assert request.path == "/repos/acme/search/issues"
    assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.body["labels"] == ["incident-followup", "payments"]
    assert request.body["assignees"] == ["octocat"]
    assert request.body["body"] == markdown(BODY)
    assert "[\\#inc-7-checkout](https://slack.com/app_redirect?channel=C1)" in request.body["body"]
    assert request.body["title"] == "Fix *it* @now"


def test_github_refuses_an_unknown_repository(github: GitHubDouble) -> None:
    with pytest.raises(TrackerRefused) as refused:
        github_adapter(github).create(ticket("acme/nope"))
    assert str(refused.value) == "GitHub refused it (404): Not Found"


def test_github_refuses_an_assignee_who_cannot_be_assigned(github: GitHubDouble) -> None:
    with pytest.raises(TrackerRefused, match=r"\(422\): Validation Failed; assignees invalid"):
        github_adapter(github).create(ticket("acme/search", assignee="mallory"))


def test_github_with_a_bad_token_is_refused(github: GitHubDouble) -> None:
    with pytest.raises(TrackerRefused, match=r"\(401\): Bad credentials"):
        github_adapter(github, token="nope").create(ticket("acme/search"))


def test_github_reads_conditionally_with_the_last_etag(github: GitHubDouble) -> None:
    adapter = github_adapter(github)
    created = adapter.create(ticket("acme/search"))
    ref = TicketRef(project="acme/search", key=created.key, external_id=created.external_id)
    first = adapter.read(ref)
    assert first is not None and first.etag and first.status == "open"
    assert adapter.read(ref, etag=first.etag) is None  # 304 Not Modified
    assert github.calls("GET")[-1].headers["if-none-match"] == first.etag
    github.close("acme/search", 1, "not_planned")
    closed = adapter.read(ref, etag=first.etag)
    assert closed is not None and (closed.status, closed.done) == ("closed (not planned)", True)
    assert closed.etag != first.etag


def test_github_primary_rate_limit_is_unavailable_not_refused(github: GitHubDouble) -> None:
    github.exhaust(1)
    with pytest.raises(TrackerUnavailable, match="API rate limit exceeded") as unavailable:
        github_adapter(github).create(ticket("acme/search"))
    assert unavailable.value.after == 0.0


def test_github_secondary_rate_limit_is_unavailable_after_retry_after(github: GitHubDouble) -> None:
    github.secondary(1, after="37")
    with pytest.raises(TrackerUnavailable, match="secondary rate limit") as unavailable:
        github_adapter(github).create(ticket("acme/search"))
    assert unavailable.value.after == 37.0
    assert github_adapter(github).create(ticket("acme/search")).key == "acme/search#1"


def test_github_secondary_rate_limit_without_retry_after_waits_a_minute(github: GitHubDouble) -> None:
    github.fail_next(1, 403, "You have exceeded a secondary rate limit. Please wait a few minutes.")
    with pytest.raises(TrackerUnavailable) as unavailable:
        github_adapter(github).create(ticket("acme/search"))
    assert unavailable.value.after == 60.0


def test_github_follows_a_renamed_repository(github: GitHubDouble) -> None:
    adapter = github_adapter(github)
    created = adapter.create(ticket("acme/search"))
    github.rename("acme/search", "acme/find")
    read = adapter.read(TicketRef(project="acme/search", key=created.key, external_id=created.external_id))
    assert read is not None and read.url == "https://github.example/acme/find/issues/1"
    again = adapter.create(ticket("acme/search"))  # a POST answered 307, repeated there
    assert again.external_id == "2" and ("acme/find", 2) in github.issues
    assert [(r.method, r.path) for r in github.calls()][-2:] == [
        ("POST", "/repos/acme/search/issues"),
        ("POST", "/repos/acme/find/issues"),
    ]


def test_a_refusal_says_whether_the_ticket_is_gone(jira: JiraDouble, github: GitHubDouble) -> None:
    with pytest.raises(TrackerRefused) as deleted:
        github_adapter(github).read(TicketRef(project="acme/search", key="acme/search#9", external_id="9"))
    assert (deleted.value.status, deleted.value.gone) == (404, True)
    github.fail_next(1, 410, "Issues are disabled for this repo")
    with pytest.raises(TrackerRefused) as disabled:
        github_adapter(github).read(TicketRef(project="acme/search", key="acme/search#9", external_id="9"))
    assert disabled.value.gone
    with pytest.raises(TrackerRefused) as forbidden:
        jira_adapter(jira, token="wrong").read(TicketRef(project="OPS", key="OPS-1", external_id="1"))
    assert (forbidden.value.status, forbidden.value.gone) == (401, False)


# --- both: outages and rate limits ------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["jira", "github"])
def test_rate_limits_and_outages_are_unavailable_with_retry_after(
    vendor: str, jira: JiraDouble, github: GitHubDouble
) -> None:
    double, adapter, project = (
        (jira, jira_adapter(jira), "OPS") if vendor == "jira" else (github, github_adapter(github), "acme/search")
    )
    double.rate_limit(1, after="42")
    with pytest.raises(TrackerUnavailable, match="answered 429") as limited:
        adapter.create(ticket(project))
    assert limited.value.after == 42.0
    double.outage = True
    with pytest.raises(TrackerUnavailable, match="answered 503") as down:
        adapter.create(ticket(project))
    assert down.value.after is None
    double.outage = False
    assert adapter.create(ticket(project)).key


def test_a_tracker_that_cannot_be_reached_is_unavailable() -> None:
    adapter = Jira("http://127.0.0.1:9", email=JIRA_EMAIL, token=JIRA_TOKEN, timeout=2)
    with pytest.raises(TrackerUnavailable, match="Jira could not be reached") as unreachable:
        adapter.create(ticket("OPS"))
    assert JIRA_TOKEN not in str(unreachable.value)
