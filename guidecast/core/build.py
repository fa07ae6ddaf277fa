"""`build`: a workflow replayed, composed and narrated into one build folder, with its manifest."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from guidecast.capture.browser import find_chromium
from guidecast.capture.replay import capture_workflow
from guidecast.capture.stepids import write_step_ids
from guidecast.capture.workflow import load_workflow
from guidecast.composer.compose import compose_guide
from guidecast.core.manifest import (
    MANIFEST_FILE,
    BuildManifest,
    CaptureRef,
    GuideRef,
    VideoRef,
    WorkflowRef,
    save_build_manifest,
)
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import folder_lock, staged_dir
from guidecast.kernel.paths import check_output
from guidecast.kernel.progress import Stages, quiet_stage
from guidecast.narration.manifest import RenderSettings
from guidecast.narration.media import encoder, tool
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.narration.tts import DEFAULT_ENGINE, Engine, make_engine

REVIEW_DAYS = 90  # default review-by: a quarter after the build


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class CaptureOptions:
    """How to replay a workflow (the flags of `guidecast capture`)."""

    base_url: str | None = None
    headless: bool = True
    device_scale: float = 1.0
    browser_path: str | None = None
    find_timeout: float = 10.0
    settle_timeout: float = 30.0
    strip_query: bool | None = None


@dataclass
class NarrateOptions:
    """How to voice and render a guide (the flags of `guidecast narrate`)."""

    engine: str | Engine = DEFAULT_ENGINE
    voice: str | None = None  # None: the guide's (its edit layer's), else the engine's default
    rate: int | None = None  # None: the guide's, else 165 words a minute
    settings: RenderSettings = field(default_factory=RenderSettings)
    cache_dir: Path | None = None
    jobs: int | None = None


@dataclass
class BuildResult:
    manifest: BuildManifest
    render: RenderReport

    def outputs(self, out: Path) -> dict[str, Path]:
        return self.manifest.outputs(out)


def preflight(workflow: Path, out: Path, c: CaptureOptions, n: NarrateOptions) -> NarrateOptions:
    """Everything a build needs, checked before anything is replaced: the output folder, the workflow, the
    browser, the voice (engine, voice, key), the encoder and the cache. Returns `n` with its engine made."""
    check_output(out, [workflow], ours=[MANIFEST_FILE])
    load_workflow(workflow)
    find_chromium(c.browser_path)
    eng = make_engine(n.engine, voice=n.voice) if isinstance(n.engine, str) else n.engine
    voice = eng.resolve_voice(n.voice)
    eng.check("", voice)
    tool("ffmpeg")
    encoder()
    cache = n.cache_dir or out / ".cache"
    if cache.exists() and not cache.is_dir():
        raise GuidecastError(f"{cache}: the cache folder (--cache-dir) is a file; name a folder")
    return replace(n, engine=eng)


# What a rebuild keeps of the previous build: the guide folder (its versions and the person's edit layer),
# archived captures and the changelog. Everything else is made anew.
KEPT = ("guide", "captures", "CHANGELOG.md")


def build(workflow: Path, out: Path, *, capture: CaptureOptions | None = None, narrate: NarrateOptions | None = None,
          owner: str | None = None, review_by: date | None = None, stages: Stages = quiet_stage) -> BuildResult:
    """Capture, compose and narrate `workflow` into `out` (`capture/`, `guide/`, `video/`, `manifest.json`).

    A transaction: the new build is made in a staging folder beside `out` and swapped in whole when every
    stage succeeded, so a failure or a kill at any point leaves the previous build as it was (and `status`
    truthful). One writer at a time: a second build of the same folder is refused while one runs."""
    out = Path(out)
    c, n = capture or CaptureOptions(), narrate or NarrateOptions()
    with folder_lock(out, "build folder"):
        n = preflight(workflow, out, c, n)
        write_step_ids(load_workflow(workflow))  # ids assigned once, kept when a locator is edited
        own_cache = out / ".cache"  # the build's own cache (no --cache-dir): it goes with the build
        kept_cache = n.cache_dir is None and own_cache.is_dir()
        with staged_dir(out) as stage:
            for name in KEPT:
                if (out / name).is_dir():
                    shutil.copytree(out / name, stage / name, symlinks=True)
                elif (out / name).is_file():
                    shutil.copy2(out / name, stage / name)
            # an existing cache is used where it is and moved in last (a kill before the swap loses no cached work)
            cache = n.cache_dir or (own_cache if kept_cache else stage / ".cache")
            try:
                manifest, report = _make(workflow, stage, c, n, cache, owner, review_by, stages)
            finally:
                getattr(n.engine, "close", lambda: None)()  # a warmed voice's processes end with the build
            if kept_cache:
                os.replace(own_cache, stage / ".cache")
    return BuildResult(manifest, report)


def _make(workflow: Path, out: Path, c: CaptureOptions, n: NarrateOptions, cache: Path, owner: str | None,
          review_by: date | None, stages: Stages) -> tuple[BuildManifest, RenderReport]:
    warm = getattr(n.engine, "warm", None)
    if warm is not None and not any((cache / "speech").glob("*.wav")):  # a first build: everything is voiced
        warm(n.voice)  # the voice's model loads while the app is replayed
    with stages("capture", 3) as p:
        bundle = capture_workflow(workflow, out / "capture", base_url=c.base_url, headless=c.headless,
                                  device_scale_factor=c.device_scale, browser_path=c.browser_path, progress=p,
                                  find_timeout=c.find_timeout, settle_timeout_s=c.settle_timeout,
                                  strip_query_strings=c.strip_query)
    with stages("compose", 1) as p:
        guide = compose_guide(out / "capture", out / "guide", progress=p)
    report = RenderReport()
    with stages("narrate", 6) as p:
        video = narrate_guide(out / "guide", out / "video", engine=n.engine, voice=n.voice, rate=n.rate,
                              settings=n.settings, cache_dir=cache, progress=p, jobs=n.jobs, report=report)
    built_at = now_iso()
    manifest = BuildManifest(
        workflow=WorkflowRef(path=str(workflow), sha256=bundle.workflow.sha256, title=bundle.workflow.title),
        capture=CaptureRef(id=bundle.id, captured_at=bundle.captured_at),
        guide=GuideRef(id=guide.id, version=guide.version),
        video=VideoRef(file=f"video/{video.files['video']}", captions=f"video/{video.files['captions_vtt']}",
                       duration=video.duration, engine=video.engine),
        built_at=built_at, owner=owner, last_verified=built_at,
        review_by=(review_by or (datetime.now(UTC) + timedelta(days=REVIEW_DAYS)).date()).isoformat(),
    )
    save_build_manifest(manifest, out)
    return manifest, report
