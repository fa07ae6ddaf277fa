"""The narrated video as ffprobe and decoded frames see it: codecs, chapters, captions, A/V sync at every
segment boundary, the zoom toward the target, the cursor. Real ffmpeg; a synthetic guide (no browser)."""
from __future__ import annotations

import json
import math
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guidecast.kernel.files import sha256_file
from guidecast.kernel.paths import resolve_recorded
from guidecast.narration import motion
from guidecast.narration.manifest import RenderSettings, load_manifest
from guidecast.narration.media import probe
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.narration.tts import SAMPLE_RATE, EngineBase, write_wav
from guidecast.samples.synthetic_guide import header_colour, make_guide
from tests.conftest import requires_ffmpeg

pytestmark = [requires_ffmpeg, pytest.mark.video]
FPS = 25
STEPS = 6


class ToneEngine(EngineBase):
    """A beep as long as the words would take: real audio whose onset is easy to find."""

    name = cache_id = "tone"

    def render(self, text, voice, rate, out: Path) -> None:
        seconds = max(0.8, len(text.split()) / ((rate or 170) / 60.0))
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        write_wav(out, (0.3 * np.sin(2 * math.pi * 440 * t) * 32767).astype("<i2").tobytes())


def decode_frames(video: Path, size=(160, 90)) -> np.ndarray:
    """Every frame the viewer sees at 25 fps, small, as RGB arrays."""
    w, h = size
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", f"fps={FPS},scale={w}:{h}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)


def frame_at(video: Path, t: float) -> np.ndarray:
    """The picture on screen at `t` (a held picture started before `t`: `-ss` would skip to the next one)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", f"fps={FPS},select=eq(n\\,{int(t * FPS)})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(720, 1280, 3)


def decode_audio(video: Path) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:a", "-f", "s16le", "-ac", "1",
                          "-ar", str(SAMPLE_RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, "<i2").astype(np.float64) / 32768


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    def sec(ts: str) -> float:
        h, m, s = ts.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    return [(sec(a), sec(b), t) for a, b, t in
            re.findall(r"^(\d\d:\d\d:\d\d[.,]\d{3}) --> (\d\d:\d\d:\d\d[.,]\d{3})\n(.+)$", text, re.M)]


def highlight_pixels(frame: np.ndarray) -> int:
    """The highlight's orange outline and its light orange tint."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 80) & (r - b > 30)).sum())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("narrated")
    guide = make_guide(root / "guide", steps=STEPS)
    calls, report = [], RenderReport()
    m = narrate_guide(guide, root / "video", engine=ToneEngine(), cache_dir=root / "cache",
                      progress=lambda *a: calls.append(a), report=report)
    return guide, root / "video", m, calls, report


def test_mp4_has_h264_aac_subtitles_an_intro_chapter_and_one_chapter_per_step(rendered):
    _, video, m, _, _ = rendered
    info = probe(video / "guide.mp4")
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1280, 720)
    assert streams["audio"]["codec_name"] == "aac"
    assert streams["subtitle"]["codec_name"] == "mov_text"
    total = sum(s.duration for s in m.segments)
    assert abs(float(info["format"]["duration"]) - total) < 0.1
    assert abs(float(streams["video"]["duration"]) - total) < 0.1
    steps = [s for s in m.segments if s.kind == "step"]
    chapters = info["chapters"]
    assert len(chapters) == STEPS + 1 and chapters[0]["tags"]["title"] == "Introduction"
    assert [float(c["start_time"]) for c in chapters] == pytest.approx([0.0] + [s.start for s in steps], abs=1e-3)
    assert chapters[3]["tags"]["title"] == "Step 3: In Amount, enter “128.50”."
    data = (video / "guide.mp4").read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "faststart: the index comes first"


def test_segments_last_their_narration_plus_a_pause_in_whole_frames(rendered):
    _, _, m, _, _ = rendered
    t = 0.0
    for s in m.segments:
        assert s.start == pytest.approx(t, abs=1e-6)
        assert s.frames == round((s.audio_duration + m.settings.pause) * FPS)
        assert s.duration == pytest.approx(s.frames / FPS)
        t += s.duration


def test_audio_and_video_change_together_at_every_segment_boundary(rendered):
    _, video, m, _, _ = rendered
    frames = decode_frames(video / "guide.mp4")
    assert len(frames) == pytest.approx(round(m.duration * FPS), abs=1)
    audio = decode_audio(video / "guide.mp4")
    header = lambda k: frames[k, 1:5, 40:150].reshape(-1, 3).mean(axis=0)  # noqa: E731 - top bar of the page
    for i, seg in enumerate(m.segments[1:], 1):
        k = round(seg.start * FPS)
        before, after = frames[k - 1].astype(int), frames[k].astype(int)
        if seg.kind != "step" or m.segments[i - 1].kind != "step":  # to or from a title card
            assert np.abs(after - before).mean() > 8, f"{seg.id}: the picture does not change at {seg.start}s"
        if seg.kind == "step":  # each page has its own header colour
            n = int(seg.id.split("-")[1]) - 1
            assert np.abs(header(k) - header_colour(n)).max() < 24, f"{seg.id} starts late"
            assert np.abs(header(k - 1) - header_colour(n)).max() > 40, f"{seg.id} starts early"
        # the tone of this segment starts at its first frame; the previous one ended in a pause
        a = round(seg.start * SAMPLE_RATE)
        loud = np.flatnonzero(np.abs(audio[a - SAMPLE_RATE // 5:a + SAMPLE_RATE // 5]) > 0.02)
        onset = (a - SAMPLE_RATE // 5 + loud[0]) / SAMPLE_RATE
        assert abs(onset - seg.start) < 1 / FPS, f"{seg.id}: audio starts at {onset:.3f}s, video at {seg.start}s"
    assert len(audio) / SAMPLE_RATE == pytest.approx(m.duration, abs=0.05)


def test_a_step_zooms_toward_its_target_with_the_cursor_on_it(rendered):
    guide, video, m, _, _ = rendered
    seg = next(s for s in m.segments if s.id == "step-6")  # a small target: the Submit button
    tl = motion.step_timeline(seg.frames, FPS, True, "check")
    first = frame_at(video / "guide.mp4", seg.start + 0.01)
    held = next(k for k, s in enumerate(tl.shots) if s.hold > 1 and s.rung == len(tl.ladder) - 1)
    t_zoomed = seg.start + (sum(s.hold for s in tl.shots[:held]) + 2) / FPS
    zoomed = frame_at(video / "guide.mp4", t_zoomed)
    assert highlight_pixels(zoomed) > 3 * highlight_pixels(first) > 0, "the target is larger when zoomed in"
    hl = seg.highlight
    view = motion.target_view((1280, 720), motion.Rect(hl.x, hl.y, hl.width, hl.height))
    cx, cy = (round(v) for v in motion.to_frame((hl.x + hl.width / 2, hl.y + hl.height / 2), view, (1280, 720)))
    near = zoomed[cy:cy + 30, cx:cx + 20].astype(int).sum(axis=2)
    assert (near < 150).sum() > 40, "the (dark) cursor points at the target's centre"
    # the picture at the start is the whole screenshot (plus the cursor)
    shot = np.asarray(Image.open(guide / "images/006-step.png").convert("RGB"), dtype=int)
    assert (np.abs(first.astype(int) - shot).max(axis=2) > 60).mean() < 0.01


def test_colours_are_tagged_bt709_and_come_through_unshifted(rendered):
    guide, video, m, _, _ = rendered
    v = next(s for s in probe(video / "guide.mp4")["streams"] if s["codec_type"] == "video")
    assert (v.get("color_range"), v.get("color_space"), v.get("color_primaries"), v.get("color_transfer")) == \
        ("tv", "bt709", "bt709", "bt709")
    seg = next(s for s in m.segments if s.id == "step-1")
    first = frame_at(video / "guide.mp4", seg.start + 0.01).astype(int)
    shot = np.asarray(Image.open(guide / "images/001-step.png").convert("RGB"), dtype=int)
    diff = np.abs(first - shot)  # rounding only (a colour conversion on the way shifts the median to 4)
    assert np.median(diff) <= 2 and diff.mean() < 2.5


def test_captions_and_chapters_match_the_segments(rendered):
    _, video, m, _, _ = rendered
    want = [t for s in m.segments for t in (s.start, s.start + s.duration)]
    for name in ("guide.vtt", "guide.srt"):
        cues = vtt_cues((video / name).read_text())
        assert [t for a, b, _ in cues for t in (a, b)] == pytest.approx(want, abs=1e-3), name
        assert [c[2] for c in cues] == [s.caption for s in m.segments]
    embedded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video / "guide.mp4"), "-map", "0:s", "-f", "srt", "-"],
                              capture_output=True, text=True, check=True).stdout
    assert [t for a, b, _ in vtt_cues(embedded) for t in (a, b)] == pytest.approx(want, abs=1e-3)
    chapters = vtt_cues((video / "chapters.vtt").read_text())
    # the intro is its own chapter; step 1's starts where step 1 does
    assert len(chapters) == STEPS + 1 and chapters[-1][1] == pytest.approx(m.duration)
    assert chapters[0][0] == 0 and chapters[0][2] == "Introduction"
    assert m.segments[1].start > 0 and chapters[1][0] == pytest.approx(m.segments[1].start, abs=1e-3)
    assert chapters[1][2].startswith("Step 1: ")
    assert chapters[2][2] == "Step 2: In Description, enter “Team offsite train tickets”."


def test_progress_is_monotonic_and_ends_complete(rendered):
    calls = rendered[3]
    done = [c[0] for c in calls]
    assert done == sorted(done) and len({c[1] for c in calls}) == 1
    assert calls[-1][0] == calls[-1][1]
    whats = " | ".join(c[2] for c in calls)
    assert "voicing step 1 ('step-1')" in whats and "joining the video" in whats


def test_manifest_poster_and_report(rendered):
    guide, video, m, _, report = rendered
    again = load_manifest(video)
    assert again == m and again.engine == "tone" and again.guide_dir == "../guide"  # relative: the two move together
    assert resolve_recorded(again.guide_dir, video) == guide.resolve()
    assert [s.id for s in m.segments] == ["intro"] + [f"step-{i}" for i in range(1, STEPS + 1)] + ["outro"]
    assert m.segments[1].image_sha256 == sha256_file(guide / "images/001-step.png")
    assert len({s.segment_sha256 for s in m.segments}) == len(m.segments)
    assert sorted(report.rendered) == sorted(s.id for s in m.segments) and not report.reused
    poster = Image.open(video / "poster.png")
    assert poster.size == (1280, 720)
    assert np.abs(np.asarray(poster, dtype=int) - np.asarray(Image.open(guide / "images/001-step.png"), dtype=int)).max() < 3
    assert json.loads((video / "video.json").read_text())["schema_version"] == 2


def test_full_hd_option(tmp_path):
    guide = make_guide(tmp_path / "guide", steps=2)
    m = narrate_guide(guide, tmp_path / "video", engine="silent", settings=RenderSettings(width=1920, height=1080),
                      cache_dir=tmp_path / "cache")
    v = next(s for s in probe(tmp_path / "video" / "guide.mp4")["streams"] if s["codec_type"] == "video")
    assert (v["width"], v["height"]) == (1920, 1080)
    assert abs(float(v["duration"]) - m.duration) < 0.1
    with wave.open(str(next((tmp_path / "cache" / "speech").glob("*.wav"))), "rb") as w:
        assert (w.getframerate(), w.getnchannels()) == (SAMPLE_RATE, 1)
