"""WSGI plumbing for the Web API double: reading a request's arguments, writing JSON answers."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

Headers = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


class BadRequest(Exception):
    """A body the Web API could not read (`invalid_json`, `invalid_form_data`)."""


def read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def read_args(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Query string, then the body: form-encoded, JSON or multipart, as Slack accepts them."""
    args: dict[str, Any] = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    content_type = (environ.get("CONTENT_TYPE") or "").lower()
    if not body:
        return args
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise BadRequest("json_not_object")
        return args | parsed
    if content_type.startswith("multipart/form-data"):
        return args | multipart_fields(environ.get("CONTENT_TYPE", ""), body)
    try:
        return args | dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise BadRequest("invalid_form_data") from exc


def multipart_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields as str, file parts as bytes."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not message.is_multipart():
        raise BadRequest("invalid_form_data")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name:
            fields[str(name)] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return fields


def base_url(environ: dict[str, Any]) -> str:
    """http://host:port/ as the client reached us, so URLs we hand out work on any port."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}/"


def json_answer(body: Any, status: int = 200, headers: Headers | None = None) -> Answer:
    return status, [("Content-Type", JSON_TYPE), *(headers or [])], json.dumps(body).encode()


def text_answer(text: str, status: int = 200) -> Answer:
    return status, [("Content-Type", TEXT_TYPE)], text.encode()


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"
