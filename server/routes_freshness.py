"""Freshness in the web app: start a check of a guide against the app, read its report, refresh the guide
from a check that found changes (a draft version), publish a draft version. Editors of the guide only."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server import freshness
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.jobs import job_json
from guidecast.server.models import Check, Guide, Job, User
from guidecast.server.params import MAX_ID, Id
from guidecast.server.permissions import guide_for
from guidecast.server.versions import get_version, version_json

router = APIRouter()


class CheckIn(BaseModel):
    base_url: str | None = Field(None, description="check against this app URL instead of the guide's own "
                                                   "(it must be on the capture allowlist)")


class PublishDraftIn(BaseModel):
    reviewed: bool = Field(False, description="publish even where a blurred element is not on the page any more "
                                              "(after looking at the pictures)")


class RefreshIn(BaseModel):
    check_id: int | None = Field(None, ge=0, le=MAX_ID, description="the check whose new capture to use (default: the latest)")


def start_check(ctx, db: Session, g: Guide, user: User, base_url: str | None) -> Job:
    """A check job for `g` (the one already queued or running, if any)."""
    base_url = (base_url or "").strip() or None
    freshness.allowed_check(ctx, g, base_url)
    running = freshness.active_job(db, g.id, "check")
    if running is not None:
        return running
    return ctx.jobs.submit(db, "check", g.id, {"base_url": base_url} if base_url else {}, user.id)


def start_refresh(ctx, db: Session, g: Guide, user: User, check_id: int | None) -> Job:
    running = freshness.active_job(db, g.id, "refresh")
    if running is not None:
        return running
    if check_id is None:  # the newest check that reached the app
        chk = (freshness.states(db, [g.id]).get(g.id) or freshness.State()).verified
    else:
        chk = db.get(Check, check_id)
    if chk is None or chk.guide_id != g.id:
        raise HTTPException(404 if check_id is not None else 409,
                            "no such check" if check_id is not None else "check the guide first")
    freshness.refresh_allowed(g, chk)
    return ctx.jobs.submit(db, "refresh", g.id, {"check": chk.id}, user.id)


def _check(db: Session, g: Guide, check_id: Id) -> Check:
    chk = db.get(Check, check_id)
    if chk is None or chk.guide_id != g.id:
        raise HTTPException(404, "no such check")
    return chk


@router.post("/api/guides/{guide_id}/check", tags=["freshness"], status_code=202,
             dependencies=[Depends(csrf_protect)])
def api_check(request: Request, guide_id: Id, body: CheckIn | None = None, user: User = Depends(require("editor")),
              db: Session = DB) -> dict:
    """Replay the guide's workflow against the app now and compare with the capture its latest version came
    from (a `check` job). A check already queued or running is returned instead of starting another."""
    g = guide_for(db, user, guide_id, "edit")
    return job_json(start_check(request.app.state.ctx, db, g, user, body.base_url if body else None))


@router.post("/guides/{guide_id}/check", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def check_form(request: Request, guide_id: Id, base_url: str = Form(""), user: User = Depends(require("editor")),
               db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    start_check(request.app.state.ctx, db, g, user, base_url)
    return RedirectResponse(f"/guides/{g.id}#freshness", 303)


@router.get("/api/guides/{guide_id}/checks", tags=["freshness"])
def api_checks(guide_id: Id, user: User = Depends(require("editor")), db: Session = DB) -> list[dict]:
    """The guide's checks, newest first: outcome (unchanged, changed, unverified), changed steps and their
    classes, links to the reports."""
    g = guide_for(db, user, guide_id, "edit")
    rows = db.scalars(select(Check).where(Check.guide_id == g.id).order_by(Check.id.desc()).limit(50))
    return [freshness.check_json(c, g) for c in rows]


@router.get("/api/guides/{guide_id}/checks/{check_id}", tags=["freshness"])
def api_check_report(request: Request, guide_id: Id, check_id: Id, user: User = Depends(require("editor")),
                     db: Session = DB) -> dict:
    """One check with its full freshness report (capture.compare.FreshnessReport)."""
    g = guide_for(db, user, guide_id, "edit")
    chk = _check(db, g, check_id)
    report = json.loads(request.app.state.ctx.assets.blob_path(chk.report_blob).read_text("utf-8"))
    return {**freshness.check_json(chk, g), "report": report}


@router.get("/guides/{guide_id}/checks/{check_id}/report", include_in_schema=False)
def check_report_page(request: Request, guide_id: Id, check_id: Id, user: User = Depends(require("editor")),
                      db: Session = DB):
    """The HTML report with before/after pictures of every changed step (served with a CSP of its own)."""
    g = guide_for(db, user, guide_id, "edit")
    chk = _check(db, g, check_id)
    if not chk.html_blob:
        raise HTTPException(404, "this check has no HTML report")
    return FileResponse(request.app.state.ctx.assets.blob_path(chk.html_blob), media_type="text/html",
                        headers={"Cache-Control": "private, max-age=300"})


@router.post("/api/guides/{guide_id}/refresh", tags=["freshness"], status_code=202,
             dependencies=[Depends(csrf_protect)])
def api_refresh(request: Request, guide_id: Id, body: RefreshIn | None = None,
                user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Bring the guide up to date from a check that found changes (a `refresh` job): re-compose with the edit
    layer, re-render only the changed video segments, and add a draft version with a changelog."""
    g = guide_for(db, user, guide_id, "edit")
    return job_json(start_refresh(request.app.state.ctx, db, g, user, body.check_id if body else None))


@router.post("/guides/{guide_id}/refresh", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def refresh_form(request: Request, guide_id: Id, check_id: str = Form(""), user: User = Depends(require("editor")),
                 db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    start_refresh(request.app.state.ctx, db, g, user, int(check_id) if check_id.isdigit() else None)
    return RedirectResponse(f"/guides/{g.id}#freshness", 303)


@router.post("/api/guides/{guide_id}/versions/{number}/publish", tags=["freshness"],
             dependencies=[Depends(csrf_protect)])
def api_publish_draft(request: Request, guide_id: Id, number: Id, body: PublishDraftIn | None = None,
                      user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Publish a draft version (from a refresh): learners and share links that follow the latest see it. A draft
    where a blurred element is gone is refused (409) unless `reviewed`."""
    g = guide_for(db, user, guide_id, "edit")
    v = get_version(g, number)
    freshness.publish_draft(request.app.state.ctx, g, v, reviewed=bool(body and body.reviewed))
    return version_json(v)


@router.post("/guides/{guide_id}/versions/{number}/publish", include_in_schema=False,
             dependencies=[Depends(csrf_protect)])
def publish_draft_form(request: Request, guide_id: Id, number: Id, user: User = Depends(require("editor")),
                       db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    freshness.publish_draft(request.app.state.ctx, g, get_version(g, number))
    return RedirectResponse(f"/guides/{g.id}#versions", 303)
