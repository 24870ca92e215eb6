"""The Web API double, exercised through the real slack_sdk WebClient over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from app.sandbox.webapi import RunningServer
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from tests.sandbox.sandbox_helpers import BOT_TOKEN, FakeClock

INCIDENTS = INCIDENTS_CHANNEL_ID
BUTTON = {"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Acknowledge"}}
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def error_of(call) -> dict:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response.data


def post_json(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


# auth and routing


def test_auth_test_names_the_bot_and_the_team(client: WebClient) -> None:
    answer = client.auth_test()

    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("U0BOT", "B0BOT", "T0SANDBOX")


def test_a_call_without_a_token_is_not_authed(server: RunningServer) -> None:
    assert error_of(WebClient(base_url=server.base_url).auth_test)["error"] == "not_authed"


def test_a_token_of_the_wrong_kind_is_invalid_auth(server: RunningServer) -> None:
    client = WebClient(base_url=server.base_url, token="xoxp-user-token")

    assert error_of(client.auth_test)["error"] == "invalid_auth"


def test_the_token_may_come_as_an_argument(server: RunningServer) -> None:
    client = WebClient(base_url=server.base_url)

    assert client.api_call("auth.test", params={"token": "xoxb-as-argument"})["ok"] is True


def test_an_unknown_method_is_refused(client: WebClient) -> None:
    assert error_of(lambda: client.api_call("incidents.explode"))["error"] == "unknown_method"


def test_json_bodies_are_accepted(client: WebClient, workspace: Workspace) -> None:
    client.api_call("chat.postMessage", json={"channel": INCIDENTS, "text": "from json", "blocks": []})

    assert workspace.messages(INCIDENTS)[-1].text == "from json"


def test_every_call_is_recorded_with_its_outcome(client: WebClient, workspace: Workspace) -> None:
    client.chat_postMessage(channel=INCIDENTS, text="hello")
    error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="hello"))

    calls = workspace.calls_to("chat.postMessage")
    assert [(c.ok, c.error, c.args["channel"]) for c in calls] == [
        (True, None, INCIDENTS),
        (False, "channel_not_found", "C0NOPE"),
    ]


# conversations


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Incident-42", "invalid_name_specials"),
        ("inc 42", "invalid_name_specials"),
        ("inc#42", "invalid_name_specials"),
        ("--_", "invalid_name_punctuation"),
        ("incidents", "name_taken"),
    ],
)
def test_channel_names_follow_slacks_rules(client: WebClient, name: str, error: str) -> None:
    assert error_of(lambda: client.conversations_create(name=name))["error"] == error


def test_a_created_channel_has_slacks_shape_and_the_bot_as_member(client: WebClient) -> None:
    channel = client.conversations_create(name="inc-42_db" + "x" * 71, is_private=True)["channel"]

    assert channel["id"].startswith("C")
    assert (channel["is_private"], channel["is_member"], channel["creator"]) == (True, True, "U0BOT")
    assert len(channel["name"]) == 80


def test_an_invite_with_one_bad_user_invites_nobody_and_lists_each_error(
    client: WebClient, workspace: Workspace
) -> None:
    channel = client.conversations_create(name="inc-1")["channel"]["id"]

    answer = error_of(lambda: client.conversations_invite(channel=channel, users="U01CAROL,U0NOBODY,U0BOT"))

    assert answer["error"] == "user_not_found"
    assert answer["errors"] == [
        {"user": "U0NOBODY", "ok": False, "error": "user_not_found"},
        {"user": "U0BOT", "ok": False, "error": "cant_invite_self"},
    ]
    assert workspace.channel(channel).members == ["U0BOT"]


def test_an_invite_adds_the_users(client: WebClient) -> None:
    channel = client.conversations_create(name="inc-2")["channel"]["id"]
    client.conversations_invite(channel=channel, users=["U01ALICE", "U01CAROL"])

    assert client.conversations_members(channel=channel)["members"] == ["U0BOT", "U01ALICE", "U01CAROL"]
    assert error_of(lambda: client.conversations_invite(channel=channel, users="U01ALICE"))["error"] == (
        "already_in_channel"
    )


def test_a_forced_invite_adds_the_valid_users_and_still_reports_the_others(
    client: WebClient, workspace: Workspace
) -> None:
    answer = error_of(lambda: client.conversations_invite(channel=INCIDENTS, users="U01CAROL,U0NOBODY", force=True))

    assert answer["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]
    assert "U01CAROL" in workspace.channel(INCIDENTS).members


def test_the_bot_cannot_invite_into_a_channel_it_is_not_in(client: WebClient, workspace: Workspace) -> None:
    workspace.create_channel("watercooler", creator="U01ALICE")
    channel = workspace.channel_by_name("watercooler").id

    assert error_of(lambda: client.conversations_invite(channel=channel, users="U01BOB"))["error"] == "not_in_channel"
    client.conversations_join(channel=channel)
    assert client.conversations_invite(channel=channel, users="U01BOB")["ok"]


def test_a_private_channel_without_the_bot_is_invisible(client: WebClient, workspace: Workspace) -> None:
    secret = workspace.create_channel("secret", creator="U01ALICE", is_private=True)

    assert error_of(lambda: client.conversations_info(channel=secret.id))["error"] == "channel_not_found"
    assert secret.id not in [
        c["id"] for c in client.conversations_list(types="public_channel,private_channel")["channels"]
    ]


def test_topics_and_purposes_stop_at_250_characters(client: WebClient) -> None:
    assert client.conversations_setTopic(channel=INCIDENTS, topic="t" * 250)["channel"]["topic"]["value"] == "t" * 250
    assert error_of(lambda: client.conversations_setPurpose(channel=INCIDENTS, purpose="p" * 251))["error"] == (
        "too_long"
    )


def test_an_archived_channel_takes_no_more_messages(client: WebClient) -> None:
    channel = client.conversations_create(name="inc-3")["channel"]["id"]
    client.conversations_archive(channel=channel)

    assert error_of(lambda: client.chat_postMessage(channel=channel, text="late"))["error"] == "is_archived"
    assert error_of(lambda: client.conversations_archive(channel=channel))["error"] == "already_archived"


def test_channel_lists_page_with_cursors(client: WebClient) -> None:
    for n in range(3):
        client.conversations_create(name=f"inc-page-{n}")

    names = [c["name"] for page in client.conversations_list(limit=2) for c in page["channels"]]

    assert names == ["incidents", "inc-page-0", "inc-page-1", "inc-page-2"]


# messages


def test_a_message_needs_text_or_blocks(client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.postMessage", params={"channel": INCIDENTS}))["error"] == "no_text"


def test_posting_where_the_bot_is_not_a_member_is_not_in_channel(client: WebClient, workspace: Workspace) -> None:
    channel = workspace.create_channel("random", creator="U01ALICE")

    assert error_of(lambda: client.chat_postMessage(channel=channel.id, text="hi"))["error"] == "not_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="hi"))["error"] == "channel_not_found"


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "actions", "elements": [{**BUTTON, "text": {"type": "plain_text", "text": "x" * 76}}]}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "section"}],
        [{"type": "no_such_block"}],
        [{"type": "divider"}] * 51,
    ],
    ids=["button text over 75", "section text over 3000", "section without text", "unknown type", "51 blocks"],
)
def test_blocks_breaking_block_kit_limits_are_invalid(client: WebClient, blocks: list) -> None:
    answer = error_of(lambda: client.chat_postMessage(channel=INCIDENTS, text="fallback", blocks=blocks))

    assert answer["error"] == "invalid_blocks"
    assert answer["response_metadata"]["messages"]


def test_text_over_40000_characters_is_too_long(client: WebClient) -> None:
    assert error_of(lambda: client.chat_postMessage(channel=INCIDENTS, text="x" * 40_001))["error"] == "msg_too_long"


def test_a_posted_message_comes_back_in_slacks_shape_with_generated_ids(client: WebClient) -> None:
    answer = client.chat_postMessage(channel=INCIDENTS, text="SEV1", blocks=[{"type": "actions", "elements": [BUTTON]}])

    message = answer["message"]
    assert (answer["channel"], answer["ts"]) == (INCIDENTS, message["ts"])
    assert (message["user"], message["bot_id"], message["text"]) == ("U0BOT", "B0BOT", "SEV1")
    assert message["blocks"][0]["block_id"]


def test_timestamps_strictly_increase(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=INCIDENTS, text=str(n))["ts"] for n in range(5)]

    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5


def test_concurrent_posts_each_get_their_own_timestamp(client: WebClient, workspace: Workspace) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(lambda n: client.chat_postMessage(channel=INCIDENTS, text=str(n))["ts"], range(40)))

    assert len(set(stamps)) == 40
    assert [m.ts for m in workspace.messages(INCIDENTS)] == sorted(stamps, key=float)
    assert len(workspace.calls_to("chat.postMessage")) == 40


def test_thread_replies_stay_out_of_history_unless_broadcast(client: WebClient) -> None:
    parent = client.chat_postMessage(channel=INCIDENTS, text="incident declared")["ts"]
    client.chat_postMessage(channel=INCIDENTS, text="update 1", thread_ts=parent)
    client.chat_postMessage(channel=INCIDENTS, text="resolved", thread_ts=parent, reply_broadcast=True)

    history = [m["text"] for m in client.conversations_history(channel=INCIDENTS)["messages"]]
    replies = client.conversations_replies(channel=INCIDENTS, ts=parent)["messages"]
    assert history == ["resolved", "incident declared"]
    assert [m["text"] for m in replies] == ["incident declared", "update 1", "resolved"]
    assert replies[0]["reply_count"] == 2


def test_only_the_bots_own_messages_can_be_updated(client: WebClient, workspace: Workspace) -> None:
    mine = client.chat_postMessage(channel=INCIDENTS, text="v1")["ts"]
    theirs = workspace.post_user_message("U01ALICE", INCIDENTS, "I see errors").ts

    updated = client.chat_update(channel=INCIDENTS, ts=mine, text="v2")
    assert (updated["text"], workspace.message(INCIDENTS, mine).edited["user"]) == ("v2", "U0BOT")
    assert error_of(lambda: client.chat_update(channel=INCIDENTS, ts=theirs, text="x"))["error"] == (
        "cant_update_message"
    )
    assert error_of(lambda: client.chat_update(channel=INCIDENTS, ts="1.000001", text="x"))["error"] == (
        "message_not_found"
    )


def test_an_ephemeral_message_reaches_one_member(client: WebClient, workspace: Workspace) -> None:
    client.chat_postEphemeral(channel=INCIDENTS, user="U01BOB", text="only you")

    assert [e.text for e in workspace.ephemerals_for("U01BOB")] == ["only you"]
    assert error_of(lambda: client.chat_postEphemeral(channel=INCIDENTS, user="U01DAN", text="x"))["error"] == (
        "user_not_in_channel"
    )


def test_a_permalink_points_at_the_message(client: WebClient) -> None:
    ts = client.chat_postMessage(channel=INCIDENTS, text="here")["ts"]

    link = client.chat_getPermalink(channel=INCIDENTS, message_ts=ts)["permalink"]

    assert link == f"https://sandbox.slack.local/archives/{INCIDENTS}/p{ts.replace('.', '')}"


def test_a_deleted_message_is_gone(client: WebClient, workspace: Workspace) -> None:
    ts = client.chat_postMessage(channel=INCIDENTS, text="oops")["ts"]
    client.chat_delete(channel=INCIDENTS, ts=ts)

    assert workspace.find_message(INCIDENTS, ts) is None


# views and trigger ids


def test_a_trigger_id_opens_one_modal_for_its_user(client: WebClient, workspace: Workspace) -> None:
    trigger = workspace.issue_trigger_id("U01ALICE")

    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]

    assert [v.id for v in workspace.open_views("U01ALICE")] == [view["id"]]
    assert (view["callback_id"], view["root_view_id"], view["state"]) == ("declare", view["id"], {"values": {}})
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL))["error"] == "exchanged_trigger_id"


def test_a_trigger_id_expires_after_three_seconds(client: WebClient, workspace: Workspace, clock: FakeClock) -> None:
    trigger = workspace.issue_trigger_id("U01ALICE")
    clock.advance(3.01)

    assert error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL))["error"] == "expired_trigger_id"


def test_a_made_up_trigger_id_is_invalid(client: WebClient) -> None:
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=MODAL))["error"] == "invalid_trigger_id"


@pytest.mark.parametrize(
    "view",
    [
        {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}},
        {**MODAL, "submit": {"type": "plain_text", "text": "x" * 25}},
        {**MODAL, "private_metadata": "x" * 3001},
        {**MODAL, "blocks": [{"type": "divider"}] * 101},
        {key: value for key, value in MODAL.items() if key != "submit"},
    ],
    ids=["title over 24", "submit over 24", "private_metadata over 3000", "101 blocks", "inputs without submit"],
)
def test_views_breaking_limits_are_invalid_arguments(client: WebClient, workspace: Workspace, view: dict) -> None:
    trigger = workspace.issue_trigger_id("U01ALICE")

    answer = error_of(lambda: client.views_open(trigger_id=trigger, view=view))

    assert answer["error"] == "invalid_arguments"
    assert answer["response_metadata"]["messages"][0].startswith("[ERROR]")


def test_a_view_update_with_a_stale_hash_conflicts(client: WebClient, workspace: Workspace) -> None:
    opened = client.views_open(trigger_id=workspace.issue_trigger_id("U01ALICE"), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]

    assert updated["hash"] != opened["hash"]
    answer = error_of(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL))
    assert answer["error"] == "hash_conflict"


def test_a_view_can_be_updated_by_external_id(client: WebClient, workspace: Workspace) -> None:
    client.views_open(trigger_id=workspace.issue_trigger_id("U01ALICE"), view={**MODAL, "external_id": "inc-7"})

    title = {"type": "plain_text", "text": "Incident 7"}
    view = client.views_update(external_id="inc-7", view={**MODAL, "title": title})["view"]

    assert view["title"]["text"] == "Incident 7"


def test_modals_stack_three_deep(client: WebClient, workspace: Workspace) -> None:
    client.views_open(trigger_id=workspace.issue_trigger_id("U01ALICE"), view=MODAL)
    for _ in range(2):
        client.views_push(trigger_id=workspace.issue_trigger_id("U01ALICE"), view=MODAL)

    answer = error_of(lambda: client.views_push(trigger_id=workspace.issue_trigger_id("U01ALICE"), view=MODAL))

    assert answer["error"] == "push_limit_reached"
    assert len(workspace.open_views("U01ALICE")) == 3


def test_the_home_tab_is_published(client: WebClient, workspace: Workspace) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "No incidents"}}]}

    client.views_publish(user_id="U01ALICE", view=home)

    assert workspace.modals.home("U01ALICE").body["blocks"][0]["text"]["text"] == "No incidents"


# people


def test_users_are_found_by_id_and_email(client: WebClient) -> None:
    assert client.users_info(user="U01ALICE")["user"]["profile"]["email"] == "alice@example.com"
    assert client.users_lookupByEmail(email="carol@example.com")["user"]["id"] == "U01CAROL"
    assert error_of(lambda: client.users_lookupByEmail(email="eve@example.com"))["error"] == "users_not_found"
    assert error_of(lambda: client.users_info(user="U0NOBODY"))["error"] == "user_not_found"


def test_user_groups_list_their_members(client: WebClient) -> None:
    group = client.usergroups_list()["usergroups"][0]

    assert group["handle"] == "oncall"
    assert client.usergroups_users_list(usergroup=group["id"])["users"] == ["U01ALICE", "U01BOB"]


# pins, reactions, bookmarks


def test_a_message_is_pinned_once(client: WebClient) -> None:
    ts = client.chat_postMessage(channel=INCIDENTS, text="status page")["ts"]
    client.pins_add(channel=INCIDENTS, timestamp=ts)

    assert error_of(lambda: client.pins_add(channel=INCIDENTS, timestamp=ts))["error"] == "already_pinned"
    assert [i["message"]["ts"] for i in client.pins_list(channel=INCIDENTS)["items"]] == [ts]
    assert error_of(lambda: client.pins_add(channel=INCIDENTS, timestamp="1.000001"))["error"] == "message_not_found"


def test_a_reaction_is_added_once(client: WebClient, workspace: Workspace) -> None:
    ts = client.chat_postMessage(channel=INCIDENTS, text="ack?")["ts"]
    client.reactions_add(channel=INCIDENTS, timestamp=ts, name="eyes")

    assert error_of(lambda: client.reactions_add(channel=INCIDENTS, timestamp=ts, name="eyes"))["error"] == (
        "already_reacted"
    )
    assert workspace.message(INCIDENTS, ts).reactions == {"eyes": ["U0BOT"]}


def test_a_link_bookmark_is_added_and_listed(client: WebClient) -> None:
    bookmark = client.bookmarks_add(
        channel_id=INCIDENTS, title="Runbook", type="link", link="https://runbooks.example.com/db"
    )["bookmark"]

    assert bookmark["id"].startswith("Bk")
    assert [b["title"] for b in client.bookmarks_list(channel_id=INCIDENTS)["bookmarks"]] == ["Runbook"]


# files


def test_files_upload_v2_shares_the_file_in_the_channel(client: WebClient, workspace: Workspace) -> None:
    answer = client.files_upload_v2(
        channel=INCIDENTS,
        content="12:00 db down",
        filename="timeline.txt",
        title="Timeline",
        initial_comment="The timeline so far",
    )

    file = workspace.files.get(answer["file"]["id"])
    message = workspace.messages(INCIDENTS)[-1]
    assert (file.content, file.title, file.channels) == (b"12:00 db down", "Timeline", [INCIDENTS])
    assert (message.text, message.files) == ("The timeline so far", [file.id])
    assert [c.method for c in workspace.calls[-2:]] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


def test_the_retired_files_upload_is_refused(client: WebClient) -> None:
    answer = error_of(lambda: client.api_call("files.upload", data={"channels": INCIDENTS, "content": "x"}))

    assert answer == {"ok": False, "error": "method_deprecated"}


# faults


def test_an_injected_error_answers_ok_false_with_http_200(client: WebClient, workspace: Workspace) -> None:
    workspace.faults.fail("chat.postMessage", error="internal_error")

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=INCIDENTS, text="x")

    assert (caught.value.response.status_code, caught.value.response["error"]) == (200, "internal_error")
    assert client.chat_postMessage(channel=INCIDENTS, text="x")["ok"]


def test_a_rate_limit_answers_429_with_retry_after(client: WebClient, workspace: Workspace) -> None:
    workspace.faults.fail("chat.postMessage", http_status=429, retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=INCIDENTS, text="x")

    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"


def test_slack_sdk_retries_a_rate_limited_call_after_retry_after(server: RunningServer, workspace: Workspace) -> None:
    client = WebClient(base_url=server.base_url, token=BOT_TOKEN, retry_handlers=[RateLimitErrorRetryHandler()])
    workspace.faults.fail("chat.postMessage", http_status=429, retry_after=1)

    started = time.monotonic()
    assert client.chat_postMessage(channel=INCIDENTS, text="eventually")["ok"]

    assert time.monotonic() - started >= 1
    assert [c.http_status for c in workspace.calls_to("chat.postMessage")] == [429, 200]


def test_slack_sdk_retries_a_server_error(server: RunningServer, workspace: Workspace) -> None:
    client = WebClient(base_url=server.base_url, token=BOT_TOKEN, retry_handlers=[ServerErrorRetryHandler()])
    workspace.faults.fail("conversations.create", http_status=500)

    assert client.conversations_create(name="inc-after-500")["ok"]
    assert [c.http_status for c in workspace.calls_to("conversations.create")] == [500, 200]


def test_a_server_error_without_retries_surfaces(client: WebClient, workspace: Workspace) -> None:
    workspace.faults.fail("*", http_status=503, times=2)

    for _ in range(2):
        assert error_of(lambda: client.auth_test())["error"] == "internal_error"
    assert client.auth_test()["ok"]


def test_a_delay_longer_than_the_client_timeout_times_out(server: RunningServer, workspace: Workspace) -> None:
    client = WebClient(base_url=server.base_url, token=BOT_TOKEN, timeout=1)
    workspace.faults.fail("views.open", delay=1.5)

    with pytest.raises((TimeoutError, urllib.error.URLError)):
        client.views_open(trigger_id=workspace.issue_trigger_id("U01ALICE"), view=MODAL)


def test_latency_slows_every_call(client: WebClient, workspace: Workspace) -> None:
    workspace.latency = 0.2

    started = time.monotonic()
    client.auth_test()
    client.users_info(user="U01ALICE")

    assert time.monotonic() - started >= 0.4


def test_a_fault_needs_something_to_do(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="needs an error"):
        workspace.faults.fail("chat.postMessage")


# response_url


def test_a_response_url_post_is_ephemeral_by_default(workspace: Workspace, server: RunningServer) -> None:
    url = workspace.new_response_url(INCIDENTS, "U01ALICE")

    assert post_json(url, {"text": "Only you can see this"}) == (200, {"ok": True})
    assert [e.text for e in workspace.ephemerals_for("U01ALICE", INCIDENTS)] == ["Only you can see this"]
    assert workspace.response_posts[-1].payload == {"text": "Only you can see this"}


def test_an_in_channel_response_is_posted_by_the_bot(workspace: Workspace, server: RunningServer) -> None:
    post_json(workspace.new_response_url(INCIDENTS, "U01ALICE"), {"response_type": "in_channel", "text": "Declared"})

    message = workspace.messages(INCIDENTS)[-1]
    assert (message.user, message.text) == ("U0BOT", "Declared")


def test_a_response_can_replace_or_delete_the_original(
    client: WebClient, workspace: Workspace, server: RunningServer
) -> None:
    ts = client.chat_postMessage(channel=INCIDENTS, text="Acknowledge?")["ts"]
    url = workspace.new_response_url(INCIDENTS, "U01BOB", message_ts=ts)

    post_json(url, {"replace_original": True, "text": "Acknowledged by Bob"})
    assert workspace.message(INCIDENTS, ts).text == "Acknowledged by Bob"
    post_json(url, {"delete_original": True})
    assert workspace.find_message(INCIDENTS, ts) is None


def test_a_response_url_works_five_times_within_thirty_minutes(
    workspace: Workspace, server: RunningServer, clock: FakeClock
) -> None:
    url = workspace.new_response_url(INCIDENTS, "U01ALICE")
    for n in range(5):
        assert post_json(url, {"text": str(n)})[0] == 200

    assert post_json(url, {"text": "sixth"}) == (404, {"ok": False, "error": "used_url"})
    late = workspace.new_response_url(INCIDENTS, "U01ALICE")
    clock.advance(30 * 60 + 1)
    assert post_json(late, {"text": "too late"}) == (404, {"ok": False, "error": "expired_url"})
