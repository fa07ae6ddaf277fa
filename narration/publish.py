"""Publishing a render: captions, chapters, the joined MP4, the poster and the manifest, written into a
staging folder that replaces the previous video folder only when all of it succeeded."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from guidecast.kernel.files import atomic_write_bytes, atomic_write_text, staged_dir
from guidecast.kernel.paths import relative_path
from guidecast.narration import captions
from guidecast.narration.assemble import assemble
from guidecast.narration.frames import card, png_bytes, screenshot_frame
from guidecast.narration.manifest import RenderSettings, Segment, VideoManifest, save_manifest
from guidecast.narration.script import ScriptItem
from guidecast.narration.segments import RENDERER_VERSION

VIDEO_FILE = "guide.mp4"
FILES = {"video": VIDEO_FILE, "captions_vtt": "guide.vtt", "captions_srt": "guide.srt",
         "chapters": "chapters.vtt", "poster": "poster.png"}


def publish(guide, guide_dir: Path, out_dir: Path, script, segments, seg_files, audio: Path, eng, voice, rate,
            settings: RenderSettings, seg_dir: Path, pictures) -> VideoManifest:
    """Write the video folder `out_dir` from the rendered segments and the encoded narration `audio`."""
    caption_text = {it.id: it.caption for it in script}
    cues = captions.caption_cues(segments, caption_text)
    chapters = chapter_marks(script, segments)
    with staged_dir(out_dir) as stage:
        atomic_write_text(stage / "guide.vtt", captions.webvtt(cues))
        atomic_write_text(stage / "guide.srt", captions.srt(cues))
        atomic_write_text(stage / "chapters.vtt", captions.webvtt(chapters))
        meta = audio.parent / "chapters.ffmeta"
        meta.write_text(captions.ffmetadata(guide.title, chapters))
        assemble(seg_files, audio, stage / "guide.srt", meta, stage / VIDEO_FILE, audio.parent)
        (stage / "poster.png").write_bytes(poster(script, pictures, settings, seg_dir))
        manifest = VideoManifest(
            guide_id=guide.id, guide_title=guide.title, guide_dir=relative_path(guide_dir, out_dir),
            guide_version=getattr(guide, "version", None) or None,
            workflow_path=guide.source.workflow_path, workflow_sha256=guide.source.workflow_sha256,
            capture_id=guide.source.capture_id, engine=eng.name,
            engine_model=getattr(eng, "cache_id", eng.name), voice=voice, rate=rate,
            renderer_version=RENDERER_VERSION, settings=settings, segments=segments,
            duration=round(sum(s.duration for s in segments), 6), files=dict(FILES),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        save_manifest(manifest, stage)
    return manifest


def poster(script: list[ScriptItem], pictures, settings: RenderSettings, seg_dir: Path) -> bytes:
    """The first step's whole screenshot at the video's size (cached beside the segments)."""
    first = next((it for it in script if it.kind == "step" and it.id in pictures), None)
    if first is None:
        return png_bytes(card(script[0].caption, "", settings.width, settings.height))
    path, sha, size = pictures[first.id]
    if tuple(size) == (settings.width, settings.height) and _plain_rgb_png(path):
        return path.read_bytes()  # already what it would be drawn as
    cached = seg_dir / f"poster-{sha[:24]}-{settings.width}x{settings.height}.png"
    if not cached.exists():
        atomic_write_bytes(cached, png_bytes(screenshot_frame(path, settings.width, settings.height)))
    return cached.read_bytes()


def _plain_rgb_png(path: Path) -> bool:
    with Image.open(path) as im:
        return im.format == "PNG" and im.mode == "RGB" and "transparency" not in im.info


def chapter_marks(script: list[ScriptItem], segments: list[Segment]) -> list[tuple[float, float, str]]:
    """The intro its own chapter ("Introduction"), then one chapter per step starting where the step does;
    the outro belongs to the last step."""
    steps = [(it, seg) for it, seg in zip(script, segments, strict=True) if it.kind == "step"]
    if not steps:
        return []
    end = segments[-1].start + segments[-1].duration
    first = steps[0][1].start
    out = [(0.0, first, script[0].chapter)] if first > 0 and script[0].kind == "intro" else []
    for k, (it, seg) in enumerate(steps):
        start = 0.0 if not out and k == 0 else seg.start
        stop = steps[k + 1][1].start if k + 1 < len(steps) else end
        out.append((start, stop, it.chapter))
    return out
