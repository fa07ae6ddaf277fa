"""The library: list and search guides, upload, a guide's manager page and its settings."""
from __future__ import annotations

import json
import re
from datetime import date

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from guidecast.kernel.errors import GuidecastError
from guidecast.server import analytics, freshness
from guidecast.server.allowlist import NotAllowed, check_workflow
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.imports import import_upload
from guidecast.server.jobs import job_json
from guidecast.server.limits import normal_email
from guidecast.server.models import Check, Guide, GuideMember, Job, ShareLink, User
from guidecast.server.params import Id
from guidecast.server.permissions import can_edit, guide_for, visible_guides
from guidecast.server.routes_learner import public_base
from guidecast.server.sharing import embed_snippet, link_state, link_token
from guidecast.server.uploads import UploadError
from guidecast.server.web import page, wants_json

router = APIRouter()


def _cached_json(ctx, tree: str | None, rel: str) -> dict | None:
    return ctx.assets.read_json(tree, rel) if tree else None


def badges(ctx, guide: Guide, fresh: freshness.State | None = None, editor: bool = True) -> list[tuple[str, str]]:
    """(css class, label) pairs: status; "stale" ones (the app changed, the video or capture is behind);
    could not verify; a draft version to review; overdue review. `fresh`: the guide's checks. Someone who
    may not edit the guide (a learner) never hears of a draft version: the rest is about the published one."""
    out = [(guide.status, guide.status)]
    fresh = fresh or freshness.State()
    if fresh.changed(guide):
        out.append(("stale", "changed in the app"))
    if fresh.unverified(guide):
        out.append(("unverified", "could not verify"))
    latest = guide.latest_version if editor else guide.published_version
    if latest is not None and latest.draft:
        out.append(("draft", f"draft version {latest.number} to review"))
    if latest is not None:
        video = _cached_json(ctx, latest.video_tree, "video.json")
        if video is None or video.get("guide_id") != latest.composed_guide_id:
            out.append(("stale", "video behind"))
        if guide.capture_tree and guide.capture_tree != latest.capture_tree:
            out.append(("stale", "newer capture not published"))
    cap = _cached_json(ctx, guide.capture_tree, "capture.json")
    if cap and guide.workflow_sha256 and cap["workflow"]["sha256"] != guide.workflow_sha256:
        out.append(("stale", "capture behind workflow"))
    if overdue(guide):
        out.append(("overdue", "review overdue"))
    return out


def overdue(guide: Guide) -> bool:
    return bool(guide.review_by and guide.review_by < date.today().isoformat())


SECTIONS = {"": "All", "stale": "Stale", "overdue": "Review overdue"}


def in_section(section: str, guide: Guide, marks: list[tuple[str, str]]) -> bool:
    """stale: the app changed, or the video or capture is behind; overdue: the review-by date passed."""
    if section == "stale":
        return any(cls == "stale" for cls, _ in marks)
    if section == "overdue":
        return overdue(guide)
    return True


def guide_summary(ctx, g: Guide, fresh: freshness.State | None = None, editor: bool = False) -> dict:
    """A guide as the library API lists it; check details (app URL, reports) for its editors only."""
    v, pv = g.latest_version, g.published_version
    fresh = fresh or freshness.State()
    marks = badges(ctx, g, fresh, editor)
    changed = fresh.changed(g)
    return {"id": g.id, "title": g.title, "owner": g.owner.email, "status": g.status, "tags": g.tags,
            "latest_version": v.number if v else None, "published_version": pv.number if pv else None,
            "review_by": g.review_by, "overdue": overdue(g), "stale": in_section("stale", g, marks),
            "last_verified": g.last_verified_at.isoformat() if g.last_verified_at else None,
            "last_check": freshness.check_json(fresh.latest, g) if fresh.latest and editor else None,
            "changed_in_app": freshness.check_json(changed, g) if changed and editor else None,
            "badges": [label for _, label in marks]}


def _search(db: Session, user: User, q: str, tag: str) -> list[Guide]:
    query = visible_guides(user)
    for word in q.lower().split()[:8]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Guide.search_text.like(like), Guide.title.like(like), Guide.tags_json.like(like)))
    if tag:
        query = query.where(Guide.tags_json.like(f'%{json.dumps(tag)}%'))
    return list(db.scalars(query.order_by(Guide.updated_at.desc()).limit(500)))


def _section(section: str) -> str:
    if section not in SECTIONS:
        raise HTTPException(422, f"show: one of {', '.join(repr(k) for k in SECTIONS)}")
    return section


@router.get("/", include_in_schema=False)
def library(request: Request, q: str = "", tag: str = "", show: str = "", user: User = Depends(require("viewer")),
            db: Session = DB):
    return _library_page(request, db, user, q, tag, show)


NO_UPLOAD = {"error": None, "field": None, "filename": "", "base_url": ""}


def _library_page(request: Request, db: Session, user: User, q: str = "", tag: str = "", show: str = "",
                  status_code: int = 200, upload: dict | None = None):
    """The library; `upload`: what the upload form shows again after a refused upload (error, field, the
    file's name, the app URL given)."""
    ctx = request.app.state.ctx
    guides = _search(db, user, q, tag)
    fresh = freshness.states(db, [g.id for g in guides])
    rows = []
    for g in guides:
        editable = can_edit(db, user, g)
        rows.append({"guide": g, "badges": badges(ctx, g, fresh.get(g.id), editable), "editable": editable})
    counts = {k: sum(in_section(k, r["guide"], r["badges"]) for r in rows) for k in SECTIONS}
    rows = [r for r in rows if in_section(_section(show), r["guide"], r["badges"])]
    st = ctx.settings
    return page(request, "library.html.j2", status_code, rows=rows, q=q, tag=tag, show=show, sections=SECTIONS,
                counts=counts, upload={**NO_UPLOAD, **(upload or {})}, allowed_hosts=st.capture_allowed_hosts,
                max_upload_mb=st.max_upload_bytes // (1024 * 1024))


@router.get("/api/guides", tags=["library"])
def api_guides(request: Request, q: str = "", tag: str = "", show: str = "", user: User = Depends(require("viewer")),
               db: Session = DB) -> list[dict]:
    """Guides the caller may see, newest first; `q` searches title, tags and step text; `show=stale` (the app
    changed, or the video or capture is behind) or `show=overdue` (review-by date passed) narrows the list."""
    ctx = request.app.state.ctx
    guides = _search(db, user, q, tag)
    fresh = freshness.states(db, [g.id for g in guides])
    out = [guide_summary(ctx, g, fresh.get(g.id), can_edit(db, user, g)) for g in guides]
    section = _section(show)
    return [s for s in out if not section or s[section]]


@router.get("/api/guides/{guide_id}", tags=["library"])
def api_guide(request: Request, guide_id: Id, user: User = Depends(require("viewer")),
              db: Session = DB) -> dict:
    g = guide_for(db, user, guide_id)
    return guide_summary(request.app.state.ctx, g, freshness.states(db, [g.id]).get(g.id), can_edit(db, user, g))


@router.post("/guides/upload", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def upload(request: Request, file: UploadFile | None = File(None), base_url: str = Form(""),
           user: User = Depends(require("editor")), db: Session = DB):
    """The library's upload form. A refused upload answers on the same page (or, asked for JSON by the
    page's script, as {detail, field}), in words that say what to change, naming the form field."""
    try:
        if file is None or not file.filename:
            raise UploadError("Choose a file to upload.")
        guide, _ = import_upload(request.app.state.ctx, db, user, file, base_url.strip())
    except GuidecastError as e:
        db.rollback()
        message = request.app.state.ctx.settings.public_message(str(e))
        field = getattr(e, "field", "file")
        if wants_json(request):
            return JSONResponse({"detail": message, "field": field}, e.http_status)
        return _library_page(request, db, user, status_code=e.http_status, upload={
            "error": message, "field": field, "filename": file.filename if file else "", "base_url": base_url})
    if wants_json(request):
        return JSONResponse({"guide": {"id": guide.id, "title": guide.title}, "location": f"/guides/{guide.id}"}, 201)
    return RedirectResponse(f"/guides/{guide.id}", 303)


@router.post("/api/guides", tags=["library"], status_code=201, dependencies=[Depends(csrf_protect)])
def api_upload(request: Request, file: UploadFile = File(...), base_url: str = Form(""),
               user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Upload a workflow (.yaml, with base_url on the capture allowlist), a capture bundle (.zip) or a
    built output folder (.zip). Returns the new guide and the job started for it."""
    guide, job = import_upload(request.app.state.ctx, db, user, file, base_url)
    return {"guide": {"id": guide.id, "title": guide.title}, "job": job_json(job) if job else None}


@router.get("/guides/{guide_id}", include_in_schema=False)
def guide_page(request: Request, guide_id: Id, user: User = Depends(require("editor")),
               db: Session = DB):
    ctx = request.app.state.ctx
    g = guide_for(db, user, guide_id, "edit")
    jobs = db.scalars(select(Job).where(Job.guide_id == g.id).order_by(Job.id.desc()).limit(10)).all()
    links = db.scalars(select(ShareLink).where(ShareLink.guide_id == g.id).order_by(ShareLink.id.desc())).all()
    members = db.scalars(select(User).join(GuideMember, GuideMember.user_id == User.id)
                         .where(GuideMember.guide_id == g.id)).all()
    stats = analytics.summary(db, g.id)
    chart = None
    shown = next((v for v in g.versions if stats and v.number == stats[0]["version"]), None)
    if shown is not None:  # where learners of the newest version with visits stopped, by its step numbers
        n_steps = len((_cached_json(ctx, shown.guide_tree, "guide.json") or {}).get("steps", []))
        chart = analytics.chart_svg(stats[0], n_steps)
    checks = db.scalars(select(Check).where(Check.guide_id == g.id).order_by(Check.id.desc()).limit(8)).all()
    fresh = freshness.states(db, [g.id]).get(g.id) or freshness.State()
    latest_check, changed = fresh.latest, fresh.changed(g)
    return page(request, "guide.html.j2", g=g, badges=badges(ctx, g, fresh), jobs=[job_json(j) for j in jobs],
                links=[(lk, link_state(lk, ctx.clock()), link_token(lk, ctx.settings.secret_key)) for lk in links],
                members=members, stats=stats, chart=chart, embed_snippet=embed_snippet,
                done_labels=analytics.DONE, read_min_s=ctx.settings.read_min_s,
                base_url=public_base(request),
                check=freshness.check_json(latest_check, g) if latest_check else None,
                changed=freshness.check_json(changed, g) if changed and changed is not latest_check else None,
                checks=[freshness.check_json(c, g) for c in checks], not_checkable=freshness.checkable(g),
                checking=freshness.active_job(db, g.id, "check"), refreshing=freshness.active_job(db, g.id, "refresh"))


@router.post("/guides/{guide_id}/settings", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def guide_settings(request: Request, guide_id: Id, tags: str = Form(""), review_by: str = Form(""),
                   status: str = Form(...), owner: str = Form(""), app_base_url: str = Form(""),
                   user: User = Depends(require("editor")), db: Session = DB):
    """Tags, review-by date, status; the owner (owner or admin only) and the app URL (allowlisted) when given."""
    g = guide_for(db, user, guide_id, "edit")
    if review_by and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", review_by):
        raise HTTPException(422, "review-by date: use YYYY-MM-DD")
    if status not in ("draft", "published") or (status == "published" and g.published_version is None):
        raise HTTPException(422, "status: draft, or published once a (non-draft) version exists")
    owner = normal_email(owner)
    if owner and owner != g.owner.email:
        if not (user.role == "admin" or g.owner_id == user.id):
            raise HTTPException(403, "only the owner or an admin hands a guide to another owner")
        new_owner = db.scalar(select(User).where(User.email == owner, User.active.is_(True)))
        if new_owner is None or not new_owner.at_least("editor"):
            raise HTTPException(422, "owner: no active editor with that email")
        g.owner_id = new_owner.id
    app_base_url = app_base_url.strip()
    if app_base_url and app_base_url != g.app_base_url:
        if not g.workflow_blob:
            raise HTTPException(422, "app URL: this guide has no workflow to replay against it")
        ctx = request.app.state.ctx
        try:
            check_workflow(ctx.assets.blob_path(g.workflow_blob), app_base_url, ctx.settings.capture_allowed_hosts)
        except NotAllowed as e:
            raise NotAllowed(str(e).replace(str(ctx.assets.blob_path(g.workflow_blob)), "workflow")) from None
        g.app_base_url = app_base_url
    g.tags = sorted({t.strip()[:40] for t in tags.split(",") if t.strip()})[:20]
    g.review_by, g.status = review_by or None, status
    return RedirectResponse(f"/guides/{g.id}" if can_edit(db, user, g) else "/", 303)  # "/": handed to another


@router.post("/guides/{guide_id}/members", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def add_member(guide_id: Id, email: str = Form(...), user: User = Depends(require("editor")),
               db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    if not (user.role == "admin" or g.owner_id == user.id):
        raise HTTPException(403, "only the owner or an admin shares a guide with editors")
    other = db.scalar(select(User).where(User.email == normal_email(email)))
    if other is None or not other.at_least("editor"):
        raise HTTPException(422, "no editor with that email")
    if db.get(GuideMember, (g.id, other.id)) is None:
        db.add(GuideMember(guide_id=g.id, user_id=other.id))
    return RedirectResponse(f"/guides/{g.id}", 303)


@router.post("/guides/{guide_id}/members/{user_id}/remove", include_in_schema=False,
             dependencies=[Depends(csrf_protect)])
def remove_member(guide_id: Id, user_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    if not (user.role == "admin" or g.owner_id == user.id):
        raise HTTPException(403, "only the owner or an admin changes who a guide is shared with")
    db.execute(delete(GuideMember).where(GuideMember.guide_id == g.id, GuideMember.user_id == user_id))
    return RedirectResponse(f"/guides/{g.id}", 303)


@router.post("/guides/{guide_id}/capture", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def recapture(request: Request, guide_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    if not g.workflow_blob:
        raise HTTPException(422, "this guide was uploaded without a workflow; upload the workflow to capture again")
    request.app.state.ctx.jobs.submit(db, "capture", g.id, user_id=user.id)
    return RedirectResponse(f"/guides/{g.id}", 303)


@router.post("/guides/{guide_id}/delete", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def delete_guide(request: Request, guide_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    if not (user.role == "admin" or g.owner_id == user.id):
        raise HTTPException(403, "only the owner or an admin deletes a guide")
    db.delete(g)
    request.app.state.ctx.jobs.submit(db, "gc", None, user_id=user.id)  # what only this guide used goes too
    return RedirectResponse("/", 303)
