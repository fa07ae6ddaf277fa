"""Turning an upload into a guide: a workflow (then a capture job), a capture bundle zip (then a
compose job), a browser extension recording zip (recording.json + screenshots: its workflow and
capture are made here, then a compose job) or a built output folder zip (`guidecast build` layout:
capture/, guide/, video/)."""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy.orm import Session

from guidecast.capture.bundle import SCREENSHOT_DIR
from guidecast.capture.extension_recording import RECORDING_FILE
from guidecast.kernel.errors import GuidecastError
from guidecast.server.allowlist import HostNotOnAllowlist, NotAllowed, StepNotAllowed, check_workflow, opened_urls
from guidecast.server.models import EditDoc, Guide, Job, User
from guidecast.server.pipeline import search_text
from guidecast.server.uploads import (
    Budget,
    Kept,
    UploadError,
    check_capture,
    check_guide,
    check_png,
    check_video,
    find_root,
    refuse_the_rest,
    safe_extract,
)

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
            shown = f"“{upload.filename}” is" if upload.filename else "the file chosen is"
            raise UploadError(f"{shown} none of the files guidecast takes: choose a workflow (.yaml or .yml), a "
                              "capture bundle (.zip) or a built output folder (.zip)")
        st = ctx.settings
        files = safe_extract(raw, tmp / "x", max_bytes=st.max_unzipped_bytes, max_files=st.max_zip_files)
        budget = Budget(st.max_upload_pixels)
        if root := find_root(files, "capture.json"):
            return _capture(ctx, db, user, files, root, budget)
        if root := find_root(files, RECORDING_FILE):
            return import_recording(ctx, db, user, files, root, budget)
        if (root := find_root(files, "manifest.json")) and (root / "guide" / "guide.json").is_file():
            return _output(ctx, db, user, files, root, budget), None
        raise UploadError("the zip holds neither a capture bundle (capture.json), a recording of the guidecast "
                          "browser extension (recording.json) nor a built output folder (manifest.json with guide/ "
                          "and capture/)")


def import_bundle_file(ctx, db: Session, user: User, raw: Path) -> tuple[Guide, Job | None]:
    """A zip already on disk (the recordings endpoint's finished upload): a recording or a capture bundle."""
    with tempfile.TemporaryDirectory(dir=ctx.settings.path("work")) as tmp:
        st = ctx.settings
        files = safe_extract(raw, Path(tmp) / "x", max_bytes=st.max_unzipped_bytes, max_files=st.max_zip_files)
        budget = Budget(st.max_upload_pixels)
        if root := find_root(files, RECORDING_FILE):
            return import_recording(ctx, db, user, files, root, budget)
        raise UploadError("the upload is not a recording of the guidecast browser extension (no recording.json)")


def import_recording(ctx, db: Session, user: User, files: Path, root: Path, budget: Budget):
    """An extension recording: every file checked (recording.json by its model, each screenshot it names a
    real PNG within the pixel budget, nothing else in the zip), turned into a workflow + capture bundle by
    the recorder's own step logic, stored as a guide whose compose job makes the base guide. The app URL is
    kept for later replays, each of which checks it against the capture allowlist first."""
    from guidecast.capture.extension_recording import convert_recording, load_recording

    try:
        rec = load_recording(root)
    except GuidecastError as e:
        raise UploadError(str(e).replace(str(root) + "/", "")) from None
    kept = Kept({RECORDING_FILE: "json"})
    for name in rec.screenshots():
        check_png(root / SCREENSHOT_DIR / name, f"screenshot {name}", budget)
        kept.add(f"{SCREENSHOT_DIR}/{name}", "png")
    refuse_the_rest(files, root, kept)
    out = files.parent / "converted"
    out.mkdir()
    try:
        wf, bundle_dir, _warnings = convert_recording(root, out / "workflow.yaml")
    except GuidecastError as e:
        raise UploadError(f"recording.json: {e}", 422) from None
    if bundle_dir is None:
        raise UploadError("recording.json: the recording has no screenshot; record the task again with the "
                          "extension's tab in front", 422)
    bundle, cap_kept = check_capture(bundle_dir)
    blob = ctx.assets.put_file(out / "workflow.yaml")
    tree = ctx.assets.put_files(bundle_dir, cap_kept.files)
    g = _new_guide(db, user, wf.title, workflow_blob=blob, workflow_sha256=bundle.workflow.sha256,
                   capture_tree=tree, app_base_url=wf.base_url)
    return g, ctx.jobs.submit(db, "compose", g.id, user_id=user.id)


def _workflow(ctx, db, user, path: Path, base_url: str | None):
    from guidecast.capture.workflow import load_workflow

    if path.stat().st_size > MAX_WORKFLOW_BYTES:
        raise UploadError("a workflow file is at most 1 MB", 413)
    try:
        lw = load_workflow(path)
    except GuidecastError as e:
        raise UploadError(str(e).replace(str(path), "workflow"), e.http_status) from None
    relative = [u for u in opened_urls(lw.workflow) if not re.match(r"^[a-z][a-z0-9+.-]*:", u, re.I)]
    if relative and not (base_url or lw.workflow.base_url):
        raise UploadError(f"This workflow opens the app at “{relative[0]}”, an address without the app's server, "
                          "so fill in App URL with where the app runs (for example http://app.internal:8000).",
                          field="base_url")
    try:
        check_workflow(path, base_url or None, ctx.settings.capture_allowed_hosts)
    except HostNotOnAllowlist as e:
        hosts = ", ".join(ctx.settings.capture_allowed_hosts)
        allowed = f"It may capture apps at {hosts}." if hosts else "No app is allowed for capture on this server yet."
        raise UploadError(f"This server may not capture the app at {e.host}:{e.port}. {allowed} Use an allowed "
                          "address, or ask an admin to allow this one.", 403, field="base_url") from None
    except GuidecastError as e:  # an upload step names the file; any other refused URL, the app's address
        raise UploadError(str(e).replace(str(path), "workflow"), e.http_status,
                          field="base_url" if isinstance(e, NotAllowed) and not isinstance(e, StepNotAllowed)
                          else "file") from None
    blob = ctx.assets.put_file(path)
    g = _new_guide(db, user, lw.workflow.title, workflow_blob=blob, workflow_sha256=lw.sha256,
                   app_base_url=base_url or None)
    return g, ctx.jobs.submit(db, "capture", g.id, user_id=user.id)


def _capture(ctx, db, user, files: Path, root: Path, budget: Budget):
    bundle, kept = check_capture(root, budget)
    refuse_the_rest(files, root, kept)
    tree = ctx.assets.put_files(root, kept.files)
    g = _new_guide(db, user, bundle.workflow.title, capture_tree=tree, workflow_sha256=bundle.workflow.sha256)
    return g, ctx.jobs.submit(db, "compose", g.id, user_id=user.id)


def _output(ctx, db, user, files: Path, root: Path, budget: Budget) -> Guide:
    if not (root / "capture" / "capture.json").is_file():
        raise UploadError("the output folder has no capture/ bundle to compose from")
    bundle, cap_kept = check_capture(root / "capture", budget)
    guide, guide_kept = check_guide(root / "guide", budget)
    video, video_files = None, Kept()
    if (root / "video" / "video.json").is_file():
        m, video_kept = check_video(root / "video", budget)
        video_files = video_kept.under("video")  # a video of another guide version: guidecast's own, not kept
        if m.guide_id == guide.id:
            video = ctx.assets.put_files(root / "video", video_kept.files)
    everything = Kept({**cap_kept.under("capture").files, **guide_kept.under("guide").files, **video_files.files})
    refuse_the_rest(files, root, everything)
    return _new_guide(db, user, guide.title, capture_tree=ctx.assets.put_files(root / "capture", cap_kept.files),
                      workflow_sha256=bundle.workflow.sha256,
                      base_tree=ctx.assets.put_files(root / "guide", guide_kept.files),
                      base_video_tree=video, search_text=search_text(guide.model_dump()))
