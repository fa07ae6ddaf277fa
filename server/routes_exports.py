"""Downloads of a guide version (server/exports.py): HTML, Markdown and SCORM without the video at once;
PDF and SCORM with the video as jobs whose file is downloaded when they are done. Editors of the guide
only (server/permissions.py: `can_export`)."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from guidecast.server import exports
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.jobs import job_json
from guidecast.server.models import Guide, GuideVersion, Job, User
from guidecast.server.params import Id
from guidecast.server.permissions import guide_for
from guidecast.server.versions import get_version

router = APIRouter(tags=["exports"])
DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox"}


def _version(db: Session, user: User, guide_id: int, number: int) -> tuple[Guide, GuideVersion]:
    g = guide_for(db, user, guide_id, "export")
    return g, get_version(g, number)


def _send(path, name: str, fmt: str) -> FileResponse:
    return FileResponse(path, media_type=exports.FORMATS[fmt].media_type, filename=name,
                        headers=dict(DOWNLOAD_HEADERS))


def _now(request: Request, db: Session, user: User, guide_id: int, number: int, fmt: str) -> FileResponse:
    g, v = _version(db, user, guide_id, number)
    path = exports.make(request.app.state.ctx, g.id, v, fmt, False)
    return _send(path, exports.download_name(v.title, v.number, fmt, False), fmt)


FILE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/octet-stream": {}}, "description": "the file, as an attachment"}}


@router.get("/api/guides/{guide_id}/versions/{number}/export/html", response_class=FileResponse,
            responses={200: {"content": {"text/html": {}}, "description": "one self-contained HTML file"}})
def export_html(request: Request, guide_id: Id, number: Id, user: User = Depends(require("editor")),
                db: Session = DB) -> FileResponse:
    """The version as one HTML file, pictures inline (what `guidecast export --format html` writes)."""
    return _now(request, db, user, guide_id, number, "html")


@router.get("/api/guides/{guide_id}/versions/{number}/export/markdown", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "guide.md and images/"}})
def export_markdown(request: Request, guide_id: Id, number: Id, user: User = Depends(require("editor")),
                    db: Session = DB) -> FileResponse:
    """The version as Markdown: a zip of `guide.md` (with front matter) and its `images/`."""
    return _now(request, db, user, guide_id, number, "markdown")


@router.get("/api/guides/{guide_id}/versions/{number}/export/scorm", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "a SCORM 1.2 package"}})
def export_scorm(request: Request, guide_id: Id, number: Id, user: User = Depends(require("editor")),
                 db: Session = DB) -> FileResponse:
    """The version as a SCORM 1.2 package without the video (with it: `POST .../exports`, a job)."""
    return _now(request, db, user, guide_id, number, "scorm")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["pdf", "scorm"]
    video: bool = False


def exportable(guide_id: Id, user: User = Depends(require("editor")), db: Session = DB) -> Guide:
    """The guide, if the caller may export it: checked before the request body is read, so that someone
    who may not export it hears 403/404, never what was wrong with the body."""
    return guide_for(db, user, guide_id, "export")


@router.post("/api/guides/{guide_id}/versions/{number}/exports", status_code=202,
             dependencies=[Depends(csrf_protect)])
def start_export(request: Request, number: Id, body: ExportRequest, g: Guide = Depends(exportable),
                 user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Start an export job: `format` pdf, or scorm with `video` true or false. Follow it with
    `GET /api/jobs/{id}` or its events; when it is done, its `result.download` is the file
    (`GET /api/guides/{guide_id}/exports/{job_id}`)."""
    v = get_version(g, number)
    exports.check_request(v, body.format, body.video)
    job = request.app.state.ctx.jobs.submit(db, "export", g.id, {"version": v.number, "format": body.format,
                                                                "video": body.video}, user_id=user.id)
    return job_json(job)


@router.get("/api/guides/{guide_id}/exports/{job_id}", response_class=FileResponse, responses=FILE)
def export_download(request: Request, guide_id: Id, job_id: Id, user: User = Depends(require("editor")),
                    db: Session = DB) -> FileResponse:
    """The file an export job made (409 while it runs; 410 once the cache no longer holds it: export again)."""
    g = guide_for(db, user, guide_id, "export")
    job = db.get(Job, job_id)
    if job is None or job.guide_id != g.id or job.kind != "export":
        raise HTTPException(404, "no such export")
    if job.state != "done":
        raise HTTPException(409, f"this export is {job.state}" + (f": {job.error}" if job.error else ""))
    result = job_json(job)["result"]
    path = exports.job_file(request.app.state.ctx, result)
    if path is None:
        raise HTTPException(410, "this export is no longer kept; export the version again")
    return _send(path, result.get("filename", path.name), result["format"])
