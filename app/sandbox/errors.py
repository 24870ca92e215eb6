"""Slack's error codes, as the Web API spells them, and the exception that carries one to the response."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Err(StrEnum):
    NOT_AUTHED = "not_authed"
    INVALID_AUTH = "invalid_auth"
    UNKNOWN_METHOD = "unknown_method"
    METHOD_DEPRECATED = "method_deprecated"
    INVALID_ARGUMENTS = "invalid_arguments"
    INVALID_JSON = "invalid_json"
    INVALID_FORM_DATA = "invalid_form_data"
    INTERNAL_ERROR = "internal_error"
    RATELIMITED = "ratelimited"
    # conversations
    CHANNEL_NOT_FOUND = "channel_not_found"
    NOT_IN_CHANNEL = "not_in_channel"
    IS_ARCHIVED = "is_archived"
    ALREADY_ARCHIVED = "already_archived"
    CANT_ARCHIVE_GENERAL = "cant_archive_general"
    NAME_TAKEN = "name_taken"
    INVALID_NAME_REQUIRED = "invalid_name_required"
    INVALID_NAME_MAXLENGTH = "invalid_name_maxlength"
    INVALID_NAME_PUNCTUATION = "invalid_name_punctuation"
    INVALID_NAME_SPECIALS = "invalid_name_specials"
    NO_USER = "no_user"
    USER_NOT_FOUND = "user_not_found"
    USERS_NOT_FOUND = "users_not_found"
    USERS_LIST_NOT_SUPPLIED = "users_list_not_supplied"
    ALREADY_IN_CHANNEL = "already_in_channel"
    CANT_INVITE_SELF = "cant_invite_self"
    METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE = "method_not_supported_for_channel_type"
    TOO_LONG = "too_long"
    THREAD_NOT_FOUND = "thread_not_found"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_TS_OLDEST = "invalid_ts_oldest"
    INVALID_TS_LATEST = "invalid_ts_latest"
    # chat
    NO_TEXT = "no_text"
    MSG_TOO_LONG = "msg_too_long"
    INVALID_BLOCKS = "invalid_blocks"
    INVALID_BLOCKS_FORMAT = "invalid_blocks_format"
    INVALID_THREAD_TS = "invalid_thread_ts"
    MESSAGE_NOT_FOUND = "message_not_found"
    CANT_UPDATE_MESSAGE = "cant_update_message"
    CANT_DELETE_MESSAGE = "cant_delete_message"
    USER_NOT_IN_CHANNEL = "user_not_in_channel"
    # views
    EXPIRED_TRIGGER_ID = "expired_trigger_id"
    EXCHANGED_TRIGGER_ID = "exchanged_trigger_id"
    INVALID_TRIGGER_ID = "invalid_trigger_id"
    HASH_CONFLICT = "hash_conflict"
    NOT_FOUND = "not_found"
    PUSH_LIMIT_REACHED = "push_limit_reached"
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    # usergroups
    NO_SUCH_SUBTEAM = "no_such_subteam"
    # pins, reactions, bookmarks
    ALREADY_PINNED = "already_pinned"
    NO_PIN = "no_pin"
    ALREADY_REACTED = "already_reacted"
    NO_REACTION = "no_reaction"
    INVALID_NAME = "invalid_name"
    INVALID_BOOKMARK_TYPE = "invalid_bookmark_type"
    INVALID_LINK = "invalid_link"
    # files and response_url
    FILE_NOT_FOUND = "file_not_found"
    FILE_UPLOAD_NOT_FINISHED = "file_upload_not_finished"
    EXPIRED_URL = "expired_url"
    USED_URL = "used_url"


class ApiError(Exception):
    """An `{"ok": false, "error": ...}` answer; `extra` holds Slack's companions (`errors`, `response_metadata`)."""

    def __init__(self, error: Err, **extra: Any) -> None:
        super().__init__(error.value)
        self.error = error
        self.extra = extra

    @classmethod
    def invalid_arguments(cls, *messages: str) -> ApiError:
        return cls(Err.INVALID_ARGUMENTS, response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error.value, **self.extra}
