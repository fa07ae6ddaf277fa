"""Versioned, incremental re-rendering: one edited step re-voices and re-renders that step only, the rest
of the video is reused byte for byte; `guidecast status` says what went stale and why."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.composer.guide import load_guide, save_guide
from guidecast.kernel.files import sha256_file
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.narration.video_status import video_status
from guidecast.samples.synthetic_guide import make_guide, screenshot
from tests.conftest import requires_ffmpeg
from tests.test_narration_video import FPS, decode_frames

pytestmark = [requires_ffmpeg, pytest.mark.video]
NEW_TEXT = "In **Amount**, enter the total of the receipt, including tax and the tip, as one number."


def _segment_files(root, m):
    return {s.id: root / "cache" / "segments" / f"{s.segment_sha256}.mp4" for s in m.segments}


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """A guide rendered, then its step 3 text edited and rendered again into the same folder."""
    root = tmp_path_factory.mktemp("incremental")
    guide = make_guide(root / "guide", steps=5)
    first = narrate_guide(guide, root / "video", engine="silent", cache_dir=root / "cache")
    shutil.copytree(root / "video", root / "video-v1")
    files = _segment_files(root, first)
    before = {k: (sha256_file(p), p.stat().st_mtime_ns) for k, p in files.items()}
    g = load_guide(guide)
    g.steps[2].text = NEW_TEXT
    g.id = "guide-edited"
    save_guide(g, guide)
    stale = video_status(root / "video")
    report = RenderReport()
    second = narrate_guide(guide, root / "video", engine="silent", cache_dir=root / "cache", report=report)
    return root, first, second, before, stale, report


def test_editing_one_step_revoices_and_rerenders_only_that_step(versions):
    root, first, second, before, _, report = versions
    assert report.voiced == ["step-3"] and report.rendered == ["step-3"]
    assert sorted(report.reused) == sorted(s.id for s in first.segments if s.id != "step-3")
    old, new = {s.id: s for s in first.segments}, {s.id: s for s in second.segments}
    for sid, p in _segment_files(root, second).items():
        if sid == "step-3":
            assert new[sid].segment_sha256 != old[sid].segment_sha256
            continue
        assert new[sid].segment_sha256 == old[sid].segment_sha256
        assert (sha256_file(p), p.stat().st_mtime_ns) == before[sid], f"{sid} was rewritten"
    assert new["step-3"].duration > old["step-3"].duration
    assert second.guide_id == "guide-edited" and first.guide_id != second.guide_id


def test_the_new_video_differs_only_in_the_edited_steps_time_range(versions):
    root, first, second, _, _, _ = versions
    a = decode_frames(root / "video-v1" / "guide.mp4")
    b = decode_frames(root / "video" / "guide.mp4")
    old = next(s for s in first.segments if s.id == "step-3")
    new = next(s for s in second.segments if s.id == "step-3")
    start = round(old.start * FPS)
    assert round(new.start * FPS) == start
    old_end, new_end = start + old.frames, start + new.frames
    assert np.array_equal(a[:start], b[:start]), "frames before the edited step changed"
    assert np.array_equal(a[old_end:], b[new_end:]), "frames after the edited step changed"
    assert len(b) - len(a) == new.frames - old.frames > 0


def test_status_names_the_stale_step_and_is_current_after_rerender(versions):
    root, _, _, _, stale, _ = versions
    assert not stale.current
    assert [(c.id, c.number, c.what) for c in stale.changes] == [("step-3", 3, ["text"])]
    assert "stale" in stale.lines()[0] and "step 3 'step-3': text" in stale.lines()[1]
    now = video_status(root / "video")
    assert now.current and now.changes == [] and now.lines()[0].startswith("current:")


def test_status_reports_screenshots_highlights_added_removed_and_moved_steps(tmp_path):
    guide = make_guide(tmp_path / "guide", steps=4)
    narrate_guide(guide, tmp_path / "video", engine="silent", cache_dir=tmp_path / "cache")
    g = load_guide(guide)
    png, _ = screenshot(7)
    (guide / g.steps[0].image).write_bytes(png)  # step 1: a new screenshot
    g.steps[1].highlight = g.steps[1].highlight.model_copy(update={"x": 10.0})  # step 2: another target
    removed = g.steps.pop(3)  # step 4 gone
    added = g.steps[0].model_copy(update={"id": "check-receipt", "text": "Check the receipt."})
    g.steps = [g.steps[2], g.steps[0], g.steps[1], added]  # step 3 moved to the top, one added
    save_guide(g, guide)
    st = video_status(tmp_path / "video", guide)
    changes = {c.id: c.what for c in st.changes}
    assert not st.current
    assert changes["step-1"] == ["screenshot"]
    assert "highlight" in changes["step-2"]
    assert changes[removed.id] == ["removed"] and changes["check-receipt"] == ["added"]
    assert "moved" in changes["step-3"]
    (tmp_path / "video" / "guide.mp4").unlink()
    assert "the video file is missing" in video_status(tmp_path / "video", guide).lines()[1]


def test_status_command_exit_codes_and_json(versions, tmp_path):
    root = versions[0]
    runner = CliRunner()
    ok = runner.invoke(cli, ["status", str(root / "video")])
    assert ok.exit_code == 0 and ok.output.startswith("current:")
    v1 = runner.invoke(cli, ["status", str(root / "video-v1"), "--guide", str(root / "guide"), "--json"])
    assert v1.exit_code == 1
    data = json.loads(v1.output)
    assert data["current"] is False and data["changes"][0]["id"] == "step-3"
    missing = runner.invoke(cli, ["status", str(root / "video"), "--guide", str(tmp_path)])
    assert missing.exit_code == 2 and "no guide here" in missing.output  # one line, no traceback
    assert missing.output.startswith("error: ") and "Traceback" not in missing.output
