"""Moderation for admins: hide or show a paper or a comment, ban or unban a reader, and the
audit log at /admin. Every action is written to the audit log by the use case itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..community import Community, User
from ..hub import Hub
from .deps import render
from .session import Pk, get_community, require_admin
from .templating import paper_url

router = APIRouter(include_in_schema=False)

CommunityDep = Annotated[Community, Depends(get_community)]
AdminDep = Annotated[User, Depends(require_admin)]
Reason = Annotated[str, Form(max_length=2000)]


@router.get("/admin")
def admin_page(request: Request, community: CommunityDep, admin: AdminDep) -> Response:
    hub: Hub = request.app.state.hub
    sources = hub.sources
    return render(
        request,
        "community/admin.html",
        {
            "entries": community.audit_log(admin, limit=200),
            "users": community.users(),
            "queue": community.moderation_queue(admin),
            # The scheduled sources (docs/jobs.md): each with its status for an operator.
            "sources": [(s, s.status(sources.clock())) for s in sources.listed()],
            "job_totals": hub.job_runs.totals(),
        },
    )


@router.post("/papers/{paper_id:path}/hide")
def hide_paper(
    community: CommunityDep, admin: AdminDep, paper_id: str, reason: Reason = ""
) -> Response:
    community.set_paper_hidden(admin, paper_id, True, reason)
    # Lists and the paper page leave hidden papers out: the log is where to undo it.
    return RedirectResponse("/admin", status_code=303)


@router.post("/papers/{paper_id:path}/unhide")
def unhide_paper(community: CommunityDep, admin: AdminDep, paper_id: str) -> Response:
    community.set_paper_hidden(admin, paper_id, False)
    return RedirectResponse(paper_url(paper_id), status_code=303)


@router.post("/admin/papers")
def hide_paper_by_id(
    community: CommunityDep,
    admin: AdminDep,
    paper_id: Annotated[str, Form(max_length=400)] = "",
    action: Annotated[str, Form(max_length=10)] = "hide",
    reason: Reason = "",
) -> Response:
    community.set_paper_hidden(admin, paper_id, action != "unhide", reason)
    return RedirectResponse("/admin", status_code=303)


@router.post("/comments/{pk}/hide")
def hide_comment(community: CommunityDep, admin: AdminDep, pk: Pk) -> Response:
    found = community.set_comment_hidden(admin, pk, True)
    return RedirectResponse(paper_url(found.paper_id) + f"#comment-{pk}", status_code=303)


@router.post("/comments/{pk}/unhide")
def unhide_comment(community: CommunityDep, admin: AdminDep, pk: Pk) -> Response:
    found = community.set_comment_hidden(admin, pk, False)
    return RedirectResponse(paper_url(found.paper_id) + f"#comment-{pk}", status_code=303)


@router.post("/admin/users/{pk}/ban")
def ban(community: CommunityDep, admin: AdminDep, pk: Pk, reason: Reason = "") -> Response:
    community.set_banned(admin, pk, True, reason)
    return RedirectResponse("/admin#users", status_code=303)


@router.post("/admin/users/{pk}/unban")
def unban(community: CommunityDep, admin: AdminDep, pk: Pk) -> Response:
    community.set_banned(admin, pk, False)
    return RedirectResponse("/admin#users", status_code=303)
