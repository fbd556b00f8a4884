"""What the use-case mixins of ``Community`` (``_comment_cases.py``,
``_collection_cases.py``) need from it: a transaction, the clock and the checks on who
acts. ``Community`` (service.py) provides them."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection

from .model import User


class Needs:
    """The stubs ``Community`` overrides."""

    def _tx(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _now(self) -> datetime:
        raise NotImplementedError

    @staticmethod
    def _active(user: User | None) -> User:
        raise NotImplementedError

    def _admin(self, user: User | None) -> User:
        raise NotImplementedError

    def _paper_pk(self, connection: Connection, ref: str, viewer: User | None) -> int:
        raise NotImplementedError
