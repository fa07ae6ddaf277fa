"""End to end: the sample workflow recorded in Chromium becomes a guide and a narrated video."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guidecast.capture.bundle import load_capture
from guidecast.composer.guide import load_guide
from guidecast.kernel.markup import plain
from guidecast.narration.manifest import load_manifest
from guidecast.narration.media import probe
from tests.conftest import REPO, requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]


@pytest.fixture(scope="module")
def built(tmp_path_factory, submit_expense_workflow) -> Path:
    """`guidecast build` through the real console entry point, the default voice (the neural one, which `make
    setup` installs), sample app started by the CLI."""
    out = tmp_path_factory.mktemp("build") / "expense"
    proc = subprocess.run(
        [sys.executable, "-m", "guidecast", "--quiet", "build", str(submit_expense_workflow), "-o", str(out),
         "--sample-app", "base"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out / "video" / "guide.mp4") in proc.stdout
    return out


def test_capture_records_semantics_for_every_step(built):
    cap = load_capture(built / "capture")
    assert [s.id for s in cap.steps][:3] == ["enter-email", "enter-password", "sign-in"]
    sign_in = cap.steps[2]
    assert (sign_in.element.role, sign_in.element.name) == ("button", "Sign in")
    category = next(s for s in cap.steps if s.id == "choose-category")
    assert category.element.role == "combobox" and category.element.name == "Category"
    for s in cap.steps:
        assert s.element is not None and s.element.box.width > 0, s.id
        assert (built / "capture" / "screenshots" / s.screenshot).exists()
    assert cap.final_title == "Expense submitted · Expensely"
    assert re.search(r"/expenses/\d+$", cap.final_url)
    # the password is a secret: never stored
    assert cap.steps[1].value is None and cap.steps[1].value_redacted
    assert "demo-password" not in (built / "capture" / "capture.json").read_text()


def test_highlight_is_drawn_inside_the_recorded_box(built):
    cap = load_capture(built / "capture")
    guide = load_guide(built / "guide")
    for cs, gs in zip(cap.steps, guide.steps, strict=True):
        raw = np.asarray(Image.open(built / "capture" / "screenshots" / cs.screenshot).convert("RGB"), dtype=int)
        ann = np.asarray(Image.open(built / "guide" / gs.image).convert("RGB"), dtype=int)
        b = cs.element.box_device
        x0, y0 = int(b.x) + 1, int(b.y) + 1
        x1, y1 = int(b.x + b.width) - 1, int(b.y + b.height) - 1
        inside = np.abs(raw[y0:y1, x0:x1] - ann[y0:y1, x0:x1]).sum(axis=2)
        assert (inside > 0).mean() > 0.9, f"{cs.id}: highlight not drawn inside the box"
        # far away from the box the picture is untouched
        corner = (0, 0, 40, 40) if b.x > 120 or b.y > 120 else (raw.shape[1] - 40, raw.shape[0] - 40, raw.shape[1], raw.shape[0])
        cx0, cy0, cx1, cy1 = corner
        assert np.array_equal(raw[cy0:cy1, cx0:cx1], ann[cy0:cy1, cx0:cx1]), cs.id


def test_html_and_markdown_contain_every_step(built):
    guide = load_guide(built / "guide")
    html = (built / "guide" / "guide.html").read_text()
    md = (built / "guide" / "guide.md").read_text()
    assert "Click <strong>Sign in</strong>." in html
    assert "Click **Sign in**." in md
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == len(guide.steps)
    for st in guide.steps:
        assert plain(st.text).split("“")[0].strip() in re.sub(r"<[^>]+>", "", html), st.id
        assert f"]({st.image})" in md, st.id
        assert (built / "guide" / st.image).exists()
        # every embedded image decodes
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        import base64

        Image.open(io.BytesIO(base64.b64decode(uri))).verify()


def test_video_has_one_video_and_one_audio_stream_of_the_narrated_length(built):
    m = load_manifest(built / "video")
    info = probe(built / "video" / "guide.mp4")
    kinds = [s["codec_type"] for s in info["streams"]]
    assert kinds.count("video") == 1 and kinds.count("audio") == 1
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert (video["width"], video["height"]) == (1280, 720)
    duration = float(info["format"]["duration"])
    spoken = sum(s.audio_duration + m.settings.pause for s in m.segments)
    assert abs(duration - spoken) < 0.5
    assert all(s.audio_duration > 0.3 for s in m.segments), "real speech expected from the neural voice"
    assert (m.engine, m.voice) == ("piper", "en_US-joe-medium")


def test_captions_have_one_cue_per_step(built):
    guide = load_guide(built / "guide")
    vtt = (built / "video" / "guide.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    cues = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)$", vtt, re.M)
    texts = [c[2] for c in cues]
    for st in guide.steps:
        assert texts.count(plain(st.text)) == 1, st.id
    assert len(cues) == len(guide.steps) + 2  # plus the intro and the ending


def test_manifest_records_workflow_and_capture(built, submit_expense_workflow):
    import hashlib

    manifest = json.loads((built / "manifest.json").read_text())
    want = hashlib.sha256(submit_expense_workflow.read_bytes()).hexdigest()
    assert manifest["workflow"]["sha256"] == want
    assert manifest["capture"]["id"] == load_capture(built / "capture").id
    guide = load_guide(built / "guide")
    assert guide.source.workflow_sha256 == want and guide.source.capture_id == manifest["capture"]["id"]
    video = load_manifest(built / "video")
    assert (video.workflow_sha256, video.capture_id, video.guide_id) == (want, guide.source.capture_id, guide.id)


def test_workflow_hash_changes_with_the_workflow_file(tmp_path, sample_app, submit_expense_workflow):
    from guidecast.capture.replay import capture_workflow

    short = tmp_path / "short.yaml"
    text = submit_expense_workflow.read_text()
    head = text.split("  - id: open-expenses")[0]
    short.write_text(head)
    a = capture_workflow(short, tmp_path / "a", base_url=sample_app.url)
    short.write_text(head.replace("title: Submit an expense report", "title: Sign in to Expensely"))
    b = capture_workflow(short, tmp_path / "b", base_url=sample_app.url)
    assert a.workflow.sha256 != b.workflow.sha256
    assert load_capture(tmp_path / "b").workflow.title == "Sign in to Expensely"
