"""Workspace records rendered the way Slack's Web API and payloads show them."""

from __future__ import annotations

import mimetypes

from app.sandbox.models import JSON, Bookmark, Channel, Ephemeral, File, Message, Subject, User, UserGroup, View
from app.sandbox.workspace import Workspace


def user_json(ws: Workspace, user: User) -> JSON:
    profile: JSON = {
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "image_48": f"{ws.url}avatars/{user.id}_48.png",
        "team": ws.team_id,
    }
    if user.email:
        profile["email"] = user.email
    if user.bot_id:
        profile["bot_id"] = user.bot_id
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
    }


def _subject(subject: Subject) -> JSON:
    return {"value": subject.value, "creator": subject.creator, "last_set": subject.last_set}


def channel_json(channel: Channel, *, viewer: str, num_members: bool = False) -> JSON:
    shape: JSON = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": channel.is_im,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "is_member": viewer in channel.members,
        "creator": channel.creator,
        "topic": _subject(channel.topic),
        "purpose": _subject(channel.purpose),
        "previous_names": [],
    }
    if num_members:
        shape["num_members"] = len(channel.members)
    return shape


def message_json(ws: Workspace, message: Message) -> JSON:
    shape: JSON = {"type": "message", "ts": message.ts, "user": message.user, "text": message.text, "team": ws.team_id}
    if message.subtype:
        shape["subtype"] = message.subtype
    if message.bot_id:
        shape |= {"bot_id": message.bot_id, "app_id": ws.app_id, "bot_profile": _bot_profile(ws)}
    if message.blocks:
        shape["blocks"] = message.blocks
    if message.is_reply:
        parent = ws.find_message(message.channel, message.thread_ts or "")
        shape |= {"thread_ts": message.thread_ts, "parent_user_id": parent.user if parent else None}
    elif summary := _thread_summary(ws, message):
        shape |= {"thread_ts": message.ts, **summary}
    if message.edited:
        shape["edited"] = message.edited
    if message.reactions:
        shape["reactions"] = [{"name": n, "users": list(u), "count": len(u)} for n, u in message.reactions.items()]
    if message.files:
        shape["files"] = [file_json(ws, ws.files.get(f)) for f in message.files]
        shape["upload"] = False
    if any(p.ts == message.ts for p in ws.channel(message.channel).pins):
        shape["pinned_to"] = [message.channel]
    return shape


def _thread_summary(ws: Workspace, parent: Message) -> JSON:
    replies = [m for m in ws.replies(parent.channel, parent.ts) if m.is_reply]
    if not replies:
        return {}
    return {
        "reply_count": len(replies),
        "reply_users_count": len({r.user for r in replies}),
        "reply_users": list(dict.fromkeys(r.user for r in replies)),
        "latest_reply": replies[-1].ts,
        "is_locked": False,
        "subscribed": False,
    }


def _bot_profile(ws: Workspace) -> JSON:
    return {"id": ws.bot.bot_id, "app_id": ws.app_id, "name": ws.bot.name, "deleted": False, "team_id": ws.team_id}


def ephemeral_json(ws: Workspace, ephemeral: Ephemeral) -> JSON:
    shape: JSON = {
        "type": "message",
        "subtype": "bot_message",
        "ts": ephemeral.ts,
        "text": ephemeral.text,
        "bot_id": ws.bot.bot_id,
        "is_ephemeral": True,
    }
    if ephemeral.blocks:
        shape["blocks"] = ephemeral.blocks
    return shape


def view_json(ws: Workspace, view: View) -> JSON:
    body = view.body
    return {
        "id": view.id,
        "team_id": ws.team_id,
        "type": view.type,
        "blocks": body.get("blocks", []),
        "private_metadata": body.get("private_metadata", ""),
        "callback_id": body.get("callback_id", ""),
        "state": {"values": view.state},
        "hash": view.hash,
        "title": body.get("title"),
        "clear_on_close": bool(body.get("clear_on_close", False)),
        "notify_on_close": bool(body.get("notify_on_close", False)),
        "close": body.get("close"),
        "submit": body.get("submit"),
        "previous_view_id": view.previous_view_id,
        "root_view_id": view.root_view_id,
        "app_id": ws.app_id,
        "external_id": view.external_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot.bot_id,
    }


def file_json(ws: Workspace, file: File) -> JSON:
    mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    extension = file.name.rsplit(".", 1)[-1] if "." in file.name else "binary"
    return {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title or file.name,
        "mimetype": mimetype,
        "filetype": extension,
        "pretty_type": extension.upper(),
        "user": file.user,
        "user_team": ws.team_id,
        "editable": False,
        "size": len(file.content or b""),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": any(not ws.channel(c).is_private for c in file.channels),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{ws.url}files-pri/{ws.team_id}-{file.id}/{file.name}",
        "url_private_download": f"{ws.url}files-pri/{ws.team_id}-{file.id}/download/{file.name}",
        "permalink": f"{ws.url}files/{file.user}/{file.id}/{file.name}",
        "channels": [c for c in file.channels if not ws.channel(c).is_private],
        "groups": [c for c in file.channels if ws.channel(c).is_private],
        "ims": [],
        "comments_count": 0,
        "has_rich_preview": False,
        "file_access": "visible",
    }


def usergroup_json(ws: Workspace, group: UserGroup, *, include_users: bool) -> JSON:
    shape: JSON = {
        "id": group.id,
        "team_id": ws.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": group.created,
        "date_update": group.created,
        "date_delete": 0,
        "auto_type": None,
        "created_by": ws.bot.id,
        "updated_by": ws.bot.id,
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
        "user_count": len(group.users),
    }
    if include_users:
        shape["users"] = list(group.users)
    return shape


def bookmark_json(ws: Workspace, bookmark: Bookmark) -> JSON:
    return {
        "id": bookmark.id,
        "channel_id": bookmark.channel_id,
        "title": bookmark.title,
        "link": bookmark.link,
        "emoji": bookmark.emoji,
        "icon_url": None,
        "type": bookmark.type,
        "entity_id": None,
        "date_created": bookmark.created,
        "date_updated": 0,
        "rank": "U",
        "last_updated_by_user_id": bookmark.created_by,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": ws.app_id,
    }
