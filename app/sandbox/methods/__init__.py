"""The Web API methods the sandbox answers, by name."""

from app.sandbox.methods import chat, conversations, files, items, people, views
from app.sandbox.methods.base import Args, Handler, Request

METHODS: dict[str, Handler] = {
    **people.METHODS,
    **conversations.METHODS,
    **chat.METHODS,
    **views.METHODS,
    **items.METHODS,
    **files.METHODS,
}

__all__ = ["METHODS", "Args", "Handler", "Request"]
