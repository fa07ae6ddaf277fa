"""Recordings from the browser extension, uploaded in parts, and the "Install the recorder" page.

    POST /api/recordings                {size, sha256, title}  -> {id, received: 0, part_size}
    PUT  /api/recordings/{id}?offset=N  the next part's bytes  -> {received}
    GET  /api/recordings/{id}                                  -> {received, size}  (where to resume)
    POST /api/recordings/{id}/finish                           -> {guide_id, job, editor_url}

Authenticated like every API call (an API token: `Authorization: Bearer ...`, which needs no CSRF token;
a signed-in session's calls need the CSRF header). Only the editor who started an upload may continue
it. A part must start where the server's copy ends (else 409 with `received`, so the extension resumes
there) and be at most `PART_SIZE`; the whole recording at most `max_upload_bytes`. Finishing checks the
size and SHA-256, then imports the bundle exactly as the web upload does (server/imports.py): the same
zip, file-type and pixel checks, a guide with its workflow and capture, and a compose job.
Unfinished uploads are kept in the work folder for `UPLOAD_TTL_S` and swept after.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session

from guidecast.kernel.model import Strict
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.imports import import_bundle_file
from guidecast.server.jobs import job_json
from guidecast.server.models import User
from guidecast.server.web import page

router = APIRouter()
PART_SIZE = 1 << 20
UPLOAD_TTL_S = 24 * 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


class NewRecording(Strict):
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title: str | None = Field(None, max_length=300)


def _folder(request: Request) -> Path:
    root = request.app.state.ctx.settings.path("work") / "recordings"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _sweep(root: Path) -> None:
    now = time.time()
    for d in root.iterdir():
        try:
            if now - d.stat().st_mtime > UPLOAD_TTL_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _session(request: Request, upload_id: str, user: User) -> tuple[Path, dict]:
    if not _ID.match(upload_id):
        raise HTTPException(404, "no such upload")
    d = _folder(request) / upload_id
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        raise HTTPException(404, "no such upload; it may have expired: send the recording again") from None
    if meta["user_id"] != user.id:
        raise HTTPException(404, "no such upload")
    return d, meta


def _received(d: Path) -> int:
    return (d / "data").stat().st_size


@router.post("/api/recordings", tags=["recordings"], status_code=201, dependencies=[Depends(csrf_protect)])
def start_upload(request: Request, body: NewRecording, user: User = Depends(require("editor"))) -> dict:
    """Start uploading a recording of `size` bytes whose SHA-256 is `sha256`."""
    limit = request.app.state.ctx.settings.max_upload_bytes
    if body.size > limit:
        raise HTTPException(413, f"the recording is {body.size} bytes; this server takes at most {limit}: record a "
                                 "shorter task or ask an admin to raise GUIDECAST_MAX_UPLOAD_BYTES")
    root = _folder(request)
    _sweep(root)
    upload_id = secrets.token_urlsafe(18)
    d = root / upload_id
    d.mkdir()
    (d / "data").write_bytes(b"")
    (d / "meta.json").write_text(json.dumps({"user_id": user.id, "size": body.size, "sha256": body.sha256,
                                             "title": body.title}))
    return {"id": upload_id, "received": 0, "size": body.size, "part_size": PART_SIZE}


@router.get("/api/recordings/{upload_id}", tags=["recordings"])
def upload_state(request: Request, upload_id: str, user: User = Depends(require("editor"))) -> dict:
    """How many bytes the server holds: where to resume."""
    d, meta = _session(request, upload_id, user)
    return {"id": upload_id, "received": _received(d), "size": meta["size"]}


@router.put("/api/recordings/{upload_id}", tags=["recordings"], dependencies=[Depends(csrf_protect)])
async def upload_part(request: Request, upload_id: str, offset: int, user: User = Depends(require("editor"))) -> dict:
    """The next part, starting at `offset` (the bytes the server holds)."""
    d, meta = _session(request, upload_id, user)
    have = _received(d)
    if offset != have:
        raise HTTPException(409, f"the server holds {have} bytes of this recording; send the part from there")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > PART_SIZE:
            raise HTTPException(413, f"a part is at most {PART_SIZE} bytes")
    if have + len(data) > meta["size"]:
        raise HTTPException(422, f"the part goes past the recording's size ({meta['size']} bytes)")
    with open(d / "data", "ab") as f:
        f.write(data)
    return {"id": upload_id, "received": have + len(data), "size": meta["size"]}


@router.post("/api/recordings/{upload_id}/finish", tags=["recordings"], status_code=201,
             dependencies=[Depends(csrf_protect)])
def finish_upload(request: Request, upload_id: str, user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Check the whole recording and turn it into a guide (its workflow, its capture, a compose job)."""
    d, meta = _session(request, upload_id, user)
    have = _received(d)
    if have != meta["size"]:
        raise HTTPException(409, f"the server holds {have} of {meta['size']} bytes; send the rest first")
    digest = hashlib.sha256()
    with open(d / "data", "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != meta["sha256"]:
        shutil.rmtree(d, ignore_errors=True)
        raise HTTPException(422, "the recording arrived damaged (its SHA-256 differs); send it again")
    try:
        guide, job = import_bundle_file(request.app.state.ctx, db, user, d / "data")
        if meta.get("title") and guide.title.startswith("Recorded workflow"):
            guide.title = meta["title"][:300]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"guide_id": guide.id, "title": guide.title, "job": job_json(job) if job else None,
            "editor_url": f"/guides/{guide.id}/edit"}


@router.get("/recorder", include_in_schema=False)
def install_page(request: Request, user: User = Depends(require("editor"))):
    """Install the recorder: the extension to download and the three steps."""
    from guidecast.server.routes_learner import public_base

    return page(request, "recorder.html.j2", base_url=public_base(request))


@router.get("/recorder/guidecast-recorder.zip", include_in_schema=False)
def download_extension(request: Request, user: User = Depends(require("editor"))):
    """The extension, built from this server's own copy of the recorder (so it matches the server)."""
    from guidecast.capture.extension_build import NAME, zip_bytes

    return Response(zip_bytes(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{NAME}.zip"'})
