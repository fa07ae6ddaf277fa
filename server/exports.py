"""Exports of a guide version from the web app, made by the composer's export functions (the ones
`guidecast export` runs): HTML (one self-contained file), Markdown (a zip: guide.md + images/), PDF and
SCORM 1.2 (with or without the narrated video).

Every export is a file in the cache (`DATA_DIR/cache/exports/`), named after what it is made from (the
version's stored guide tree, its video tree when included, the format, `EXPORT_VERSION` and guidecast's
version): asked for again,
it is sent at once; pruned with the other caches (least recently used first), it is made again. HTML,
Markdown and SCORM without the video are made while the request waits; PDF (Chromium prints it) and SCORM
with the video are `export` jobs with live progress, whose result names the file to download.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.progress import Progress, no_progress
from guidecast.server.models import GuideVersion

EXPORT_VERSION = 1  # bump when an export's bytes would change for the same inputs


@dataclass(frozen=True)
class Format:
    name: str  # as the API and the job name it
    composer: str  # composer.export.FORMATS entry
    suffix: str
    media_type: str
    label: str  # what the guide page calls it


FORMATS = {f.name: f for f in (
    Format("html", "html", ".html", "text/html; charset=utf-8", "HTML (one file)"),
    Format("markdown", "md", ".zip", "application/zip", "Markdown (zip)"),
    Format("pdf", "pdf", ".pdf", "application/pdf", "PDF"),
    Format("scorm", "scorm", ".zip", "application/zip", "SCORM 1.2"),
)}
JOB_FORMATS = ("pdf", "scorm")  # made by a job (PDF always; SCORM when it carries the video)


def is_large(fmt: str, video: bool) -> bool:
    """Made by a job rather than while the request waits."""
    return fmt == "pdf" or (fmt == "scorm" and video)


def download_name(title: str, number: int, fmt: str, video: bool) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "guide"
    tail = "-scorm-video" if fmt == "scorm" and video else "-scorm" if fmt == "scorm" else \
        "-markdown" if fmt == "markdown" else ""
    return f"{slug}-v{number}{tail}{FORMATS[fmt].suffix}"


def cache_key(v: GuideVersion, fmt: str, video: bool) -> str:
    from guidecast import __version__  # another release may draw the exports differently

    parts = [str(EXPORT_VERSION), __version__, fmt, v.guide_tree, (v.video_tree or "") if video else ""]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def cached(ctx, v: GuideVersion, fmt: str, video: bool) -> Path:
    return ctx.settings.path("cache", "exports", cache_key(v, fmt, video) + FORMATS[fmt].suffix)


def check_request(v: GuideVersion, fmt: str, video: bool) -> None:
    """A 422-worthy GuidecastError for a format or video the version cannot have."""
    if fmt not in FORMATS:
        raise ExportRefused(f"format: one of {', '.join(FORMATS)}")
    if video and fmt != "scorm":
        raise ExportRefused("video: only the SCORM package carries the video (the HTML file plays it in the "
                            "learner view instead)")
    if video and not v.video_tree:
        raise ExportRefused(f"video: version {v.number} has no video yet; wait for its render job, or export "
                            "the SCORM package without the video")


class ExportRefused(GuidecastError):
    http_status = 422


def make(ctx, guide_id: int, v: GuideVersion, fmt: str, video: bool, progress: Progress | None = None) -> Path:
    """The export file, from the cache or made now by the composer's export function."""
    from guidecast.composer.export import export_guide
    from guidecast.server.pipeline import materialize
    from guidecast.server.storage import touch

    progress = progress or no_progress
    check_request(v, fmt, video)
    out = cached(ctx, v, fmt, video)
    if out.is_file():
        touch(out)
        progress(1, 1, "ready (made before)")
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    guide_dir = materialize(ctx, guide_id, "versions", v.guide_tree)
    video_file = None
    if video:
        video_dir = materialize(ctx, guide_id, "videos", v.video_tree or "")
        manifest = ctx.assets.read_json(v.video_tree, "video.json") or {}
        video_file = video_dir / manifest.get("files", {}).get("video", "guide.mp4")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export.") as tmp:
        target = Path(tmp) / ("folder" if fmt == "markdown" else "export" + FORMATS[fmt].suffix)
        made = export_guide(guide_dir, FORMATS[fmt].composer, target, video=video_file, progress=progress)
        if fmt == "markdown":
            made = _zip_markdown(made, Path(tmp) / "markdown.zip")
        made.replace(out)  # the cache file appears whole or not at all
    return out


def _zip_markdown(folder: Path, out: Path) -> Path:
    """The Markdown folder export as a zip: guide.md (the folder's index.md) and images/."""
    from guidecast.composer.export import EXPORT_MARK

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder).as_posix()
            if p.is_file() and rel != EXPORT_MARK:
                z.write(p, "guide.md" if rel == "index.md" else rel)
    return out


def export_job(ctx, job, progress) -> dict:
    """Job kind `export`: params version, format, video; the result names the file and its download."""
    p = job.params
    fmt, video, number = p["format"], bool(p.get("video")), p["version"]
    with ctx.db.session() as s:
        v = s.scalar(select(GuideVersion).where(GuideVersion.guide_id == job.guide_id, GuideVersion.number == number))
        if v is None:
            raise GuidecastError(f"version {number} no longer exists")
        s.expunge(v)
        title = v.title
    path = make(ctx, job.guide_id, v, fmt, video, progress)
    return {"version": number, "format": fmt, "video": video, "file": path.name, "bytes": path.stat().st_size,
            "filename": download_name(title, number, fmt, video),
            "download": f"/api/guides/{job.guide_id}/exports/{job.id}"}


def job_file(ctx, result: dict) -> Path | None:
    """The file an export job made, while the cache still holds it."""
    name = str(result.get("file", ""))
    if not re.fullmatch(r"[0-9a-f]{32}\.[a-z]+", name):
        return None
    path = ctx.settings.path("cache", "exports", name)
    return path if path.is_file() else None


HANDLERS = {"export": export_job}
