"""The video manifest: what a rendered video was made from, segment by segment."""
from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from guidecast.kernel.boxes import Box
from guidecast.kernel.model import Strict, read_model, write_model

VIDEO_SCHEMA_VERSION: Final = 2
MANIFEST_FILE = "video.json"


class Segment(Strict):
    id: str  # the step id, or "intro" / "outro"
    kind: Literal["intro", "step", "outro"]
    text: str  # what was spoken
    caption: str = ""  # what the captions show
    start: float
    duration: float
    frames: int = 0
    audio_duration: float
    audio_sha256: str
    image_sha256: str | None = None  # the screenshot (or the outro's background) it shows
    highlight: Box | None = None  # the target it zooms to, in image pixels
    segment_sha256: str  # the cache key of the rendered segment: everything its pixels depend on


class RenderSettings(Strict):
    width: int = 1280
    height: int = 720
    fps: int = 25
    pause: float = 0.6


class VideoManifest(Strict):
    schema_version: Literal[1, 2] = VIDEO_SCHEMA_VERSION
    guide_id: str  # the guide version: a hash of its content
    guide_title: str
    guide_dir: str | None = None  # where the guide was read from (for `guidecast status`)
    guide_version: int | None = None  # the guide's snapshot number, when it is versioned
    workflow_path: str
    workflow_sha256: str
    capture_id: str
    engine: str
    engine_model: str | None = None  # e.g. "openai:tts-1"
    voice: str | None
    rate: int | None
    renderer_version: str
    settings: RenderSettings
    segments: list[Segment]
    duration: float
    files: dict[str, str]
    created_at: str


def save_manifest(m: VideoManifest, out_dir: Path) -> Path:
    return write_model(m, out_dir, MANIFEST_FILE)


def load_manifest(video_dir: str | Path) -> VideoManifest:
    return read_model(VideoManifest, video_dir, MANIFEST_FILE,
                      "no video manifest here; run `guidecast narrate GUIDE_DIR` first")
