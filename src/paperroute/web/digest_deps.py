"""What the digest's pages and its API share: the Digests dependency and the form's fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..digest import Digests

FORM_FIELDS = (
    "frequency",
    "weekday",
    "send_hour",
    "timezone",
    "categories",
    "keywords",
    "authors",
    "max_papers",
    "seeds",
)


def get_digests(request: Request) -> Digests:
    digests: Digests = request.app.state.digests
    return digests


DigestsDep = Annotated[Digests, Depends(get_digests)]
