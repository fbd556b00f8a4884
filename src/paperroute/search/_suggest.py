"""Names for the search box's suggestions: authors whose name starts with what was typed,
and categories whose code does (the papers themselves come from a hybrid search)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from ..store.merge import fold_name

MIN_AUTHOR_CHARS = 3
_END = "\U0010ffff"  # after every character: the end of a prefix range


def authors(connection: Connection, typed: str, limit: int) -> list[tuple[str, int]]:
    """Authors (name, papers) whose folded name starts with ``typed``, most papers first."""
    prefix = fold_name(typed)
    if len(prefix) < MIN_AUTHOR_CHARS or not prefix.isprintable():
        return []
    if connection.dialect.name == "sqlite":
        # A range on the unique index of name_key (binary order).
        match = "a.name_key >= :p AND a.name_key < :end"
    else:
        match = "starts_with(a.name_key, :p)"
    rows = connection.execute(
        text(
            "SELECT min(a.name) AS name, count(pa.paper_pk) AS n FROM authors a "
            "JOIN paper_authors pa ON pa.author_pk = a.pk "
            f"WHERE {match} AND pa.paper_pk NOT IN (SELECT paper_pk FROM hidden_papers) "
            "GROUP BY a.pk ORDER BY n DESC, name LIMIT :limit"
        ),
        {"p": prefix, "end": prefix + _END, "limit": limit},
    )
    return [(str(row.name), int(row.n)) for row in rows]


def categories(connection: Connection, typed: str, limit: int) -> list[tuple[str, int]]:
    """Categories (code, papers) whose code starts with ``typed`` (one token with a dot:
    "cs.", "cs.L", "astro-ph"), case folded, most papers first."""
    token = typed.strip()
    if " " in token or "." not in token or len(token) > 40 or not token.isprintable():
        return []
    archive, _, subject = token.partition(".")
    spellings = {token, f"{archive.lower()}.{subject.upper()}", f"{archive.lower()}.{subject}"}
    found: dict[str, int] = {}
    for spelling in sorted(spellings):
        rows = connection.execute(
            text(
                "SELECT category, count(*) AS n FROM paper_categories "
                "WHERE category >= :p AND category < :end GROUP BY category"
            ),
            {"p": spelling, "end": spelling + _END},
        )
        found.update((str(row.category), int(row.n)) for row in rows)
    ordered = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:limit]
