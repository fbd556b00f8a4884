"""``paperroute users``: list the hub's readers, make one an admin or take it back."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..errors import PaperrouteError
from ._common import fail, open_hub_or_fail, out

users_app = typer.Typer(help="Readers of the web hub and their admin role.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


Email = Annotated[str, typer.Argument(help="The reader's email address.")]


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """Every reader: address, name, role, ban."""
    with open_hub_or_fail(ctx) as hub:
        try:
            readers = hub.community.users()
        except PaperrouteError as exc:
            fail(str(exc), 1)
    table = Table("email", "name", "role", "since", "banned")
    for user in readers:
        table.add_row(
            user.email,
            user.display_name,
            "admin" if user.is_admin else "reader",
            user.created_at.date().isoformat(),
            user.banned_at.date().isoformat() if user.banned_at else "",
        )
    out.print(table)
    out.print(f"{len(readers)} reader{'s' if len(readers) != 1 else ''}", markup=False)


@users_app.command("promote")
def users_promote(ctx: typer.Context, email: Email) -> None:
    """Make a reader an admin (moderation, /admin); the account is made if it is new."""
    with open_hub_or_fail(ctx) as hub:
        try:
            user, created = hub.community.set_admin(email, True)
        except PaperrouteError as exc:
            fail(str(exc))
    note = " (new account: they sign in with this address)" if created else ""
    out.print(f"{user.email} is now an admin{note}", markup=False)


@users_app.command("demote")
def users_demote(ctx: typer.Context, email: Email) -> None:
    """Take the admin role back from a reader."""
    with open_hub_or_fail(ctx) as hub:
        try:
            user, _ = hub.community.set_admin(email, False)
        except PaperrouteError as exc:
            fail(str(exc))
    out.print(f"{user.email} is no longer an admin", markup=False)
