"""Guide -> narrated video: the narration stage's core function."""
from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from capture.errors import GuidecastError
from capture.files import atomic_write_text, staged_dir
from composer.guide import load_guide
from narration import captions
from narration.frames import card, png_bytes, screenshot_frame
from narration.manifest import RenderSettings, Segment, VideoManifest, save_manifest
from narration.script import ScriptItem, build_script
from narration.tts import Engine, SpeechCache, make_engine
from narration.video import RENDERER_VERSION, assemble, frame_count, render_segment, write_audio_track

Progress = Callable[[int, int, str], None]
VIDEO_FILE = "guide.mp4"


def narrate_guide(
    guide_dir: str | Path,
    out_dir: str | Path,
    *,
    engine: str | Engine = "pyttsx3",
    voice: str | None = None,
    rate: int | None = 165,
    settings: RenderSettings | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> VideoManifest:
    """Voice every step of the guide and render the video, captions and chapters into `out_dir`."""
    guide_dir, out_dir = Path(guide_dir), Path(out_dir)
    guide = load_guide(guide_dir)
    settings = settings or RenderSettings()
    eng = make_engine(engine) if isinstance(engine, str) else engine
    cache = Path(cache_dir) if cache_dir else out_dir.parent / ".guidecast-cache"
    speech = SpeechCache(cache / "speech", eng, voice, rate)
    script = build_script(guide)
    progress = progress or (lambda *_: None)
    total = len(script) + 1

    segments: list[Segment] = []
    seg_files: list[Path] = []
    audio_parts: list[tuple[Path, int]] = []
    t = 0.0
    for i, item in enumerate(script):
        progress(i, total, f"voicing and rendering {item.id}")
        try:
            sp = speech.synthesize(item.text)
        except GuidecastError as e:
            raise GuidecastError(f"{guide_dir}: step '{item.id}': {e}") from None
        frames = frame_count(sp.duration + settings.pause, settings.fps)
        frame = png_bytes(_frame(item, guide_dir, guide.title, len(guide.steps), settings))
        seg_path, seg_key = render_segment(frame, frames, settings, cache / "segments")
        duration = frames / settings.fps
        segments.append(Segment(id=item.id, kind=item.kind, text=item.text, start=round(t, 6),
                                duration=duration, audio_duration=round(sp.duration, 6),
                                audio_sha256=sp.sha256, segment_sha256=seg_key))
        seg_files.append(seg_path)
        audio_parts.append((sp.path, frames))
        t += duration

    progress(len(script), total, "joining the video")
    caption_text = {it.id: it.caption for it in script}
    cues = captions.caption_cues(segments, caption_text)
    chapters = _chapters(script, segments)
    with staged_dir(out_dir) as stage, tempfile.TemporaryDirectory(dir=stage.parent) as tmp:
        work = Path(tmp)
        atomic_write_text(stage / "guide.vtt", captions.webvtt(cues))
        atomic_write_text(stage / "guide.srt", captions.srt(cues))
        atomic_write_text(stage / "chapters.vtt", captions.webvtt(chapters))
        meta = work / "chapters.ffmeta"
        meta.write_text(captions.ffmetadata(guide.title, chapters))
        audio = work / "narration.wav"
        write_audio_track(audio_parts, settings, audio)
        assemble(seg_files, audio, stage / "guide.srt", meta, stage / VIDEO_FILE, work)
        first_step = next((it for it in script if it.kind == "step"), script[0])
        (stage / "poster.png").write_bytes(png_bytes(_frame(first_step, guide_dir, guide.title, len(guide.steps), settings)))
        manifest = VideoManifest(
            guide_id=guide.id,
            guide_title=guide.title,
            workflow_path=guide.source.workflow_path,
            workflow_sha256=guide.source.workflow_sha256,
            capture_id=guide.source.capture_id,
            engine=eng.name,
            voice=voice,
            rate=rate,
            renderer_version=RENDERER_VERSION,
            settings=settings,
            segments=segments,
            duration=round(t, 6),
            files={"video": VIDEO_FILE, "captions_vtt": "guide.vtt", "captions_srt": "guide.srt",
                   "chapters": "chapters.vtt", "poster": "poster.png"},
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        save_manifest(manifest, stage)
    progress(total, total, "done")
    return manifest


def _frame(item: ScriptItem, guide_dir: Path, title: str, n_steps: int, s: RenderSettings):
    if item.kind == "step" and item.image:
        path = guide_dir / item.image
        if not path.exists():
            raise GuidecastError(f"{path}: screenshot for step '{item.id}' is missing; compose the guide again")
        return screenshot_frame(path, s.width, s.height)
    bg = None
    if item.image and (guide_dir / item.image).exists():
        from PIL import Image

        bg = Image.open(guide_dir / item.image)
    if item.kind == "intro":
        return card(title, f"Step-by-step guide · {n_steps} steps", s.width, s.height)
    return card("You're done", item.caption[:80], s.width, s.height, background=bg)


def _chapters(script: list[ScriptItem], segments: list[Segment]) -> list[tuple[float, float, str]]:
    """One chapter per step; the intro belongs to the first, the outro to the last."""
    steps = [(it, seg) for it, seg in zip(script, segments) if it.kind == "step"]
    if not steps:
        return []
    end = segments[-1].start + segments[-1].duration
    out = []
    for k, (it, seg) in enumerate(steps):
        start = 0.0 if k == 0 else seg.start
        stop = steps[k + 1][1].start if k + 1 < len(steps) else end
        out.append((start, stop, it.chapter))
    return out
