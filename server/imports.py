"""Turning an upload into a guide: a workflow (then a capture job), a capture bundle zip (then a
compose job) or a built output folder zip (`guidecast build` layout: capture/, guide/, video/)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy.orm import Session

from guidecast.kernel.errors import GuidecastError
from guidecast.server.allowlist import check_workflow
from guidecast.server.models import EditDoc, Guide, Job, User
from guidecast.server.pipeline import TREE_EXCLUDE, search_text
from guidecast.server.uploads import UploadError, check_capture, check_guide, check_video, find_root, safe_extract

WORKFLOW_SUFFIXES = (".yaml", ".yml")
MAX_WORKFLOW_BYTES = 1 << 20


def _new_guide(db: Session, user: User, title: str, **fields) -> Guide:
    g = Guide(title=title[:300] or "Untitled guide", owner_id=user.id, **fields)
    db.add(g)
    db.flush()
    db.add(EditDoc(guide_id=g.id, revision=0, doc_json="{}"))
    return g


def import_upload(ctx, db: Session, user: User, upload: UploadFile, base_url: str | None) -> tuple[Guide, Job | None]:
    name = (upload.filename or "").lower()
    with tempfile.TemporaryDirectory(dir=ctx.settings.path("work")) as tmp:
        tmp = Path(tmp)
        raw = tmp / "upload"
        with open(raw, "wb") as f:
            shutil.copyfileobj(upload.file, f, 1 << 20)
        if name.endswith(WORKFLOW_SUFFIXES):
            return _workflow(ctx, db, user, raw, base_url)
        if not name.endswith(".zip"):
            raise UploadError("upload a workflow (.yaml), a capture bundle (.zip) or a built output folder (.zip)")
        st = ctx.settings
        files = safe_extract(raw, tmp / "x", max_bytes=st.max_unzipped_bytes, max_files=st.max_zip_files)
        if root := find_root(files, "capture.json"):
            return _capture(ctx, db, user, root)
        if (root := find_root(files, "manifest.json")) and (root / "guide" / "guide.json").is_file():
            return _output(ctx, db, user, root), None
        raise UploadError("the zip holds neither a capture bundle (capture.json) nor a built output folder "
                          "(manifest.json with guide/ and capture/)")


def _workflow(ctx, db, user, path: Path, base_url: str | None):
    from guidecast.capture.workflow import load_workflow

    if path.stat().st_size > MAX_WORKFLOW_BYTES:
        raise UploadError("a workflow file is at most 1 MB", 413)
    try:
        lw = load_workflow(path)
        check_workflow(path, base_url or None, ctx.settings.capture_allowed_hosts)
    except GuidecastError as e:
        raise UploadError(str(e).replace(str(path), "workflow"), e.http_status) from None
    blob = ctx.assets.put_file(path)
    g = _new_guide(db, user, lw.workflow.title, workflow_blob=blob, workflow_sha256=lw.sha256,
                   app_base_url=base_url or None)
    return g, ctx.jobs.submit(db, "capture", g.id, user_id=user.id)


def _capture(ctx, db, user, root: Path):
    bundle = check_capture(root)
    tree = ctx.assets.put_tree(root)
    g = _new_guide(db, user, bundle.workflow.title, capture_tree=tree, workflow_sha256=bundle.workflow.sha256)
    return g, ctx.jobs.submit(db, "compose", g.id, user_id=user.id)


def _output(ctx, db, user, root: Path) -> Guide:
    bundle = check_capture(root / "capture") if (root / "capture" / "capture.json").is_file() else None
    if bundle is None:
        raise UploadError("the output folder has no capture/ bundle to compose from")
    guide = check_guide(root / "guide")
    video = None
    if (root / "video" / "video.json").is_file():
        m = check_video(root / "video")
        video = ctx.assets.put_tree(root / "video") if m.guide_id == guide.id else None
    return _new_guide(db, user, guide.title, capture_tree=ctx.assets.put_tree(root / "capture"),
                      workflow_sha256=bundle.workflow.sha256, base_tree=ctx.assets.put_tree(root / "guide", TREE_EXCLUDE),
                      base_video_tree=video, search_text=search_text(guide.model_dump()))
