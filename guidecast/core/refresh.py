"""`check_build` and `refresh`: is a guide still true to the app, and bringing it up to date.

`apply_capture` is the part the CLI and the server share: a new capture composed into the guide folder
(the edit layer applies; edits on gone steps become conflicts, overrides of renamed targets are flagged
for review), the video rendered again with the cache (only changed segments render), and the
`ChangelogEntry` that says what changed. `refresh` wraps it for a build folder: check, archive the old
capture, apply, record the version in the manifest and CHANGELOG.md.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from guidecast.capture.bundle import load_capture
from guidecast.capture.check import check_capture
from guidecast.capture.check_report import LABELS, learner_steps, write_html, write_json
from guidecast.capture.compare import FreshnessReport
from guidecast.capture.heal import heal_workflow, healed_locators
from guidecast.composer.anchors import blocks_publishing
from guidecast.composer.compose import compose_guide
from guidecast.composer.edits import EditSet
from guidecast.composer.guide import Guide, capture_path, load_guide
from guidecast.core.build import NarrateOptions, now_iso
from guidecast.core.manifest import (
    BuildManifest,
    CaptureChange,
    CaptureRef,
    ChangelogEntry,
    ReviewEntry,
    StepChangeEntry,
    WorkflowRef,
    append_changelog,
    is_build,
    load_build_manifest,
    save_build_manifest,
)
from guidecast.kernel.errors import Conflict, GuidecastError
from guidecast.kernel.files import folder_lock, staged_dir
from guidecast.kernel.markup import plain
from guidecast.kernel.progress import Stages, quiet_stage
from guidecast.narration.manifest import VideoManifest, load_manifest
from guidecast.narration.narrate import RenderReport, narrate_guide

EXIT_CHANGED = 1
EXIT_UNVERIFIED = 3


def needs_refresh(report: FreshnessReport) -> bool:
    """Something changed, or a page around an unchanged target looks different (its pictures are stale)."""
    return report.changed or any(s.user_visible for s in report.steps)


def exit_code(report: FreshnessReport) -> int:
    if not report.verified:
        return EXIT_UNVERIFIED
    return EXIT_CHANGED if report.changed else 0


def page_changes(report: FreshnessReport) -> list[str]:
    return [s.id for s in report.steps if s.status == "unchanged" and s.user_visible]


# -- check ---------------------------------------------------------------------------------------------

@dataclass
class Target:
    """What a check compares: the baseline capture, where results go, the workflow (None: the capture's)."""

    baseline: Path
    results: Path
    workflow: Path | None
    build: Path | None = None
    guide: Path | None = None  # the guide made from the baseline (names steps as learners see them)


def resolve_target(target: Path) -> Target:
    """The baseline of a build folder, a guide folder or a capture folder."""
    target = Path(target)
    if target.is_file():
        raise GuidecastError(f"{target}: name a build folder (from `guidecast build`), a guide folder or a capture "
                             "folder; a workflow file alone has no baseline to compare with")
    if is_build(target) and (target / "capture" / "capture.json").exists():
        m = load_build_manifest(target)
        return Target(target / "capture", target / "check", Path(m.workflow.path) if m.workflow.path else None,
                      target, target / "guide" if (target / "guide" / "guide.json").exists() else None)
    if (target / "guide.json").exists():
        g = load_guide(target)
        return Target(capture_path(g, target), target.parent / "check", Path(g.source.workflow_path), guide=target)
    if (target / "capture.json").exists():
        return Target(target, target.parent / "check", None)
    raise GuidecastError(f"{target}: not a build, guide or capture folder (no manifest.json, guide.json or capture.json)")


def check_build(target: Path, *, base_url: str | None = None, workflow: Path | None = None, retry: bool = True,
                find_timeout: float = 5.0, browser_path: str | None = None,
                stages: Stages = quiet_stage) -> tuple[FreshnessReport, Path]:
    """Replay the workflow behind `target` and compare; writes `check/report.{json,html}` and the replay in
    `check/capture/`. A verified, unchanged build records `last_verified`. Returns (report, results folder)."""
    t = resolve_target(target)
    current = t.results / "capture"
    shutil.rmtree(current, ignore_errors=True)  # an earlier check's replay is never taken for this one's
    with stages("check", 1) as p:
        report = check_capture(t.baseline, workflow=workflow or t.workflow, base_url=base_url, keep_dir=current,
                               retry=retry, find_timeout=find_timeout, browser_path=browser_path, progress=p)
    write_json(report, t.results / "report.json")
    names = learner_steps(load_guide(t.guide).model_dump()) if t.guide is not None else None
    write_html(report, t.results / "report.html", t.baseline, current if current.exists() else None, names)
    if t.build is not None and report.verified and not needs_refresh(report):
        m = load_build_manifest(t.build)
        save_build_manifest(m.model_copy(update={"last_verified": report.checked_at}), t.build)
    return report, t.results


def ownership_line(build: Path, today: date | None = None) -> str:
    """`owner, last verified, review by (OVERDUE)` for a build folder."""
    m = load_build_manifest(build)
    today = today or date.today()
    overdue = bool(m.review_by) and date.fromisoformat(m.review_by or "") < today
    return (f"{Path(build).name}: owner {m.owner or 'nobody'}, last verified {m.last_verified or 'never'}, "
            f"review by {m.review_by or 'not set'}" + (" — OVERDUE" if overdue else ""))


# -- refresh -------------------------------------------------------------------------------------------

def proposals(report: FreshnessReport) -> list[ReviewEntry]:
    """A new dialog after a step that the guide does not show: the step to add, for review."""
    numbers = {s.id: s.number for s in report.steps}
    return [ReviewEntry(step=f.after_step, number=numbers.get(f.after_step, 0),
                        why=f"the app now shows {f.after} after this step and the guide does not; "
                            f"proposed: {_after_this_one(plain(f.proposal), f.after_step)}")
            for f in report.flow if f.proposal]


def _after_this_one(proposal: str, step_id: str) -> str:
    """The proposal in words about the step it is listed under (no step id)."""
    return proposal.replace(f"add a step after {step_id}:", "add a step after this one:")


@dataclass
class Applied:
    guide: Guide
    video: VideoManifest
    entry: ChangelogEntry


def changelog_entry(report: FreshnessReport, guide: Guide, rendered: RenderReport, *, version: int,
                    refreshed_at: str, check: int | None = None) -> ChangelogEntry:
    return ChangelogEntry(
        version=version, refreshed_at=refreshed_at, check=check, checked_at=report.checked_at,
        capture=CaptureChange(before=report.baseline_capture, after=guide.source.capture_id),
        changes=[StepChangeEntry(id=s.id, number=s.number, status=s.status, classes=list(s.classes),
                                 labels=[LABELS[c] for c in s.classes], details=list(s.details))
                 for s in report.changed_steps],
        flow=[f.model_dump() for f in report.flow],
        page_changes=page_changes(report),
        conflicts=[c.model_dump() for c in guide.conflicts],
        review=[ReviewEntry(step=s.id, number=s.number, why=s.review) for s in guide.steps if s.review]
        + proposals(report),
        new_steps=list(guide.new_step_ids),
        segments_rendered=list(rendered.rendered), segments_reused=list(rendered.reused),
    )


def apply_capture(report: FreshnessReport, capture_dir: Path, guide_dir: Path, video_dir: Path, *,
                  narrate: NarrateOptions, edits: EditSet | None = None,
                  check: int | None = None, stages: Stages = quiet_stage) -> Applied:
    """Compose `capture_dir` into `guide_dir` (with `edits`, else the folder's own edit layer) and render
    `video_dir` again, reusing every unchanged segment from the cache. The changelog entry names the guide's
    own version; the server, which numbers its versions itself, sets its number when it stores the entry."""
    with stages("compose", 1) as p:
        guide = compose_guide(capture_dir, guide_dir, edits=edits, progress=p)
    rendered = RenderReport()
    with stages("narrate", 6) as p:
        video = narrate_guide(guide_dir, video_dir, engine=narrate.engine, voice=narrate.voice, rate=narrate.rate,
                              settings=narrate.settings, cache_dir=narrate.cache_dir, progress=p,
                              jobs=narrate.jobs, report=rendered)
    entry = changelog_entry(report, guide, rendered, version=guide.version,
                            refreshed_at=now_iso(), check=check)
    return Applied(guide, video, entry)


def refresh(build: Path, *, base_url: str | None = None, workflow: Path | None = None, engine: str | None = None,
            retry: bool = True, find_timeout: float = 5.0, browser_path: str | None = None,
            reviewed: bool = False, stages: Stages = quiet_stage) -> tuple[FreshnessReport, ChangelogEntry | None]:
    """Check the build; when the app changed, re-capture, re-compose with the edit layer, re-voice and
    re-render only what changed, and record a new version with a changelog. Returns (report, entry).

    A transaction, like `build`: the refreshed build is made in a staging folder (a copy of the build, the new
    capture in place, the old one archived under `captures/`) and swapped in whole, so a failure or a kill
    leaves the build as it was; one writer at a time. A step whose blurred element is not on the page any
    more blocks it (a `Conflict` naming the steps) unless `reviewed`: someone looked at the pictures."""
    build = Path(build)
    with folder_lock(build, "build folder"):
        manifest: BuildManifest = load_build_manifest(build)
        report, results = check_build(build, base_url=base_url, workflow=workflow, retry=retry,
                                      find_timeout=find_timeout, browser_path=browser_path, stages=stages)
        if not report.verified or not needs_refresh(report):
            return report, None  # nothing to do (check_build recorded a verified, unchanged app)
        with staged_dir(build) as stage:
            shutil.copytree(build, stage, symlinks=True, dirs_exist_ok=True,
                            ignore=lambda d, names: [".cache"] if Path(d) == build else [])
            _archive_capture(stage, results.relative_to(build))
            entry = _apply(report, stage, manifest, engine, workflow, build / ".cache", stages)
            if not reviewed:
                _privacy_hold(stage / "guide")
            if (build / ".cache").is_dir():  # the cache goes with the build, moved last
                os.replace(build / ".cache", stage / ".cache")
    return report, entry


def _privacy_hold(guide_dir: Path) -> None:
    """Refuse to publish a guide where a blur lost its element (the sensitive value may show again)."""
    held = [s for s in load_guide(guide_dir).steps if blocks_publishing(s.blurs)]
    if held:
        steps = "; ".join(f"step {s.number} ({s.id}): {plain(s.review or 'a blurred element is gone')}" for s in held)
        raise Conflict(f"{steps}. The refreshed guide was not published (the build is as it was): look at the "
                       "new pictures in check/report.html, redraw or remove the blur, or run refresh again with "
                       "--reviewed to publish it as it is")


def _archive_capture(stage: Path, results: Path) -> None:
    """In the staged build: the old capture under captures/<id>/, this check's replay as the capture."""
    old = load_capture(stage / "capture")
    archive = stage / "captures" / old.id
    if archive.exists():
        shutil.rmtree(stage / "capture")
    else:
        archive.parent.mkdir(parents=True, exist_ok=True)
        (stage / "capture").rename(archive)
    (stage / results / "capture").rename(stage / "capture")


def _apply(report: FreshnessReport, stage: Path, manifest: BuildManifest, engine: str | None,
           workflow: Path | None, cache: Path, stages: Stages) -> ChangelogEntry:
    options = NarrateOptions(engine=engine or manifest.video.engine, cache_dir=cache)
    if (stage / manifest.video.dir / "video.json").is_file():  # the voice and size the video was made with
        made = load_manifest(stage / manifest.video.dir)
        options.voice, options.rate, options.settings = made.voice, made.rate, made.settings
    done = apply_capture(report, stage / "capture", stage / "guide", stage / "video", narrate=options,
                         stages=stages)
    guide, video, entry = done.guide, done.video, done.entry
    bundle = load_capture(stage / "capture")
    captured = bundle.workflow
    wf_file = workflow or (Path(manifest.workflow.path) if manifest.workflow.path else None)
    if wf_file is not None:  # elements found by their other traits: the next check finds them at once
        entry = entry.model_copy(update={"healed": heal_workflow(wf_file, healed_locators(bundle))})
    manifest = manifest.model_copy(update={
        "workflow": WorkflowRef(path=str(workflow) if workflow else manifest.workflow.path, sha256=captured.sha256,
                                title=captured.title),
        "capture": CaptureRef(id=guide.source.capture_id, captured_at=guide.source.captured_at),
        "guide": manifest.guide.model_copy(update={"id": guide.id, "version": guide.version}),
        "video": manifest.video.model_copy(update={"duration": video.duration, "engine": video.engine}),
        "last_verified": entry.refreshed_at,
        "history": [*manifest.history, entry],
    })
    save_build_manifest(manifest, stage)
    append_changelog(stage, entry)
    return entry
