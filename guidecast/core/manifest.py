"""The build folder's manifest (`OUT/manifest.json`): which workflow, capture, guide and video a build is,
who owns it, when it was last verified, and every refresh (history entries, also written to CHANGELOG.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, model_validator

from guidecast.kernel.files import atomic_write_text, recover
from guidecast.kernel.model import Strict, read_model, write_model

BUILD_SCHEMA_VERSION: Final = 1
MANIFEST_FILE = "manifest.json"
CHANGELOG_FILE = "CHANGELOG.md"


class WorkflowRef(Strict):
    path: str
    sha256: str
    title: str


class CaptureRef(Strict):
    id: str
    dir: str = "capture"
    captured_at: str


class GuideRef(Strict):
    id: str
    dir: str = "guide"
    html: str = "guide/guide.html"
    markdown: str = "guide/guide.md"
    version: int | None = None


class VideoRef(Strict):
    dir: str = "video"
    file: str
    captions: str | None = None
    duration: float
    engine: str


class CaptureChange(Strict):
    before: str | None
    after: str | None


class StepChangeEntry(Strict):
    """A step the check found changed: its number and id, and what changed, in words."""

    id: str
    number: int
    status: str
    classes: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)


class ReviewEntry(Strict):
    step: str
    number: int
    why: str


class ChangelogEntry(Strict):
    """What one refresh changed; the same in a build's manifest history and a server draft's changelog."""

    version: int
    refreshed_at: str
    check: int | None = None  # the server's check id, when the refresh came from one
    checked_at: str | None = None
    capture: CaptureChange
    changes: list[StepChangeEntry] = Field(default_factory=list)
    flow: list[dict[str, Any]] = Field(default_factory=list)
    page_changes: list[str] = Field(default_factory=list)  # unchanged targets on pages that look different
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    review: list[ReviewEntry] = Field(default_factory=list)
    new_steps: list[str] = Field(default_factory=list)
    healed: list[str] = Field(default_factory=list)  # steps whose workflow locator the refresh rewrote
    segments_rendered: list[str] = Field(default_factory=list)
    segments_reused: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _earlier_shape(cls, data: Any) -> Any:
        """Entries written before the changelog had one model name a change's step `step` and leave out
        step numbers; read them as they are now."""
        if isinstance(data, dict):
            data = dict(data)
            data["changes"] = [
                {"id": c["step"], "number": 0, "status": (c.get("classes") or ["changed"])[0],
                 "classes": c.get("classes", []), "details": c.get("details", [])}
                if isinstance(c, dict) and "step" in c else c for c in data.get("changes", [])]
            data["review"] = [{"number": 0, **r} if isinstance(r, dict) and "number" not in r else r
                              for r in data.get("review", [])]
        return data

    def markdown(self) -> str:
        """The entry as a CHANGELOG.md section."""
        lines = [f"## Version {self.version} ({self.refreshed_at})", "",
                 f"Re-captured: {self.capture.before} -> {self.capture.after}.", ""]
        for c in self.changes:
            lines.append(f"- {c.id}: {', '.join(c.classes)}" + (f" ({'; '.join(c.details)})" if c.details else ""))
        for conflict in self.conflicts:
            lines.append(f"- CONFLICT {conflict['step_id']}: {conflict['message']}")
        for r in self.review:
            lines.append(f"- REVIEW {r.step}: {r.why}")
        for sid in self.healed:
            lines.append(f"- WORKFLOW {sid}: now finds its element by its new name (the old target is kept as a "
                         "fallback)")
        lines += ["", f"Video: {len(self.segments_rendered)} segment(s) re-rendered, "
                      f"{len(self.segments_reused)} reused.", "", ""]
        return "\n".join(lines)


class BuildManifest(Strict):
    schema_version: Literal[1] = BUILD_SCHEMA_VERSION
    workflow: WorkflowRef
    capture: CaptureRef
    guide: GuideRef
    video: VideoRef
    built_at: str
    owner: str | None = None
    review_by: str | None = None
    last_verified: str | None = None
    history: list[ChangelogEntry] = Field(default_factory=list)

    def outputs(self, build_dir: Path) -> dict[str, Path]:
        """What a person opens, labelled."""
        return {
            "guide (HTML)": build_dir / self.guide.html,
            "guide (Markdown)": build_dir / self.guide.markdown,
            "video": build_dir / self.video.file,
            "captions": build_dir / (self.video.captions or f"{self.video.dir}/guide.vtt"),
            "manifest": build_dir / MANIFEST_FILE,
        }


def is_build(folder: Path) -> bool:
    recover(Path(folder))  # a build killed while it swapped its new folder in is put back first
    return (Path(folder) / MANIFEST_FILE).is_file()


def load_build_manifest(build_dir: Path) -> BuildManifest:
    recover(Path(build_dir))
    return read_model(BuildManifest, build_dir, MANIFEST_FILE,
                      "not a build folder (no manifest.json); run `guidecast build WORKFLOW -o FOLDER` first")


def save_build_manifest(manifest: BuildManifest, build_dir: Path) -> Path:
    return write_model(manifest, build_dir, MANIFEST_FILE)


def append_changelog(build_dir: Path, entry: ChangelogEntry) -> Path:
    path = Path(build_dir) / CHANGELOG_FILE
    old = path.read_text("utf-8") if path.exists() else "# Changelog\n\n"
    atomic_write_text(path, old + entry.markdown())
    return path
