"""guidecast: record a web-app process once; get a step-by-step guide and a narrated video that stay true to
the app.

The public API (imported on first use, so `import guidecast` stays cheap):

    capture_workflow(workflow, out_dir, base_url=...)   -> CaptureBundle   replay in Chromium
    compose_guide(capture_dir, out_dir, edits=...)      -> Guide           step text, pictures, exports
    narrate_guide(guide_dir, out_dir, engine=...)       -> VideoManifest   voice, video, captions
    check_capture(baseline_dir, base_url=...)           -> FreshnessReport is the app still the same
    build(workflow, out, capture=..., narrate=...)      -> BuildResult     all three, plus manifest.json
    refresh(build_dir, base_url=...)                    -> (FreshnessReport, ChangelogEntry | None)

Every user mistake raises a `GuidecastError` (or a subclass) whose message names the file, step and field.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "capture_workflow": "guidecast.capture.replay",
    "compose_guide": "guidecast.composer.compose",
    "narrate_guide": "guidecast.narration.narrate",
    "check_capture": "guidecast.capture.check",
    "build": "guidecast.core.build",
    "CaptureOptions": "guidecast.core.build",
    "NarrateOptions": "guidecast.core.build",
    "refresh": "guidecast.core.refresh",
    "check_build": "guidecast.core.refresh",
    "GuidecastError": "guidecast.kernel.errors",
    "Workflow": "guidecast.capture.workflow",
    "CaptureBundle": "guidecast.capture.bundle",
    "FreshnessReport": "guidecast.capture.compare",
    "Guide": "guidecast.composer.guide",
    "EditSet": "guidecast.composer.edits",
    "VideoManifest": "guidecast.narration.manifest",
    "BuildManifest": "guidecast.core.manifest",
    "ChangelogEntry": "guidecast.core.manifest",
}
__all__ = [
    "BuildManifest", "CaptureBundle", "CaptureOptions", "ChangelogEntry", "NarrateOptions", "EditSet", "FreshnessReport", "Guide", "GuidecastError",
    "VideoManifest", "Workflow", "build", "capture_workflow", "check_build", "check_capture", "compose_guide",
    "narrate_guide", "refresh",
]

if TYPE_CHECKING:
    from guidecast.capture.bundle import CaptureBundle
    from guidecast.capture.check import check_capture
    from guidecast.capture.compare import FreshnessReport
    from guidecast.capture.replay import capture_workflow
    from guidecast.capture.workflow import Workflow
    from guidecast.composer.compose import compose_guide
    from guidecast.composer.edits import EditSet
    from guidecast.composer.guide import Guide
    from guidecast.core.build import CaptureOptions, NarrateOptions, build
    from guidecast.core.manifest import BuildManifest, ChangelogEntry
    from guidecast.core.refresh import check_build, refresh
    from guidecast.kernel.errors import GuidecastError
    from guidecast.narration.manifest import VideoManifest
    from guidecast.narration.narrate import narrate_guide


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'guidecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
