"""auth.test, users.*, usergroups.*."""

from __future__ import annotations

from app.sandbox.errors import ApiError, Err
from app.sandbox.methods.base import Handler, Request, paginate
from app.sandbox.models import JSON
from app.sandbox.shapes import user_json, usergroup_json


def auth_test(req: Request) -> JSON:
    return {
        "url": req.ws.url,
        "team": req.ws.team_name,
        "user": req.caller.name,
        "team_id": req.ws.team_id,
        "user_id": req.caller.id,
        "bot_id": req.caller.bot_id,
        "is_enterprise_install": False,
    }


def users_info(req: Request) -> JSON:
    return {"user": user_json(req.ws, req.ws.user(req.args.require("user")))}


def users_list(req: Request) -> JSON:
    page, metadata = paginate(list(req.ws.users.values()), req.args, default_limit=1000)
    return {
        "members": [user_json(req.ws, u) for u in page],
        "cache_ts": req.ws.ids.now(),
        "response_metadata": metadata,
    }


def lookup_by_email(req: Request) -> JSON:
    user = req.ws.user_by_email(req.args.require("email"))
    if user is None or user.deleted:
        raise ApiError(Err.USERS_NOT_FOUND)
    return {"user": user_json(req.ws, user)}


def usergroups_list(req: Request) -> JSON:
    include_users = req.args.flag("include_users")
    return {"usergroups": [usergroup_json(req.ws, g, include_users=include_users) for g in req.ws.usergroups.values()]}


def usergroup_users(req: Request) -> JSON:
    group = req.ws.usergroups.get(req.args.require("usergroup"))
    if group is None:
        raise ApiError(Err.NO_SUCH_SUBTEAM)
    return {"users": list(group.users)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": lookup_by_email,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroup_users,
}
