"""Bad input to `guidecast narrate`: one clear line naming the step and file, a non-zero exit, no traceback,
and the previously published video untouched."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from guidecast.composer.guide import load_guide, save_guide
from guidecast.kernel.files import sha256_file
from guidecast.narration import voice_piper
from guidecast.narration.manifest import load_manifest
from guidecast.narration.media import probe
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.samples.synthetic_guide import make_guide
from tests.conftest import REPO, requires_ffmpeg
from tests.test_cli_errors import assert_clean_error, run_cli

pytestmark = [requires_ffmpeg, pytest.mark.video]


def narrate_cli(guide: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli("narrate", str(guide), "-o", str(out), "--cache-dir", str(out.parent / "cache"), *extra, env=env)


def edit_step(guide: Path, index: int, **changes) -> None:
    g = load_guide(guide)
    for k, v in changes.items():
        setattr(g.steps[index], k, v)
    save_guide(g, guide)


@pytest.fixture
def guide(tmp_path) -> Path:
    return make_guide(tmp_path / "guide", steps=3)


def test_empty_narration_names_the_step(guide, tmp_path):
    edit_step(guide, 1, text="** **")
    err = assert_clean_error(narrate_cli(guide, tmp_path / "video", "--engine", "silent"),
                             "step 2 ('step-2')", "narration text is empty", str(guide / "guide.json"))
    assert err.count("\n") <= 2
    assert not (tmp_path / "video").exists()


def test_text_in_a_script_the_voice_lacks_names_step_and_remedy(guide, tmp_path):
    edit_step(guide, 2, narration="Нажмите кнопку «Сохранить».")
    assert_clean_error(narrate_cli(guide, tmp_path / "video", "--engine", "pyttsx3"), "step 3 ('step-3')", "Cyrillic",
                       "gmw/en", "--language")
    # the neural voice (the default when installed) says the same of its voice
    assert_clean_error(narrate_cli(guide, tmp_path / "video"), "step 3 ('step-3')", "Cyrillic", "--language",
                       "en_US-joe-medium" if voice_piper.installed() else "gmw/en")
    assert not (tmp_path / "video").exists()


def test_missing_screenshot(guide, tmp_path):
    (guide / "images/003-step.png").unlink()
    assert_clean_error(narrate_cli(guide, tmp_path / "video", "--engine", "silent"),
                       "003-step.png", "step 3 ('step-3')", "missing", "compose the guide again")


def test_corrupt_screenshot(guide, tmp_path):
    (guide / "images/002-step.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    assert_clean_error(narrate_cli(guide, tmp_path / "video", "--engine", "silent"),
                       "002-step.png", "step 2 ('step-2')", "not a readable image")


def test_truncated_screenshot_fails_while_rendering_and_publishes_nothing(guide, tmp_path):
    png = (guide / "images/002-step.png").read_bytes()
    (guide / "images/002-step.png").write_bytes(png[: len(png) // 2])
    assert_clean_error(narrate_cli(guide, tmp_path / "video", "--engine", "silent"),
                       "002-step.png", "step 2 ('step-2')", "cannot be read")
    assert not (tmp_path / "video").exists()
    leftovers = [p.name for p in (tmp_path / "cache" / "segments").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_damaged_cached_speech_is_voiced_again(guide, tmp_path):
    narrate_guide(guide, tmp_path / "video", engine="silent", cache_dir=tmp_path / "cache")
    clip = sorted((tmp_path / "cache" / "speech").glob("*.wav"))[0]
    clip.write_bytes(clip.read_bytes()[:300])
    report = RenderReport()
    m = narrate_guide(guide, tmp_path / "video", engine="silent", cache_dir=tmp_path / "cache", report=report)
    assert len(report.voiced) == 1 and not report.rendered
    with wave.open(str(clip)) as w:
        assert w.getnframes() > 10000
    assert m.duration > 0


def test_interrupted_render_keeps_the_old_video_and_the_rerun_reuses_finished_segments(tmp_path):
    guide = make_guide(tmp_path / "guide", steps=12)
    out = tmp_path / "video"
    assert narrate_cli(guide, out, "--engine", "silent").returncode == 0
    published = {p.name: sha256_file(p) for p in out.iterdir()}
    g = load_guide(guide)
    for st in g.steps:
        st.text += " Then wait a moment."
    save_guide(g, guide)
    segs = tmp_path / "cache" / "segments"
    count = lambda: sum(1 for p in segs.glob("*.mp4") if not p.name.startswith("."))  # noqa: E731
    start = count()
    proc = subprocess.Popen([sys.executable, "-m", "guidecast", "--quiet", "narrate", str(guide), "-o", str(out),
                             "--cache-dir", str(tmp_path / "cache"), "--engine", "silent", "--jobs", "1"],
                            cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while count() < start + 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = count() - start
    assert 3 <= finished < 13, "killed in the middle of rendering"
    assert {p.name: sha256_file(p) for p in out.iterdir()} == published, "the published video changed"
    rerun = narrate_cli(guide, out, "--engine", "silent")
    assert rerun.returncode == 0, rerun.stderr
    rendered, reused = map(int, re.search(r"segments: (\d+) rendered, (\d+) reused", rerun.stdout).groups())
    assert rendered + reused == 14 and reused >= finished + 2  # the finished ones, and intro and outro
    assert not [p for p in segs.iterdir() if p.name.startswith(".")], "scratch files of the killed run remain"
    assert sha256_file(out / "guide.mp4") != published["guide.mp4"]
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out / "guide.mp4"), "-f", "null", "-"],
                            capture_output=True, text=True)
    assert decode.returncode == 0 and not decode.stderr, "segments finished before the kill are whole"
    assert float(probe(out / "guide.mp4")["format"]["duration"]) == pytest.approx(load_manifest(out).duration, abs=0.05)
