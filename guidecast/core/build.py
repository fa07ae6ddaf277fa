"""`build`: a workflow replayed, composed and narrated into one build folder, with its manifest."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from guidecast.capture.replay import capture_workflow
from guidecast.composer.compose import compose_guide
from guidecast.core.manifest import BuildManifest, CaptureRef, GuideRef, VideoRef, WorkflowRef, save_build_manifest
from guidecast.kernel.progress import Stages, quiet_stage
from guidecast.narration.manifest import RenderSettings
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.narration.tts import Engine

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

    engine: str | Engine = "pyttsx3"
    voice: str | None = None
    rate: int | None = 165
    settings: RenderSettings = field(default_factory=RenderSettings)
    cache_dir: Path | None = None
    jobs: int | None = None


@dataclass
class BuildResult:
    manifest: BuildManifest
    render: RenderReport

    def outputs(self, out: Path) -> dict[str, Path]:
        return self.manifest.outputs(out)


def build(workflow: Path, out: Path, *, capture: CaptureOptions | None = None, narrate: NarrateOptions | None = None,
          owner: str | None = None, review_by: date | None = None, stages: Stages = quiet_stage) -> BuildResult:
    """Capture, compose and narrate `workflow` into `out` (`capture/`, `guide/`, `video/`, `manifest.json`)."""
    out = Path(out)
    c, n = capture or CaptureOptions(), narrate or NarrateOptions()
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
                              settings=n.settings, cache_dir=n.cache_dir or out / ".cache", progress=p,
                              jobs=n.jobs, report=report)
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
    return BuildResult(manifest, report)
