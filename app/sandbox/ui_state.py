"""What the sandbox page shows one person: the conversations they can see with their messages and threads,
the ephemeral messages meant for them, their open modals, files, and the drill clock. Plain JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from app.sandbox.models import JSON, Channel, Ephemeral, Message, User
from app.sandbox.workspace import Workspace

FILES_PATH = "/sandbox/api/files/"


@dataclass
class PageFacts:
    """What the page shows besides the workspace: set up by the sandbox runner from the bot's settings."""

    command: str = "/incident"
    announcements: str = "incidents"
    channel_prefix: str = "inc"
    timezone: Any = UTC
    shortcuts: list[JSON] = field(default_factory=list)  # [{"callback_id", "name"}] message shortcuts


def people(ws: Workspace) -> list[User]:
    """Who you can be on the page: every person, no bots."""
    return [u for u in ws.users.values() if not u.is_bot and not u.deleted]


def visible_channels(ws: Workspace, viewer: str, facts: PageFacts) -> list[Channel]:
    """Public channels, private ones the viewer is in, and the viewer's DMs. The announcements channel first,
    then incident channels (newest first), the others by name, DMs last."""
    seen = []
    for channel in ws.channels.values():
        if _is_dm(channel):
            if viewer in channel.members:
                seen.append(channel)
        elif not channel.is_private or viewer in channel.members:
            seen.append(channel)
    announcements, prefix = facts.announcements.lstrip("#"), f"{facts.channel_prefix}-"

    def order(c: Channel) -> tuple[bool, bool, bool, float, str]:
        incident = c.name.startswith(prefix)
        return _is_dm(c), c.name != announcements, not incident, -float(c.created) if incident else 0.0, c.name

    return sorted(seen, key=order)


def _is_dm(channel: Channel) -> bool:
    return bool(getattr(channel, "is_im", False))


def _dm_name(ws: Workspace, channel: Channel, viewer: str) -> str:
    others = [m for m in channel.members if m != viewer] or [viewer]
    return ", ".join(ws.users[m].real_name if m in ws.users else m for m in others)


def _clock_label(moment: datetime, tz: Any) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def _when(ts: str, tz: Any) -> tuple[str, str]:
    moment = datetime.fromtimestamp(float(ts), UTC)
    return _clock_label(moment, tz), moment.isoformat()


def file_entry(ws: Workspace, file_id: str) -> JSON:
    file = ws.files.get(file_id)
    size = len(file.content or b"")
    return {
        "id": file.id,
        "name": file.name,
        "title": file.title or file.name,
        "size": f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B",
        "url": f"{FILES_PATH}{file.id}/{quote(file.name)}",
    }


def _message(ws: Workspace, m: Message, viewer: str, pinned: set[str], tz: Any) -> JSON:
    time_label, iso = _when(m.ts, tz)
    return {
        "ts": m.ts,
        "user": m.user,
        "text": m.text,
        "blocks": m.blocks,
        "time": time_label,
        "iso": iso,
        "thread_ts": m.thread_ts,
        "edited": bool(m.edited),
        "pinned": m.ts in pinned,
        "ephemeral": False,
        "reactions": [
            {"name": name, "count": len(users), "users": list(users), "mine": viewer in users}
            for name, users in m.reactions.items()
        ],
        "files": [file_entry(ws, f) for f in m.files],
    }


def _ephemeral(e: Ephemeral, bot: str, tz: Any) -> JSON:
    """Shown as from the app, as Slack shows a bot's ephemeral replies."""
    time_label, iso = _when(e.ts, tz)
    return {
        "ts": e.ts,
        "user": bot,
        "text": e.text,
        "blocks": e.blocks,
        "time": time_label,
        "iso": iso,
        "thread_ts": e.thread_ts,
        "edited": False,
        "pinned": False,
        "ephemeral": True,
        "reactions": [],
        "files": [],
    }


def _conversation(ws: Workspace, channel: Channel, viewer: str, tz: Any) -> list[JSON]:
    pinned = {p.ts for p in channel.pins}
    everything = ws.messages(channel.id)
    replies: dict[str, list[JSON]] = {}
    for m in everything:
        if m.is_reply:
            replies.setdefault(m.thread_ts or "", []).append(_message(ws, m, viewer, pinned, tz))
    shown = []
    for m in everything:
        if m.is_reply and not m.reply_broadcast:
            continue
        entry = _message(ws, m, viewer, pinned, tz)
        entry["replies"] = [] if m.is_reply else replies.get(m.ts, [])
        entry["reply_count"] = len(entry["replies"])
        shown.append(entry)
    return shown


def _view(view: Any, errors: dict[str, str]) -> JSON:
    body = view.body
    return {
        "id": view.id,
        "hash": view.hash,
        "title": body.get("title"),
        "submit": body.get("submit"),
        "close": body.get("close"),
        "blocks": body.get("blocks") or [],
        "callback_id": body.get("callback_id"),
        "errors": errors,
    }


def page_state(
    ws: Workspace,
    viewer: str,
    *,
    now: datetime,
    offset_minutes: int,
    facts: PageFacts,
    view_errors: dict[str, dict[str, str]],
    incidents: list[JSON],
) -> JSON:
    tz = facts.timezone
    with ws.lock:
        channels = visible_channels(ws, viewer, facts)
        users = {u.id: {"name": u.name, "real_name": u.real_name, "is_bot": u.is_bot} for u in ws.users.values()}
        ephemerals: dict[str, list[JSON]] = {}
        for e in ws.ephemerals_for(viewer):
            ephemerals.setdefault(e.channel, []).append(_ephemeral(e, ws.bot.id, tz))
        files = [file_entry(ws, f.id) for f in ws.files.all() if any(c.id in f.channels for c in channels)]
        state = {
            "me": viewer,
            "command": facts.command,
            "announcements": facts.announcements.lstrip("#"),
            "shortcuts": facts.shortcuts,
            "people": [{"id": u.id, "name": u.name, "real_name": u.real_name} for u in people(ws)],
            "users": users,
            "usergroups": {g.id: g.handle for g in ws.usergroups.values()},
            "channels": [
                {
                    "id": c.id,
                    "name": _dm_name(ws, c, viewer) if _is_dm(c) else c.name,
                    "is_private": c.is_private,
                    "is_dm": _is_dm(c),
                    "is_member": viewer in c.members,
                    "member_count": len(c.members),
                    "topic": c.topic.value,
                    "pins": [p.ts for p in c.pins],
                }
                for c in channels
            ],
            "messages": {c.id: _conversation(ws, c, viewer, tz) for c in channels},
            "ephemerals": ephemerals,
            "views": [_view(v, view_errors.get(v.id, {})) for v in ws.open_views(viewer)],
            "files": files,
            "incidents": incidents,
            "clock": {"label": _clock_label(now, tz), "offset_minutes": offset_minutes},
        }
    state["version"] = version_of(state)
    return state


def version_of(state: JSON) -> str:
    """A fingerprint of everything the page shows; the page re-renders only when it changes."""
    content = {k: v for k, v in state.items() if k != "version"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]
