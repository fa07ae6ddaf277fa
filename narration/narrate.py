"""Guide -> narrated video: the narration stage's core function.

Clips are taken in script order on the caller's thread (voiced there, or ahead on the engine's own workers
when it can voice several at once) and each segment goes to a pool of renderers as soon as its length is known; the narration track is encoded while segments render; the
final MP4 is joined from cached segments without re-encoding them, in a staging folder that replaces
the previous video only when everything succeeded.
"""
from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guidecast.composer.guide import load_guide
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import scratch_prefix, sha256_file, sweep_scratch
from guidecast.kernel.inputs import check_image
from guidecast.kernel.paths import check_output
from guidecast.kernel.progress import Progress
from guidecast.narration.assemble import frame_count, start_audio_encode, write_audio_track
from guidecast.narration.manifest import MANIFEST_FILE, RenderSettings, Segment, VideoManifest
from guidecast.narration.media import encoder, tool
from guidecast.narration.publish import poster, publish
from guidecast.narration.script import ScriptItem, build_script
from guidecast.narration.segments import SegmentSpec, pictures_memory, render_segments, segment_key
from guidecast.narration.stage import target_centre
from guidecast.narration.tts import DEFAULT_ENGINE, Engine, SpeechCache, make_engine

# Segments per encoder process: at most MAX_BATCH (fewer start-ups), at most 1/TAIL of a worker's share of
# the segments still to come, so that batches shrink toward the end and the workers finish together.
MAX_BATCH, TAIL = 6, 2
DEFAULT_RATE = 165  # words a minute


@dataclass
class RenderReport:
    """What a run did: which clips it voiced and which segments it rendered or found in the cache."""

    voiced: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    voiced_s: float = 0.0  # seconds of speech voiced by this run (not found in the cache)
    voicing_s: float = 0.0  # wall seconds from the first clip asked for to the last one voiced


def narrate_guide(
    guide_dir: str | Path,
    out_dir: str | Path,
    *,
    engine: str | Engine = DEFAULT_ENGINE,
    voice: str | None = None,
    rate: int | None = None,
    settings: RenderSettings | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
    report: RenderReport | None = None,
) -> VideoManifest:
    """Voice every step of the guide and render the video, captions and chapters into `out_dir`. `voice` and
    `rate` default to the guide's own (its edit layer's), else the engine's default voice and 165 words a
    minute."""
    guide_dir, out_dir = Path(guide_dir), Path(out_dir)
    check_output(out_dir, [guide_dir], ours=[MANIFEST_FILE])
    guide = load_guide(guide_dir)
    voice, rate = voice or guide.voice, rate or guide.rate or DEFAULT_RATE
    settings = settings or RenderSettings()
    report = report if report is not None else RenderReport()
    progress = progress or (lambda *_: None)
    tool("ffmpeg")
    binary = encoder()
    eng = make_engine(engine, voice=voice) if isinstance(engine, str) else engine
    voice = eng.resolve_voice(voice)
    script = build_script(guide)
    _check_texts(script, eng, voice, guide_dir)
    pictures = {it.id: _picture_facts(it, guide_dir) for it in script
                if it.image and (it.kind == "step" or (guide_dir / it.image).is_file())}
    cache = Path(cache_dir) if cache_dir else out_dir.parent / ".guidecast-cache"
    if cache.exists() and not cache.is_dir():
        raise GuidecastError(f"{cache}: the cache folder (--cache-dir) is a file; name a folder")
    seg_dir = cache / "segments"
    for d in (cache, seg_dir, cache / "speech"):
        d.mkdir(parents=True, exist_ok=True)
        sweep_scratch(d)
    speech = SpeechCache(cache / "speech", eng, voice, rate)

    n = len(script)
    total = 2 * n + 1
    done = 0
    segments: list[Segment] = []
    seg_files: list[Path] = []
    audio_parts: list[tuple[Path, int]] = []
    cancel = threading.Event()
    pending: dict[Future, list[str]] = {}
    batch: list[tuple[SegmentSpec, Path]] = []
    queued: set[Path] = set()
    workers = jobs or min(4, os.cpu_count() or 2)
    cursor = audio = None
    t = 0.0

    def submit() -> None:
        if batch:
            pending[pool.submit(render_segments, list(batch), settings, binary, cancel)] = [s.id for s, _ in batch]
            batch.clear()

    with tempfile.TemporaryDirectory(prefix=scratch_prefix("work"), dir=cache) as tmp, pictures_memory(), \
            ThreadPoolExecutor(max_workers=workers) as pool:
        work = Path(tmp)
        started = time.monotonic()
        try:
            speech.prefetch([it.text for it in script])  # engines that can voice several clips at once start now
            for k, item in enumerate(script, 1):
                progress(done, total, f"voicing {item.where}")
                try:
                    sp = speech.synthesize(item.text)
                except GuidecastError as e:
                    raise GuidecastError(f"{guide_dir}: {item.where}: {e}") from None
                if sp.voiced:
                    report.voiced.append(item.id)
                    report.voiced_s += sp.duration
                    report.voicing_s = time.monotonic() - started
                done += 1
                frames = frame_count(sp.duration + settings.pause, settings.fps)
                spec = _spec(item, guide, guide_dir, pictures.get(item.id), frames, sp.sha256, cursor)
                if item.kind == "step" and item.highlight is not None:
                    cursor = target_centre(item.highlight, spec.image_size, settings) or cursor
                key = segment_key(spec, settings, binary)
                path = seg_dir / f"{key}.mp4"
                if path.exists():
                    report.reused.append(item.id)
                    done += 1
                elif path in queued:  # the same picture, sound and length as an earlier segment
                    report.reused.append(item.id)
                    done += 1
                else:
                    queued.add(path)
                    batch.append((spec, path))
                    if len(batch) >= batch_size(len(batch) + n - k, workers):
                        submit()
                done += _collect(pending, report, block=False)
                duration = frames / settings.fps
                segments.append(Segment(
                    id=item.id, kind=item.kind, text=item.text, caption=item.caption, start=round(t, 6),
                    duration=duration, frames=frames, audio_duration=round(sp.duration, 6),
                    audio_sha256=sp.sha256, image_sha256=spec.image_sha256, highlight=item.highlight,
                    segment_sha256=key))
                seg_files.append(path)
                audio_parts.append((sp.path, frames))
                t += duration
            submit()
            speech.close()
            _close(eng)  # every clip is voiced: the engine's model and processes are not needed any more
            track = work / "narration.wav"
            write_audio_track(audio_parts, settings.fps, track)
            audio = start_audio_encode(track, work / "narration.m4a")  # while the segments render
            poster(script, pictures, settings, seg_dir)  # and so is the poster
            while pending:
                progress(done, total, f"rendering {sum(map(len, pending.values()))} segment(s)")
                done += _collect(pending, report, block=True)
            progress(done, total, "joining the video")
            audio.wait()
        except BaseException:
            cancel.set()  # running renders stop at their next picture, queued ones never start
            speech.close()
            _close(eng)
            for f in pending:
                f.cancel()
            if audio is not None:
                audio.kill()
            raise
        manifest = publish(guide, guide_dir, out_dir, script, segments, seg_files, work / "narration.m4a",
                           eng, voice, rate, settings, seg_dir, pictures)
    progress(total, total, "done")
    return manifest


def _close(eng: Engine) -> None:
    close = getattr(eng, "close", None)
    if close is not None:
        close()


def batch_size(unassigned: int, workers: int) -> int:
    """How many segments the next encoder process takes when `unassigned` segments have none yet."""
    return max(1, min(MAX_BATCH, math.ceil(unassigned / (TAIL * workers))))


def _collect(pending: dict[Future, list[str]], report: RenderReport, block: bool) -> int:
    """Account for finished batches of segments (waiting for one when `block`); re-raise a failure."""
    if not pending:
        return 0
    finished = wait(list(pending), return_when=FIRST_COMPLETED)[0] if block else [f for f in pending if f.done()]
    count = 0
    for f in finished:
        ids = pending.pop(f)
        try:
            f.result()
        except GuidecastError as e:
            raise GuidecastError(f"{e} (while rendering {', '.join(ids)})") from None
        report.rendered.extend(ids)
        count += len(ids)
    return count


def _check_texts(script: list[ScriptItem], eng: Engine, voice: str | None, guide_dir: Path) -> None:
    """Every text can be spoken by this voice, before anything is voiced or rendered."""
    for it in script:
        if not it.text.strip():
            raise GuidecastError(f"{guide_dir / 'guide.json'}: {it.where}: the narration text is empty; give it "
                                 "some text or a narration override (edits.yaml)")
        try:
            eng.check(it.text, voice)
        except GuidecastError as e:
            raise GuidecastError(f"{guide_dir / 'guide.json'}: {it.where}: {e}") from None


def _picture_facts(item: ScriptItem, guide_dir: Path) -> tuple[Path, str, tuple[int, int]]:
    """The picture's path, content hash and size (read from its header), or a clear error."""
    path = guide_dir / item.image
    if not path.is_file():
        raise GuidecastError(f"{path}: the screenshot of {item.where} is missing; compose the guide again")
    size = check_image(path, f"screenshot of {item.where}", whole=False)  # rendering reads it whole
    return path, sha256_file(path), size


def _spec(item: ScriptItem, guide, guide_dir: Path, picture, frames: int, audio_sha: str, cursor) -> SegmentSpec:
    path, image_sha, size = picture if picture else (None, None, None)
    common: dict[str, Any] = dict(id=item.id, kind=item.kind, frames=frames, audio_sha256=audio_sha,
                                  where=item.where, image=str(path) if path else None, image_sha256=image_sha)
    if item.kind == "intro":
        return SegmentSpec(**common, title=guide.title, subtitle=f"Step-by-step guide · {len(guide.steps)} steps")
    if item.kind == "outro":
        return SegmentSpec(**common, title="You're done", subtitle=item.caption[:80])
    if path is None:  # a step written by hand, without a screenshot: a card
        return SegmentSpec(**common, title=item.chapter.split(":")[0], subtitle=item.caption[:80])
    hl = item.highlight
    return SegmentSpec(**common, highlight=(hl.x, hl.y, hl.width, hl.height) if hl else None,
                       image_size=tuple(item.image_size) if item.image_size else size, action=item.action,
                       cursor_from=cursor)
