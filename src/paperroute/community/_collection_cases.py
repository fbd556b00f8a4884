"""The collection use cases of ``Community`` (a mixin, as the comments' are, so that
service.py stays one readable file): a reader's own lists of papers, public or private."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from ..errors import NotFound
from . import _collections as lists
from ._cases import Needs
from .errors import Forbidden
from .model import Collection, User

# Removing a paper a moderator hid later must still work: look it up as an admin would.
_ADMIN_VIEW = User(0, "", "", True, None, datetime(1970, 1, 1, tzinfo=UTC))


class CollectionCases(Needs):
    """A reader's collections (``_cases.Needs``: what ``Community`` provides)."""

    def _own(self, connection: Connection, user: User | None, pk: int) -> Collection:
        reader = self._active(user)
        found = lists.get(connection, pk)
        if found.owner_pk != reader.pk:
            if found.public:
                raise Forbidden("only its owner can change this collection")
            raise NotFound(f"no collection {pk}")
        return found

    def create_collection(
        self, user: User | None, title: str, description: str = "", public: bool = False
    ) -> Collection:
        reader = self._active(user)
        with self._tx() as connection:
            return lists.create(connection, reader.pk, title, description, public, self._now())

    def collection(self, pk: int, viewer: User | None) -> Collection:
        """A public collection (of a reader not banned), or a private one to its owner.
        Raises NotFound."""
        with self._tx() as connection:
            found = lists.get(connection, pk)
            shown = lists.shown_to_all(connection, pk)
        if not shown and (viewer is None or viewer.pk != found.owner_pk):
            raise NotFound(f"no collection {pk}")
        return found

    def collection_paper_pks(self, collection: Collection) -> list[int]:
        """The papers of a collection, the latest added first (hidden ones included: lists
        leave those out when they load the papers)."""
        with self._tx() as connection:
            return lists.paper_pks(connection, collection.pk)

    def edit_collection(
        self, user: User | None, pk: int, *, title: str, description: str, public: bool
    ) -> Collection:
        with self._tx() as connection:
            self._own(connection, user, pk)
            return lists.edit(
                connection, pk, title=title, description=description, public=public,
                now=self._now(),
            )  # fmt: skip

    def delete_collection(self, user: User | None, pk: int) -> None:
        with self._tx() as connection:
            self._own(connection, user, pk)
            lists.remove(connection, pk)

    def add_to_collection(self, user: User | None, pk: int, paper_ref: str) -> Collection:
        with self._tx() as connection:
            self._own(connection, user, pk)
            paper_pk = self._paper_pk(connection, paper_ref, user)
            lists.add_paper(connection, pk, paper_pk, self._now())
            return lists.get(connection, pk)

    def remove_from_collection(self, user: User | None, pk: int, paper_ref: str) -> Collection:
        with self._tx() as connection:
            self._own(connection, user, pk)
            paper_pk = self._paper_pk(connection, paper_ref, _ADMIN_VIEW)
            lists.remove_paper(connection, pk, paper_pk, self._now())
            return lists.get(connection, pk)

    def public_collections(self, *, limit: int = 50, before: int | None = None) -> list[Collection]:
        with self._tx() as connection:
            return lists.public_collections(connection, limit=limit, before_pk=before)

    def own_collections(self, user: User) -> list[Collection]:
        with self._tx() as connection:
            return lists.owned_by(connection, user.pk)

    def collections_holding(self, paper_pk: int, viewer: User | None) -> list[Collection]:
        with self._tx() as connection:
            return lists.holding_paper(connection, paper_pk, viewer.pk if viewer else None)
