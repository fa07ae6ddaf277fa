"""Storage lifecycle: what the asset store keeps, and the caches' size.

- `collect(ctx)`: mark and sweep. Every hash the database refers to (trees with every blob they list,
  workflow and report blobs) is kept; any other blob older than `grace_s` is deleted (younger ones may
  belong to an upload or job whose row is not committed yet), and so are the work folders of guides that
  no longer exist. A guide's deletion queues a `gc` job; `guidecast gc --data-dir D` runs one by hand.
- `prune(folder, max_bytes)`: a cache (narration segments, speech, voice previews) kept under a size,
  least recently used files deleted first; files used in the last minute are never touched.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from guidecast.server.models import Check, Guide, GuideVersion

log = logging.getLogger("guidecast.storage")
GRACE_S = 600.0  # an upload or job stores its files moments before its row is committed
RECENT_S = 60.0
TREE_COLUMNS = (Guide.capture_tree, Guide.base_tree, Guide.base_video_tree, GuideVersion.guide_tree,
                GuideVersion.video_tree, GuideVersion.capture_tree, Check.baseline_tree, Check.capture_tree)
BLOB_COLUMNS = (Guide.workflow_blob, Check.report_blob, Check.html_blob)


@dataclass
class Collected:
    kept: int = 0
    deleted: int = 0
    freed_bytes: int = 0
    work_folders: int = 0

    def line(self) -> str:
        return (f"kept {self.kept} files; deleted {self.deleted} files ({self.freed_bytes / 1e6:.1f} MB) and "
                f"{self.work_folders} work folders of deleted guides")


def referenced(ctx) -> set[str]:
    """Every blob hash the database refers to, with the blobs of every tree it refers to."""
    live: set[str] = set()
    with ctx.db.session() as s:
        trees = {h for col in TREE_COLUMNS for h in s.scalars(select(col).where(col.is_not(None)))}
        live |= {h for col in BLOB_COLUMNS for h in s.scalars(select(col).where(col.is_not(None)))}
    for tree in trees:
        live.add(tree)
        try:
            live |= set(ctx.assets.tree(tree).values())
        except (OSError, ValueError):
            log.warning("tree %s is missing or damaged; its files cannot be told apart", tree)
    return live


def collect(ctx, grace_s: float = GRACE_S) -> Collected:
    live = referenced(ctx)
    out = Collected()
    cutoff = time.time() - grace_s
    for sub in sorted(p for p in ctx.assets.root.iterdir() if p.is_dir()):
        for blob in sub.iterdir():
            if blob.name.startswith("."):
                continue
            if blob.name in live:
                out.kept += 1
                continue
            try:
                st = blob.stat()
                if st.st_mtime > cutoff:
                    out.kept += 1
                    continue
                blob.unlink()
            except FileNotFoundError:
                continue
            out.deleted += 1
            out.freed_bytes += st.st_size
    sweep_remote = getattr(ctx.assets, "sweep_remote", None)
    if sweep_remote is not None:  # the S3 bucket (server/objectstore.py); the folder above is its cache
        deleted, freed = sweep_remote(live, cutoff)
        out.deleted += deleted
        out.freed_bytes += freed
    with ctx.db.session() as s:
        guides = set(s.scalars(select(Guide.id)))
    work = ctx.settings.path("work")
    for folder in work.glob("guide-*") if work.is_dir() else ():
        gid = folder.name.removeprefix("guide-")
        if gid.isdigit() and int(gid) not in guides and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            out.work_folders += 1
    return out


def prune(folder: Path, max_bytes: int) -> tuple[int, int]:
    """Delete least recently used files under `folder` until it holds at most `max_bytes`; returns (files
    deleted, bytes freed). Hidden scratch entries and files used within RECENT_S are left alone."""
    files = []
    total = 0
    for p in Path(folder).rglob("*"):
        if any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        if p.is_file():
            files.append((max(st.st_atime, st.st_mtime), st.st_size, p))
            total += st.st_size
    deleted = freed = 0
    recent = time.time() - RECENT_S
    for used, size, p in sorted(files, key=lambda f: f[0]):
        if total <= max_bytes or used > recent:
            break
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        total -= size
        deleted += 1
        freed += size
    return deleted, freed


def prune_caches(ctx) -> None:
    cache = ctx.settings.path("cache")
    if cache.is_dir():
        deleted, freed = prune(cache, ctx.settings.cache_max_bytes)
        if deleted:
            log.info("cache: %d files (%.1f MB) of the least recently used deleted", deleted, freed / 1e6)


def touch(path: Path) -> None:
    """Mark a cache or store file as just used (the LRU order and the sweep's grace period read this)."""
    try:
        os.utime(path)
    except OSError:
        pass


def gc_job(ctx, job, progress) -> dict:
    progress(0, 1, "collecting unreferenced files")
    out = collect(ctx)
    prune_caches(ctx)
    progress(1, 1, out.line())
    return {"kept": out.kept, "deleted": out.deleted, "freed_bytes": out.freed_bytes,
            "work_folders": out.work_folders}
