"""files.*: the files_upload_v2 flow (getUploadURLExternal, the upload itself, completeUploadExternal);
the retired files.upload is refused."""

from __future__ import annotations

from app.sandbox.errors import ApiError, Err
from app.sandbox.methods.base import Handler, Request, writable_channel
from app.sandbox.models import JSON
from app.sandbox.shapes import file_json
from app.sandbox.uploads import UPLOAD_PATH


def get_upload_url(req: Request) -> JSON:
    filename = req.args.require("filename")
    length = req.args.number("length", 0)
    if length < 1:
        raise ApiError.invalid_arguments("length must be a positive integer")
    file = req.ws.files.reserve(filename, length, req.caller.id)
    return {"upload_url": f"{req.base_url}{UPLOAD_PATH}{file.id}", "file_id": file.id}


def complete_upload(req: Request) -> JSON:
    entries = req.args.json("files")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) and e.get("id") for e in entries):
        raise ApiError.invalid_arguments("files must be a non-empty array of {id, title}")
    targets = [c for c in [req.args.get("channel_id"), *(req.args.get("channels") or "").split(",")] if c]
    channels = [writable_channel(req, c) for c in dict.fromkeys(targets)]
    files = [req.ws.files.complete(e["id"], e.get("title")) for e in entries]
    for channel in channels:
        req.ws.post_message(
            channel.id,
            user=req.caller.id,
            text=req.args.get("initial_comment") or "",
            thread_ts=req.args.get("thread_ts"),
            files=[f.id for f in files],
        )
        for file in files:
            file.channels.append(channel.id)
    return {"files": [file_json(req.ws, f) for f in files]}


def file_info(req: Request) -> JSON:
    return {"file": file_json(req.ws, req.ws.files.get(req.args.require("file")))}


def retired_upload(req: Request) -> JSON:
    raise ApiError(Err.METHOD_DEPRECATED)


METHODS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "files.info": file_info,
    "files.upload": retired_upload,
}
