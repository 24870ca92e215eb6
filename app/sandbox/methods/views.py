"""views.*: open, push, update (by view_id or external_id, with hash), publish (App Home)."""

from __future__ import annotations

from app.sandbox.blockkit import check_view
from app.sandbox.errors import ApiError
from app.sandbox.methods.base import Handler, Request
from app.sandbox.models import JSON, View
from app.sandbox.shapes import view_json

HOME, MODAL = "home", "modal"


def _answer(req: Request, view: View) -> JSON:
    return {"view": view_json(req.ws, view)}


def _view_arg(req: Request) -> JSON:
    if req.args.raw("view") is None:
        raise ApiError.invalid_arguments("missing required field: view")
    return check_view(req.args.json("view"))


def _modal_arg(req: Request) -> JSON:
    body = _view_arg(req)
    if body.get("type") != MODAL:
        raise ApiError.invalid_arguments("a modal view is expected [json-pointer:/view/type]")
    return body


def open_(req: Request) -> JSON:
    trigger_id = req.args.require("trigger_id")
    return _answer(req, req.ws.modals.open(trigger_id, _modal_arg(req)))


def push(req: Request) -> JSON:
    trigger_id = req.args.require("trigger_id")
    return _answer(req, req.ws.modals.push(trigger_id, _modal_arg(req)))


def update(req: Request) -> JSON:
    view_id, external_id = req.args.get("view_id"), req.args.get("external_id")
    if not view_id and not external_id:
        raise ApiError.invalid_arguments("missing required field: view_id or external_id")
    view = req.ws.modals.update(
        view_id=view_id, external_id=external_id, body=_view_arg(req), hash=req.args.get("hash")
    )
    return _answer(req, view)


def publish(req: Request) -> JSON:
    user = req.ws.user(req.args.require("user_id"))
    body = _view_arg(req)
    if body.get("type") != HOME:
        raise ApiError.invalid_arguments("views.publish takes a home view [json-pointer:/view/type]")
    return _answer(req, req.ws.modals.publish(user.id, body, hash=req.args.get("hash")))


METHODS: dict[str, Handler] = {
    "views.open": open_,
    "views.push": push,
    "views.update": update,
    "views.publish": publish,
}
