"""Share links (create, revoke) and the analytics export of a guide."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy.orm import Session

from guidecast.server import analytics
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.models import ShareLink, User, utcnow
from guidecast.server.params import Id, QueryId
from guidecast.server.permissions import guide_for
from guidecast.server.routes_learner import public_base
from guidecast.server.sharing import create_link, embed_snippet, link_state, link_token

router = APIRouter()


def _link_json(request: Request, link: ShareLink) -> dict:
    ctx = request.app.state.ctx
    token = link_token(link, ctx.settings.secret_key)
    return {"id": link.id, "url": f"{public_base(request)}/s/{token}" if token else None, "version": link.version,
            "state": link_state(link, ctx.clock()),
            "expires_at": link.expires_at.isoformat() if link.expires_at else None,
            "embed": embed_snippet(public_base(request), token, link.guide.title) if token else None}


@router.post("/guides/{guide_id}/links", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def new_link(request: Request, guide_id: Id, version: str = Form(""), expires_days: str = Form(""),
             user: User = Depends(require("editor")), db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    try:
        create_link(db, g, user, int(version) if version else None, float(expires_days) if expires_days else None,
                    now=request.app.state.ctx.clock(), secret=request.app.state.ctx.settings.secret_key)
    except ValueError:
        raise HTTPException(422, "version and expiry must be numbers") from None
    return RedirectResponse(f"/guides/{g.id}#links", 303)


@router.post("/api/guides/{guide_id}/links", tags=["sharing"], status_code=201, dependencies=[Depends(csrf_protect)])
def api_new_link(request: Request, guide_id: Id, version: QueryId | None = None, expires_days: float | None = None,
                 user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """A share link for the guide: pinned to `version`, or following the latest published version."""
    g = guide_for(db, user, guide_id, "edit")
    ctx = request.app.state.ctx
    return _link_json(request, create_link(db, g, user, version, expires_days, now=ctx.clock(),
                                           secret=ctx.settings.secret_key))


def _revoke(db: Session, user: User, guide_id: Id, link_id: Id) -> ShareLink:
    g = guide_for(db, user, guide_id, "edit")
    link = db.get(ShareLink, link_id)
    if link is None or link.guide_id != g.id:
        raise HTTPException(404, "no such link")
    link.revoked_at = link.revoked_at or utcnow()
    return link


@router.post("/guides/{guide_id}/links/{link_id}/revoke", include_in_schema=False,
             dependencies=[Depends(csrf_protect)])
def revoke_link(guide_id: Id, link_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    _revoke(db, user, guide_id, link_id)
    return RedirectResponse(f"/guides/{guide_id}#links", 303)


@router.delete("/api/guides/{guide_id}/links/{link_id}", tags=["sharing"], dependencies=[Depends(csrf_protect)])
def api_revoke_link(request: Request, guide_id: Id, link_id: Id, user: User = Depends(require("editor")),
                    db: Session = DB) -> dict:
    return _link_json(request, _revoke(db, user, guide_id, link_id))


@router.get("/guides/{guide_id}/analytics.csv", tags=["analytics"], response_class=PlainTextResponse)
def analytics_csv(guide_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    """Views, plays, completions and drop-off per version, as CSV."""
    g = guide_for(db, user, guide_id, "edit")
    return PlainTextResponse(analytics.csv_text(analytics.summary(db, g.id), g.id), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="guide-{g.id}-analytics.csv"'})
