"""Narration without video: the script, pronunciation, writing systems, loudness, motion, captions, pictures."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PIL import Image

from guidecast.narration import motion
from guidecast.narration.captions import srt, webvtt
from guidecast.narration.languages import scripts_in, unreadable_script
from guidecast.narration.loudness import integrated_loudness, normalise
from guidecast.narration.planes import planes_of, raw_bytes
from guidecast.narration.pronounce import spoken
from guidecast.narration.script import build_script
from guidecast.samples.synthetic_guide import make_guide


@pytest.mark.parametrize("text, said", [
    ("Click **Save**.", "Click Save."),
    ("In **Email**, enter “alex.morgan@example.com”.", "In Email, enter alex dot morgan at example dot com."),
    ("In **Amount**, enter “128.50”.", "In Amount, enter 128 point 50."),
    ("Pay $128.50 now.", "Pay 128 dollars and 50 cents now."),
    ("It costs €1,234 or £1.05.", "It costs 1234 euros or 1 pound and 5 pence."),
    ("Enter 0.05 as the rate.", "Enter 0 point 0 5 as the rate."),
    ("In **Date**, enter “2026-11-14”.", "In Date, enter November 14, 2026."),
    ("Upload the PDF, e.g. a scan of the receipt.", "Upload the P D F, for example a scan of the receipt."),
    ("Copy the URL and your ID.", "Copy the U R L and your I D."),
    ("Open Settings > Team & roles.", "Open Settings, then Team and roles."),
    ("A 15% discount applies.", "A 15 percent discount applies."),
    ("Version 1.2.3 stays as it is.", "Version 1.2.3 stays as it is."),
    ("Go to https://app.example.com/expenses.", "Go to app dot example dot com slash expenses."),
    ("Click OK.", "Click okay."),
    ("Press Ctrl+S, or Cmd + Shift + k.", "Press Control S, or Command Shift K."),
    ("The meeting starts at 9:05, ends at 14:30 and the office opens at 8:00 AM.",
     "The meeting starts at 9 oh 5, ends at 14 30 and the office opens at 8 A M."),
    ("Check in at 10:00, or at 4:15 p.m.", "Check in at 10 o'clock, or at 4 15 P M."),
    ("Due 12/31/2026 or 31/12/2026; 3/4/2026 stays.", "Due December 31, 2026 or 31 December 2026; 3/4/2026 stays."),
])
def test_spoken_text_reads_ui_names_numbers_and_abbreviations(text, said):
    assert spoken(text) == said


def test_the_lexicon_says_names_its_way_whole_words_any_case_longest_first():
    lexicon = {"Expensely": "Expense-lee", "SSO": "single sign-on", "Expensely Pro": "Expense-lee Pro"}
    assert spoken("Open **Expensely**, then expensely's SSO page.", lexicon) == \
        "Open Expense-lee, then Expense-lee's single sign-on page."
    assert spoken("Buy Expensely Pro, not Expenselyx.", lexicon) == "Buy Expense-lee Pro, not Expenselyx."
    assert spoken("Nothing to change.", lexicon) == spoken("Nothing to change.")


def test_script_has_intro_steps_and_outro_with_narration_overrides(tmp_path):
    from guidecast.composer.guide import load_guide, save_guide

    folder = make_guide(tmp_path / "g", steps=3)
    guide = load_guide(folder)
    guide.steps[1].narration = "Type the amount, e.g. $12.50."
    save_guide(guide, folder)
    script = build_script(load_guide(folder))
    assert [it.kind for it in script] == ["intro", "step", "step", "step", "outro"]
    assert script[0].text.startswith("Submit an expense report. In this guide")
    assert script[1].text == "Click New expense." and script[1].caption == "Click New expense."
    assert script[2].text == "Type the amount, for example 12 dollars and 50 cents."
    assert script[2].caption == "In Description, enter “Team offsite train tickets”."  # as written
    assert script[2].where == "step 2 ('step-2')" and script[2].highlight is not None
    assert script[-1].text == guide.outro


def test_writing_systems_of_texts_and_voices():
    assert scripts_in("Click Save") == ["LATIN"]
    assert scripts_in("Нажмите Save") == ["CYRILLIC", "LATIN"]
    assert unreadable_script("Нажмите кнопку", "en") == "Cyrillic"
    assert unreadable_script("Нажмите кнопку Save", "ru") is None
    assert unreadable_script("点击保存", "en-us") == "Chinese characters"
    assert unreadable_script("点击保存", "cmn") is None
    assert unreadable_script("Klicken Sie auf Speichern, 12 €", "de") is None


def _tone(seconds: float, rate: int, amp: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * math.pi * freq * t)


def test_loudness_matches_the_standard_and_normalises_to_target():
    rate = 48000
    # BS.1770: a 997 Hz sine at -20 dBFS (peak amplitude 0.1 ... *sqrt2 for RMS) reads about -23 LUFS + 3
    x = _tone(5, rate, 10 ** (-20 / 20), 997.0)
    assert integrated_loudness(x, rate) == pytest.approx(-23.0, abs=0.3)
    assert integrated_loudness(np.zeros(rate), rate) == float("-inf")
    quiet = (np.concatenate([_tone(2, 24000, 0.05), np.zeros(24000)]) * 32767).astype("<i2").tobytes()
    out = np.frombuffer(normalise(quiet, 24000), dtype="<i2") / 32768
    assert integrated_loudness(out, 24000) == pytest.approx(-16.0, abs=0.5)
    assert np.abs(out).max() <= 10 ** (-1.5 / 20) + 1e-3


def test_step_timeline_zooms_in_clicks_holds_and_zooms_back_out():
    tl = motion.step_timeline(90, 25, has_target=True, action="click")
    assert tl.frames == 90
    rungs = [s.rung for s in tl.shots]
    top = len(tl.ladder) - 1
    assert rungs[0] == 0 and rungs[-1] == 0 and top in rungs
    peak = rungs.index(top)
    assert rungs[:peak + 1] == sorted(rungs[:peak + 1])  # in, monotonically
    back = [r for r in rungs[peak:]]
    assert back == sorted(back, reverse=True)  # and out again
    assert any(s.ripple is not None for s in tl.shots)
    assert tl.shots[0].cursor == 0.0 and tl.shots[-1].cursor == 1.0
    assert max(s.hold for s in tl.shots) >= 40  # the narration runs over one held picture
    # short segments shrink the motion; very short ones are stills; no target, no motion
    for frames in (12, 20, 33):
        assert motion.step_timeline(frames, 25, True, "click").frames == frames
    assert len(motion.step_timeline(8, 25, True, "click").shots) == 1
    assert motion.step_timeline(60, 25, False, "goto").shots == (motion.Shot(0, None, None, False, 60),)
    assert not any(s.ripple is not None for s in motion.step_timeline(60, 25, True, "hover").shots)


def test_target_view_keeps_the_frame_aspect_and_stays_inside():
    stage = (1280, 720)
    v = motion.target_view(stage, motion.Rect(1200, 690, 40, 20))
    assert v.w / v.h == pytest.approx(1280 / 720)
    assert 1280 / v.w == pytest.approx(motion.ZOOM_MAX)
    assert v.x + v.w <= 1280 + 1e-6 and v.y + v.h <= 720 + 1e-6
    big = motion.target_view(stage, motion.Rect(0, 0, 1200, 700))
    assert (big.w, big.h) == (1280, 720)  # a target that fills the page: no zoom


def test_caption_files_have_exact_cue_times():
    cues = [(0.0, 2.48, "Intro"), (2.48, 3661.5, "Click Save --> now")]
    vtt = webvtt(cues)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:02.480 --> 01:01:01.500" in vtt and "Save -> now" in vtt
    assert re.search(r"^2\n00:00:02,480 --> 01:01:01,500\nClick Save --> now$", srt(cues), re.M)


def test_planes_bytes_and_motion_sampling():
    rng = np.random.default_rng(7)
    for w, h in ((1280, 720), (7, 3), (1, 1)):
        img = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
        assert raw_bytes(img) == img.tobytes()
    # a page-like picture: a moving (passing) picture sampled from the 2x luma is close to resampling it
    page = np.full((360, 640, 3), 246, np.uint8)
    page[40:44, 20:600] = (30, 41, 59)
    page[100:140:3, 50:500] = (170, 175, 185)
    p = planes_of(Image.fromarray(page))
    fine = p.y.resize((1280, 720), Image.Resampling.BILINEAR)
    box = (100.3, 50.7, 100.3 + 411.2, 50.7 + 231.3)
    a, b = p.region(box, (640, 360), passing=True), p.passing(fine, box, (640, 360))
    assert a.size == b.size == (640, 360)
    mse = ((np.asarray(a.y, float) - np.asarray(b.y, float)) ** 2).mean()
    assert 10 * math.log10(255 ** 2 / mse) > 36
    assert np.array_equal(np.asarray(a.cb), np.asarray(b.cb))
