"""Files sent the files_upload_v2 way: reserved, then uploaded to their URL, then completed (and shared)."""

from __future__ import annotations

import threading

from app.sandbox.errors import ApiError, Err
from app.sandbox.ids import IdFactory
from app.sandbox.models import File

UPLOAD_PATH = "upload/"  # below the server's root: where files.getUploadURLExternal sends the bytes


class Uploads:
    def __init__(self, lock: threading.RLock, ids: IdFactory) -> None:
        self._lock = lock
        self._ids = ids
        self._files: dict[str, File] = {}

    def reserve(self, filename: str, length: int, user: str) -> File:
        with self._lock:
            file = File(id=self._ids.new("F"), name=filename, length=length, user=user, created=self._ids.now())
            self._files[file.id] = file
            return file

    def receive(self, file_id: str, content: bytes) -> File:
        with self._lock:
            file = self.get(file_id)
            file.content = content
            return file

    def complete(self, file_id: str, title: str | None) -> File:
        with self._lock:
            file = self.get(file_id)
            if file.content is None:
                raise ApiError(Err.FILE_UPLOAD_NOT_FINISHED)
            file.title = title or file.name
            file.completed = True
            return file

    def get(self, file_id: str) -> File:
        with self._lock:
            file = self._files.get(file_id)
            if file is None:
                raise ApiError(Err.FILE_NOT_FOUND)
            return file

    def all(self) -> list[File]:
        with self._lock:
            return [f for f in self._files.values() if f.completed]
