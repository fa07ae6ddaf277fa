"""Freshness on the server: is a guide still true to the app, and bringing it up to date.

    check    the guide's current capture (the one its latest version came from) replayed against the
             allowlisted app and compared step by step (capture.check.check_capture): a Check row with
             the report (JSON + HTML with before/after pictures); `last verified` moves on when nothing
             changed; the new capture is kept for a refresh when something did.
    refresh  the new capture of a "changed" check -> the unedited base guide (the editor's starting point)
             and the guide with the edit layer (compose_guide: conflicts, review flags) -> the video,
             rendered with the server's segment cache (unchanged segments are reused) -> a new *draft*
             version with a changelog. The draft is published from the guide page (or the editor).

Scheduled checks: with `check_interval_hours` > 0 a thread calls `tick()` every SCHEDULER_PERIOD_S; each
tick queues at most one check job, only when no check job is queued or running, for the guide whose last
check (or capture) is oldest and older than the interval. All state is in the jobs table, so a restart
neither loses nor repeats a check. `run_due()` does the same once, in this process (`guidecast check-due`).
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from guidecast.kernel.errors import Conflict, GuidecastError
from guidecast.server import editing
from guidecast.server.allowlist import NotAllowed, check_workflow
from guidecast.server.models import Check, EditDoc, Guide, GuideVersion, Job, utcnow
from guidecast.server.pipeline import TREE_EXCLUDE, guide_dir, materialize, search_text, work_dir

log = logging.getLogger("guidecast.freshness")
SCHEDULER_PERIOD_S = 30.0
OUTCOME_LABELS = {"unchanged": "verified unchanged", "changed": "changed in the app",
                  "unverified": "could not verify"}
ACTIVE = ("queued", "running")


# -- what a check compares ---------------------------------------------------------------------------

def baseline_tree(g: Guide) -> str | None:
    """The capture a check compares with: the one the latest version came from (else the latest capture)."""
    v = g.latest_version
    return (v.capture_tree if v is not None and v.capture_tree else None) or g.capture_tree


def checkable(g: Guide) -> str | None:
    """Why the guide cannot be checked on the server, or None."""
    if not g.workflow_blob:
        return ("this guide was uploaded without its workflow, so the server cannot replay it; check it with "
                "`guidecast check` where it was built, or upload the workflow as a new guide")
    if not baseline_tree(g):
        return "this guide has no capture yet to compare with"
    return None


def check_secrets(workflow_path: Path, allowed_env: list[str]) -> None:
    """A check replays with the server's environment: only GUIDECAST_CAPTURE_ENV_VARS may be read."""
    from guidecast.capture.workflow import load_workflow

    wanted = sorted(set(load_workflow(workflow_path).workflow.secrets.values()) - set(allowed_env))
    if wanted:
        raise NotAllowed(f"the workflow reads {', '.join(wanted)} from the environment; on the server only "
                         "GUIDECAST_CAPTURE_ENV_VARS may be read; ask an admin to add them")


def allowed_check(ctx, g: Guide, base_url: str | None) -> None:
    """Refuse a check of `g` against `base_url` (None: the guide's app URL) that the server may not run."""
    if (why := checkable(g)) is not None:
        raise GuidecastError(why)
    wf = ctx.assets.blob_path(g.workflow_blob)
    try:
        check_workflow(wf, base_url or g.app_base_url, ctx.settings.capture_allowed_hosts)
        check_secrets(wf, ctx.settings.capture_env_vars)
    except NotAllowed as e:
        raise NotAllowed(str(e).replace(str(wf), "workflow")) from None


@dataclass
class State:
    """A guide's freshness: its newest check, and the newest one that reached the app. A check that could
    not verify does not hide what an earlier one found (a flaky network does not make a guide fresh)."""

    latest: Check | None = None
    verified: Check | None = None

    def changed(self, g: Guide) -> Check | None:
        """The check that found the app changed, while it still applies to the guide."""
        v = self.verified
        return v if v is not None and v.outcome == "changed" and is_current(v, g) else None

    def unverified(self, g: Guide) -> bool:
        return self.latest is not None and self.latest.outcome == "unverified" and is_current(self.latest, g)


def states(db: Session, guide_ids: list[int]) -> dict[int, State]:
    """The freshness of each guide (one query)."""
    if not guide_ids:
        return {}
    newest = select(func.max(Check.id)).where(Check.guide_id.in_(guide_ids)).group_by(Check.guide_id)
    verified = (select(func.max(Check.id)).where(Check.guide_id.in_(guide_ids), Check.outcome != "unverified")
                .group_by(Check.guide_id))
    out: dict[int, State] = {}
    for c in db.scalars(select(Check).where(or_(Check.id.in_(newest), Check.id.in_(verified))).order_by(Check.id)):
        st = out.setdefault(c.guide_id, State())
        st.latest = c  # ordered by id: the last one seen is the newest
        if c.outcome != "unverified":
            st.verified = c
    return out


def is_current(check: Check | None, g: Guide) -> bool:
    """The check compared the capture the guide is built from now (not one a refresh or capture replaced)."""
    return check is not None and check.baseline_tree == baseline_tree(g)


def active_job(db: Session, guide_id: int, kind: str) -> Job | None:
    return db.scalar(select(Job).where(Job.guide_id == guide_id, Job.kind == kind, Job.state.in_(ACTIVE))
                     .order_by(Job.id.desc()).limit(1))


def check_json(c: Check, g: Guide) -> dict:
    summary = c.summary
    current = is_current(c, g)
    return {
        "id": c.id, "job_id": c.job_id, "outcome": c.outcome, "label": OUTCOME_LABELS[c.outcome],
        "checked_at": c.checked_at.isoformat(), "base_url": c.base_url, "scheduled": c.scheduled,
        "current": current, "error": summary.get("error"), "changes": summary.get("changes", []),
        "flow": summary.get("flow", []), "page_changes": summary.get("page_changes", []),
        "refreshed_version": c.refreshed_version,
        "can_refresh": current and c.capture_tree is not None and c.refreshed_version is None,
        "report_html": f"/guides/{g.id}/checks/{c.id}/report",
        "report_json": f"/api/guides/{g.id}/checks/{c.id}",
    }


# -- check job -----------------------------------------------------------------------------------------

def _guide(s: Session, job: Job) -> Guide:
    g = s.get(Guide, job.guide_id)
    if g is None:
        raise GuidecastError(f"guide {job.guide_id} no longer exists")
    return g


def summarize(report, names: dict[str, tuple[int, str]] | None = None) -> dict:
    """The check as the guide page shows it; `names` (check_report.learner_steps of the guide the check
    compared) give each change the learner's step number and text (`name`: "Step 3 “...”", markup kept)."""
    from guidecast.capture.check_report import LABELS, step_name

    return {
        "verified": report.verified, "error": report.error, "checked_at": report.checked_at,
        "baseline_capture": report.baseline_capture, "current_capture": report.current_capture,
        "changes": [{"id": s.id, "number": s.number, "status": s.status, "classes": list(s.classes),
                     "labels": [LABELS[c] for c in s.classes], "details": list(s.details),
                     "name": step_name(s.id, s.number, names)}
                    for s in report.changed_steps],
        "flow": [f.model_dump() for f in report.flow],
        # steps whose page looks different around an unchanged target: a refresh updates their pictures
        "page_changes": [s.id for s in report.steps if s.status == "unchanged" and s.user_visible],
    }


def outcome_of(report) -> str:
    if not report.verified:
        return "unverified"
    return "changed" if report.changed else "unchanged"


def run_check(ctx, job: Job, progress) -> dict:
    from guidecast.capture.check import check_capture
    from guidecast.capture.check_report import learner_steps, write_html

    override = job.params.get("base_url") or None
    with ctx.db.session() as s:
        g = _guide(s, job)
        allowed_check(ctx, g, override)  # again: the allowlist or DNS may have changed since it was queued
        blob, baseline, base_url = g.workflow_blob, baseline_tree(g), override or g.app_base_url
        shown = g.latest_version.guide_tree if g.latest_version is not None else g.base_tree
    names = learner_steps(ctx.assets.read_json(shown, "guide.json")) if shown else None
    if base_url is None:
        base_url = (ctx.assets.read_json(baseline, "capture.json") or {}).get("base_url")
    with tempfile.TemporaryDirectory(prefix="check-", dir=ctx.settings.path("work")) as tmp:
        tmp = Path(tmp)
        wf = tmp / "workflow.yaml"
        shutil.copyfile(ctx.assets.blob_path(blob), wf)
        base_dir = ctx.assets.materialize(baseline, tmp / "baseline")
        current = tmp / "current"
        report = check_capture(base_dir, workflow=wf, base_url=base_url, keep_dir=current, progress=progress,
                               allowed_hosts=ctx.settings.capture_allowed_hosts)
        report.workflow_path = "workflow.yaml"  # not the server's temporary path
        if report.error:
            report.error = report.error.replace(str(tmp) + "/", "")
        html = write_html(report, tmp / "report.html", base_dir, current if current.is_dir() else None, names)
        report_blob = ctx.assets.put_bytes(report.model_dump_json(indent=2).encode())
        html_blob = ctx.assets.put_file(html)
        summary = summarize(report, names)
        refreshable = report.verified and current.is_dir() and (report.changed or summary["page_changes"])
        new_capture = ctx.assets.put_tree(current) if refreshable else None
    outcome = outcome_of(report)
    with ctx.db.session() as s:
        g = _guide(s, job)
        now = utcnow()
        chk = Check(guide_id=g.id, job_id=job.id, outcome=outcome, checked_at=now, base_url=base_url,
                    scheduled=bool(job.params.get("scheduled")), baseline_tree=baseline, capture_tree=new_capture,
                    report_blob=report_blob, html_blob=html_blob, summary_json=json.dumps(summary))
        s.add(chk)
        if outcome == "unchanged" and baseline == baseline_tree(g):
            # a check is not an edit: keep updated_at (the library's order) as it was
            s.execute(update(Guide).where(Guide.id == g.id).values(last_verified_at=now, updated_at=Guide.updated_at))
        s.flush()
        check_id = chk.id
    return {"check": check_id, "outcome": outcome, "label": OUTCOME_LABELS[outcome], "error": report.error,
            "changed": [{"id": c["id"], "classes": c["classes"]} for c in summary["changes"]]}


# -- refresh job ---------------------------------------------------------------------------------------

def run_refresh(ctx, job: Job, progress) -> dict:
    from guidecast.capture.compare import FreshnessReport
    from guidecast.composer.edits import EditSet
    from guidecast.core.build import NarrateOptions
    from guidecast.core.refresh import apply_capture
    from guidecast.kernel.progress import WeightedStages
    from guidecast.narration.manifest import RenderSettings

    with ctx.db.session() as s:
        g = _guide(s, job)
        chk = s.get(Check, job.params.get("check"))
        if chk is None or chk.guide_id != g.id:
            raise GuidecastError("that check no longer exists; check the guide again")
        refresh_allowed(g, chk)
        doc = s.get(EditDoc, g.id)
        edits, revision = (doc.doc if doc else {}), (doc.revision if doc else 0)
        latest = (g.latest_version.guide_tree, g.latest_version.composed_guide_id) if g.versions else None
        cap_tree, report_blob, check_id = chk.capture_tree, chk.report_blob, chk.id
    report = FreshnessReport.model_validate_json(ctx.assets.blob_path(report_blob).read_bytes())
    stages = WeightedStages(progress, {"base": 10, "compose": 15, "narrate": 75})
    cap_dir = materialize(ctx, job.guide_id, "captures", cap_tree)
    work = work_dir(ctx, job.guide_id)
    with stages("base") as p:  # the unedited guide: the editor's starting point
        base = editing.compose(cap_dir, work / "base", {}, p)
    base_tree = ctx.assets.put_tree(work / "base", TREE_EXCLUDE)
    st = ctx.settings
    out = guide_dir(ctx, job.guide_id, latest)
    applied = apply_capture(
        report, cap_dir, out, work / "video",
        narrate=NarrateOptions(engine=st.tts_engine, settings=RenderSettings(width=st.video_width,
                                                                             height=st.video_height),
                               cache_dir=st.path("cache")),
        edits=EditSet.model_validate(edits or {}), check=check_id, stages=stages)
    guide = applied.guide
    named = _named_changelog(applied.entry, guide)
    tree = ctx.assets.put_tree(out, TREE_EXCLUDE)
    video = ctx.assets.put_tree(work / "video")
    with ctx.db.session() as s:
        g = _guide(s, job)
        chk = s.get(Check, check_id)
        refresh_allowed(g, chk)  # nobody refreshed or re-captured meanwhile
        n = (s.scalar(select(func.max(GuideVersion.number)).where(GuideVersion.guide_id == g.id)) or 0) + 1
        changelog = applied.entry.model_copy(update={"version": n})
        s.add(GuideVersion(guide_id=g.id, number=n, title=guide.title, guide_tree=tree, video_tree=video,
                           capture_tree=cap_tree, composed_guide_id=guide.id, edits_json=json.dumps(edits),
                           edits_revision=revision, created_by=job.created_by, draft=True,
                           changelog_json=json.dumps({**named, "version": n})))
        g.capture_tree, g.base_tree, g.last_verified_at = cap_tree, base_tree, chk.checked_at
        if not g.versions:
            g.title = guide.title
        chk.refreshed_version = n
    return {"version": n, "draft": True, "guide_id": guide.id, "base_guide_id": base.id,
            "duration": applied.video.duration, "conflicts": changelog.conflicts,
            "review": [r.model_dump() for r in changelog.review],
            "segments_rendered": changelog.segments_rendered, "segments_reused": changelog.segments_reused}


def _named_changelog(entry, guide) -> dict:
    """The changelog as the server keeps it: each changed or reviewed step also named as learners see it in
    the new version (`name`: "Step 3 “...”", markup kept), not by its capture number or id."""
    from guidecast.capture.check_report import learner_steps, step_name

    names = learner_steps(guide.model_dump())
    data = entry.model_dump(mode="json")
    for c in data["changes"] + data["review"]:
        c["name"] = step_name(c["id"] if "id" in c else c["step"], c["number"], names)
    return data


def refresh_allowed(g: Guide, chk: Check) -> None:
    if chk.refreshed_version is not None:
        raise Conflict(f"this check was already used: it became version {chk.refreshed_version}")
    if chk.capture_tree is None:
        raise Conflict("this check found nothing to refresh" if chk.outcome != "unverified"
                       else "this check could not verify the app; nothing to refresh from")
    if not is_current(chk, g):
        raise Conflict("the guide has a newer capture or version than this check compared; check it again")


def publish_draft(ctx, g: Guide, v: GuideVersion, *, reviewed: bool = False) -> None:
    """A draft version becomes what learners and share links see; not one where a blur lost its element (the
    value it hid may show), unless someone `reviewed` it."""
    if not v.draft:
        raise Conflict(f"version {v.number} is already published")
    gj = ctx.assets.read_json(v.guide_tree, "guide.json")
    held = [s for s in (gj or {}).get("steps", []) if any(b.get("state") == "lost" for b in s.get("blurs", []))]
    if held and not reviewed:
        raise Conflict("; ".join(f"step {s['number']}: {s.get('review') or 'a blurred element is gone'}" for s in held)
                       + ". Look at the pictures, then publish with reviewed")
    v.draft = False
    g.status, g.title = "published", v.title
    if gj:
        g.search_text = search_text(gj)
    from sqlalchemy.orm import object_session

    from guidecast.server import learning

    db = object_session(g)
    if db is not None:  # learners who passed an older version: re-check the steps this one changed
        db.flush()
        learning.after_publish(ctx, db, g)


HANDLERS = {"check": run_check, "refresh": run_refresh}


# -- scheduled checks ----------------------------------------------------------------------------------

def due_guides(db: Session, cutoff: datetime, limit: int | None = 1, exclude: set[int] = frozenset()) -> list[int]:
    """Checkable guides whose last check job (and last capture) is older than `cutoff`, oldest first."""
    last = (select(Job.guide_id, func.max(Job.created_at).label("at")).where(Job.kind == "check")
            .group_by(Job.guide_id).subquery())
    q = (select(Guide.id).outerjoin(last, last.c.guide_id == Guide.id)
         .where(Guide.workflow_blob.is_not(None), Guide.capture_tree.is_not(None))
         .where(or_(last.c.at.is_(None), last.c.at < cutoff))
         .where(or_(Guide.last_verified_at.is_(None), Guide.last_verified_at < cutoff))
         .order_by(func.coalesce(last.c.at, Guide.last_verified_at, Guide.created_at), Guide.id))
    if exclude:
        q = q.where(Guide.id.not_in(exclude))
    return list(db.scalars(q.limit(limit) if limit else q))


def tick(ctx, now: datetime | None = None, interval_hours: float | None = None) -> list[int]:
    """Queue the next due check (at most one, and only while no check job is queued or running).
    Returns the ids of the jobs queued."""
    hours = ctx.settings.check_interval_hours if interval_hours is None else interval_hours
    if not hours or hours <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    with ctx.db.session() as s:
        if s.scalar(select(func.count()).select_from(Job).where(Job.kind == "check", Job.state.in_(ACTIVE))):
            return []
        jobs = [ctx.jobs.submit(s, "check", gid, {"scheduled": True}) for gid in due_guides(s, cutoff, 1)]
        return [j.id for j in jobs]


def run_due(ctx, interval_hours: float, limit: int | None = None,
            report: Callable[[Guide, Job, Check | None], None] | None = None) -> list[int]:
    """Run every due check once, one after the other, in this process (for cron). Returns the job ids."""
    ran: list[int] = []
    tried: set[int] = set()
    while limit is None or len(ran) < limit:
        cutoff = utcnow() - timedelta(hours=interval_hours)
        with ctx.db.session() as s:
            due = due_guides(s, cutoff, 1, tried)
            if not due:
                break
            tried.add(due[0])
            job_id = ctx.jobs.submit(s, "check", due[0], {"scheduled": True}).id
        ctx.jobs.run_now(job_id)
        ran.append(job_id)
        if report is not None:
            with ctx.db.session() as s:
                job = s.get(Job, job_id)
                report(s.get(Guide, job.guide_id), job, s.scalar(select(Check).where(Check.job_id == job_id)))
    return ran


class Scheduler:
    """A thread calling `tick()` every SCHEDULER_PERIOD_S while check_interval_hours > 0."""

    def __init__(self, ctx, period: float = SCHEDULER_PERIOD_S):
        self.ctx, self.period = ctx, period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.ctx.settings.check_interval_hours <= 0 or (self._thread and self._thread.is_alive()):
            return
        if self.ctx.settings.jobs_backend == "queue":
            return  # the queue's periodic task ticks, once however many processes (server/queue.py)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="guidecast-check-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                tick(self.ctx)
            except Exception:
                log.exception("scheduled check tick failed")
            self._stop.wait(self.period)
