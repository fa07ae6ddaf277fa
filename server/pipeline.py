"""Job handlers: each calls one stage's core function with the job's progress callback and stores
the result in the asset store. Work folders live in DATA_DIR/work/guide-<id>/ and are safe to reuse
after a crash (every stage writes through staged folders).

    capture  workflow + allowlisted base URL -> capture tree          then queues compose
    compose  capture tree -> base guide (no edits)                     the editor's starting point
    publish  capture tree + edit document -> new published version    then queues render
    render   a version's guide -> narrated video

Freshness jobs (check, refresh) are in server/freshness.py.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sqlalchemy import func, select

from guidecast.kernel.errors import GuidecastError
from guidecast.server import editing
from guidecast.server.allowlist import check_workflow
from guidecast.server.models import Guide, GuideVersion, Job, utcnow

TREE_EXCLUDE = frozenset({"versions", "edits.yaml"})


def work_dir(ctx, guide_id: int) -> Path:
    d = ctx.settings.path("work", f"guide-{guide_id}")
    d.mkdir(parents=True, exist_ok=True)
    return d


def materialize(ctx, guide_id: int, kind: str, tree: str) -> Path:
    """The tree laid out at a stable path (the same tree -> the same path -> the same guide id)."""
    return ctx.assets.materialize(tree, work_dir(ctx, guide_id) / kind / tree[:16])


def guide_dir(ctx, guide_id: int, latest: tuple[str, str] | None) -> Path:
    """The folder a guide's versions are composed into, holding its latest version (`latest`: that
    version's stored tree and composed guide id): compose_guide compares with what is there (edits of
    retired steps become conflicts, overrides of renamed targets are flagged for review), so a lost or
    outdated work folder is laid out again from the store first."""
    from guidecast.composer.versions import current_guide

    out = work_dir(ctx, guide_id) / "guide"
    if latest is None:
        return out
    try:
        prev = current_guide(out)
    except Exception:  # noqa: BLE001 - a damaged work folder is laid out again from the store
        prev = None
    if prev is None or prev.id != latest[1]:
        shutil.rmtree(out, ignore_errors=True)
        ctx.assets.materialize(latest[0], out)
    return out


def _guide(s, job: Job) -> Guide:
    g = s.get(Guide, job.guide_id)
    if g is None:
        raise GuidecastError(f"guide {job.guide_id} no longer exists")
    return g


def search_text(guide_json: dict) -> str:
    parts = [guide_json.get("title", "")] + [st.get("text", "") for st in guide_json.get("steps", [])]
    return "\n".join(parts).lower()


def capture(ctx, job: Job, progress) -> dict:
    from guidecast.capture.replay import capture_workflow

    with ctx.db.session() as s:
        g = _guide(s, job)
        blob, base_url = g.workflow_blob, g.app_base_url
    if not blob:
        raise GuidecastError("this guide has no workflow to capture; upload one")
    work = work_dir(ctx, job.guide_id)
    wf_path = work / "workflow.yaml"
    shutil.copyfile(ctx.assets.blob_path(blob), wf_path)
    check_workflow(wf_path, base_url, ctx.settings.capture_allowed_hosts)  # again: DNS may have changed
    env = {k: os.environ[k] for k in ctx.settings.capture_env_vars if k in os.environ}
    bundle = capture_workflow(wf_path, work / "capture", base_url=base_url, env=env, progress=progress,
                              allowed_hosts=ctx.settings.capture_allowed_hosts)  # links and redirects too
    tree = ctx.assets.put_tree(work / "capture")
    with ctx.db.session() as s:
        g = _guide(s, job)
        g.capture_tree, g.last_verified_at = tree, utcnow()
        ctx.jobs.submit(s, "compose", g.id, user_id=job.created_by)
    return {"capture_id": bundle.id, "steps": len(bundle.steps)}


def compose(ctx, job: Job, progress) -> dict:
    with ctx.db.session() as s:
        tree = _guide(s, job).capture_tree
    if not tree:
        raise GuidecastError("this guide has no capture yet")
    cap_dir = materialize(ctx, job.guide_id, "captures", tree)
    out = work_dir(ctx, job.guide_id) / "base"
    guide = editing.compose(cap_dir, out, {}, progress)
    base = ctx.assets.put_tree(out, TREE_EXCLUDE)
    with ctx.db.session() as s:
        g = _guide(s, job)
        g.base_tree = base
        if not g.versions:
            g.title = guide.title
            g.search_text = search_text(guide.model_dump())
    return {"guide_id": guide.id, "steps": len(guide.steps)}


def publish(ctx, job: Job, progress) -> dict:
    params = job.params
    with ctx.db.session() as s:
        g = _guide(s, job)
        cap_tree, base_video = g.capture_tree, g.base_video_tree
        latest = (g.latest_version.guide_tree, g.latest_version.composed_guide_id) if g.versions else None
    if not cap_tree:
        raise GuidecastError("this guide has no capture to compose from")
    cap_dir = materialize(ctx, job.guide_id, "captures", cap_tree)
    out = guide_dir(ctx, job.guide_id, latest)
    guide = editing.compose(cap_dir, out, params.get("doc") or {}, progress)
    tree = ctx.assets.put_tree(out, TREE_EXCLUDE)
    video = _matching_video(ctx, base_video, guide.id)
    with ctx.db.session() as s:
        g = _guide(s, job)
        n = (s.scalar(select(func.max(GuideVersion.number)).where(GuideVersion.guide_id == g.id)) or 0) + 1
        s.add(GuideVersion(guide_id=g.id, number=n, title=guide.title, guide_tree=tree, video_tree=video,
                           capture_tree=cap_tree, composed_guide_id=guide.id,
                           edits_json=json.dumps(params.get("doc") or {}), edits_revision=params.get("revision", 0),
                           created_by=job.created_by))
        g.status, g.title, g.search_text = "published", guide.title, search_text(guide.model_dump())
        s.flush()
        from guidecast.server import learning

        s.refresh(g)
        learning.after_publish(ctx, s, g)  # learners who passed an older version: re-check what changed
        if video is None:
            ctx.jobs.submit(s, "render", g.id, {"version": n}, user_id=job.created_by)
    return {"version": n, "guide_id": guide.id, "video_reused": video is not None,
            "conflicts": [c.model_dump() for c in guide.conflicts]}


def _matching_video(ctx, video_tree: str | None, composed_guide_id: str) -> str | None:
    if not video_tree:
        return None
    manifest = ctx.assets.read_json(video_tree, "video.json")
    return video_tree if manifest and manifest.get("guide_id") == composed_guide_id else None


def render(ctx, job: Job, progress) -> dict:
    from guidecast.narration.manifest import RenderSettings
    from guidecast.narration.narrate import narrate_guide

    n = job.params["version"]
    with ctx.db.session() as s:
        v = s.scalar(select(GuideVersion).where(GuideVersion.guide_id == job.guide_id, GuideVersion.number == n))
        if v is None:
            raise GuidecastError(f"version {n} no longer exists")
        tree = v.guide_tree
    guide_dir = materialize(ctx, job.guide_id, "versions", tree)
    st = ctx.settings
    out = work_dir(ctx, job.guide_id) / "video"
    m = narrate_guide(guide_dir, out, engine=st.tts_engine, settings=RenderSettings(width=st.video_width,
                      height=st.video_height), cache_dir=st.path("cache"), progress=progress)
    video = ctx.assets.put_tree(out)
    with ctx.db.session() as s:
        v = s.scalar(select(GuideVersion).where(GuideVersion.guide_id == job.guide_id, GuideVersion.number == n))
        v.video_tree = video
    from guidecast.server.storage import prune_caches

    prune_caches(ctx)
    return {"version": n, "duration": m.duration}


HANDLERS = {"capture": capture, "compose": compose, "publish": publish, "render": render}
