"""The comment use cases of ``Community`` (a mixin, so service.py stays one readable file):
write, edit and delete one's own, report one, and the lists admins moderate from."""

from __future__ import annotations

from sqlalchemy import Connection

from ..errors import NotFound
from ..site import ratelimit
from . import _comments as comments
from ._cases import Needs
from .model import Comment, ReportedComment, User

COMMENTS_PER_HOUR = 60  # per reader: a conversation, not a flood
EDITS_PER_HOUR = 60
REPORTS_PER_HOUR = 20  # per reader: enough to flag a thread, not to flood the admins
HOUR = 3600


class CommentCases(Needs):
    """Comments (``_cases.Needs``: what ``Community`` provides, and its renderer)."""

    markdown: comments.MarkdownRenderer

    def _limit(self, connection: Connection, key: str, limit: int, what: str) -> None:
        ratelimit.hit(
            connection, key, limit=limit, window=HOUR, now=self._now().timestamp(), what=what
        )

    def comment(self, user: User | None, paper_ref: str, text: str) -> Comment:
        reader = self._active(user)
        with self._tx() as connection:
            pk = self._paper_pk(connection, paper_ref, reader)
            self._limit(connection, f"comment:{reader.pk}", COMMENTS_PER_HOUR, "comments")
            return comments.add_comment(connection, self.markdown, pk, reader.pk, text, self._now())

    def edit_comment(self, user: User | None, comment_pk: int, text: str) -> Comment:
        """The author's new text, checked and limited like a new comment. Forbidden for
        anyone else; NotFound when there is no such comment."""
        reader = self._active(user)
        with self._tx() as connection:
            self._limit(connection, f"comment-edit:{reader.pk}", EDITS_PER_HOUR, "edits")
            return comments.edit_comment(
                connection, self.markdown, comment_pk, reader.pk, text, self._now()
            )

    def delete_comment(self, user: User | None, comment_pk: int) -> Comment:
        """Deletes the author's own comment for good and returns what it was."""
        reader = self._active(user)
        with self._tx() as connection:
            return comments.delete_comment(connection, comment_pk, reader.pk)

    def report_comment(self, user: User | None, comment_pk: int, reason: str = "") -> Comment:
        """Flags a visible comment for the admins (listed on /admin); rate-limited."""
        reader = self._active(user)
        with self._tx() as connection:
            self._limit(connection, f"comment-report:{reader.pk}", REPORTS_PER_HOUR, "reports")
            found = comments.get_comment(connection, comment_pk)
            if found.hidden_at is not None and not reader.is_admin:
                raise NotFound(f"no comment {comment_pk}")
            return comments.report_comment(connection, comment_pk, reader.pk, reason, self._now())

    def comments(
        self,
        paper_pk: int,
        viewer: User | None = None,
        *,
        after: int | None = None,
        limit: int = 500,
    ) -> list[Comment]:
        """A paper's comments, oldest first (hidden ones too for admins)."""
        with self._tx() as connection:
            return comments.paper_comments(
                connection,
                paper_pk,
                include_hidden=bool(viewer and viewer.is_admin),
                after_pk=after,
                limit=limit,
            )

    def user_comments(self, user: User) -> list[Comment]:
        with self._tx() as connection:
            return comments.user_comments(connection, user.pk)

    def moderation_queue(
        self, user: User | None, *, limit: int = 50
    ) -> tuple[list[ReportedComment], list[Comment], list[Comment]]:
        """For admins: reported comments, the latest comments and the hidden ones."""
        self._admin(user)
        with self._tx() as connection:
            reported = [
                ReportedComment(c, n, reason)
                for c, n, reason in comments.reported_comments(connection, limit=limit)
            ]
            recent = comments.recent_comments(connection, limit=limit)
            hidden = comments.recent_comments(connection, hidden=True, limit=limit)
        return reported, recent, hidden
