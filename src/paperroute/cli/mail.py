"""``paperroute mail check``: what a self-hoster runs first, to see that mail goes out."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..errors import InvalidInput
from ._common import Format, fail, open_hub_or_fail, out

mail_app = typer.Typer(help="The mail server: check the connection.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(mail_app, name="mail")


@mail_app.command("check")
def mail_check(
    ctx: typer.Context,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Also send a test message to this address."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Connect to the SMTP server, negotiate TLS, sign in, optionally send a test message;
    print each step. Exit status 1 when a step failed."""
    with open_hub_or_fail(ctx) as hub:
        try:
            result = hub.check_mail(to)
        except InvalidInput as exc:
            fail(str(exc))
    if format is Format.json:
        steps = [{"step": s.name, "ok": s.ok, "detail": s.detail} for s in result.steps]
        out.print(json.dumps({"ok": result.ok, "steps": steps}), markup=False)
    else:
        for step in result.steps:
            out.print(f"{'ok  ' if step.ok else 'FAIL'} {step.name:<8} {step.detail}", markup=False)
        out.print("mail works" if result.ok else "mail does not work", markup=False)
    if not result.ok:
        raise typer.Exit(1)
