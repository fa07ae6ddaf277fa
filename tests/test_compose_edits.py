"""The edit layer, guide versions and annotations, on a synthetic capture (no browser: fast)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from fixtures.compose.synthetic import DEFAULT_STEPS, make_capture
from PIL import Image

from guidecast.composer.compose import compose_guide
from guidecast.composer.edits import EditError, EditSet, parse_edits
from guidecast.composer.guide import load_guide
from guidecast.composer.versions import load_version, version_numbers

REPO = Path(__file__).resolve().parent.parent

EDITS = {
    "title": "File an expense",
    "steps": {
        "fill-description": {"text": "In **Description**, say what you paid for.", "narration": "Describe it.",
                             "callouts": [{"kind": "tip", "text": "Copy it from the receipt."}]},
        "open-expenses": {"hidden": True},
        "choose-category": {"crop": {"x": 100, "y": 60, "width": 400, "height": 200}},
        "new-expense": {"zoom": True, "marker": False},
        "sign-in": {"blur": [{"x": 0, "y": 0, "width": 100, "height": 50}]},
    },
    "merge": [{"first": "enter-email", "second": "enter-password"}],
    "split": [{"step": "submit-expense", "texts": ["Click **Submit expense**.", "Wait for the confirmation."]}],
    "move": [{"step": "mark-billable", "after": "fill-description"}],
    "insert": [{"id": "check-receipt", "after": "choose-category", "text": "Check the receipt once more.",
                "callouts": [{"kind": "warning", "text": "Receipts older than 30 days are refused."}]}],
}


@pytest.fixture
def capture(tmp_path) -> Path:
    return make_capture(tmp_path / "capture")


def write_edits(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=int)


def test_compose_without_edits_is_versioned_and_stable(capture, tmp_path):
    out = tmp_path / "guide"
    g1 = compose_guide(capture, out)
    assert g1.version == 1 and g1.previous_version is None and g1.edits_sha256 is None
    assert [s.id for s in g1.steps] == [s[0] for s in DEFAULT_STEPS]
    assert g1.capture_step_ids == [s[0] for s in DEFAULT_STEPS]
    assert not any(s.is_new for s in g1.steps) and g1.conflicts == []
    g2 = compose_guide(capture, out)
    assert (g2.id, g2.version) == (g1.id, 1), "same capture and edits: same guide, no new version"
    assert version_numbers(out) == [1]
    assert load_version(out, 1).id == g1.id


def test_every_kind_of_edit_applies(capture, tmp_path):
    out = tmp_path / "guide"
    base = compose_guide(capture, out)
    g = compose_guide(capture, out, edits=write_edits(tmp_path / "edits.yaml", EDITS))
    ids = [s.id for s in g.steps]
    assert ids == ["enter-email", "sign-in", "new-expense", "fill-description", "mark-billable", "choose-category",
                   "check-receipt", "submit-expense", "submit-expense-part-2"]
    assert [s.number for s in g.steps] == list(range(1, 10))
    by = {s.id: s for s in g.steps}
    assert g.title == "File an expense"
    # merge: one step, both sources, both sentences
    assert by["enter-email"].source_ids == ["enter-email", "enter-password"]
    assert by["enter-email"].text == "In **Email**, enter “sam@example.com”. Then in **Password**, enter your password."
    # text, narration, callouts
    d = by["fill-description"]
    assert (d.text, d.narration) == ("In **Description**, say what you paid for.", "Describe it.")
    assert [c.kind for c in d.callouts] == ["tip"] and {"text", "narration", "callouts"} <= set(d.edited)
    # free step: no picture
    free = by["check-receipt"]
    assert free.free and free.image is None and free.callouts[0].kind == "warning"
    # split: the second part shares the picture
    assert by["submit-expense-part-2"].text == "Wait for the confirmation."
    assert by["submit-expense-part-2"].image == by["submit-expense"].image
    # sections recomputed: the Dashboard page is gone with its only step
    sections = [s.section for s in g.steps if s.section]
    assert sections == ["On the **Sign in** page", "On the **Expenses** page", "On the **New expense** page"]
    # crop (CSS px at scale 1): the picture is the cropped size
    assert by["choose-category"].image_size == (400, 200)
    assert by["choose-category"].highlight.x < 100  # moved into the cropped frame
    # zoom keeps the target with context, smaller than the screenshot, same aspect
    zw, zh = by["new-expense"].image_size
    assert zw < 640 and abs(zw / zh - 640 / 360) < 0.02
    # the manual blur changed the top-left corner of sign-in and nothing far from it
    raw = pixels(capture / "screenshots" / load_capture_step(capture, "sign-in").screenshot)
    ann = pixels(out / by["sign-in"].image)
    assert not np.array_equal(raw[0:50, 0:100], ann[0:50, 0:100])
    assert np.array_equal(raw[300:360, 560:640], ann[300:360, 560:640])
    # versions: a new immutable version; the first one kept as it was
    assert (g.version, g.previous_version) == (2, 1) and g.edits_sha256
    assert version_numbers(out) == [1, 2]
    assert load_version(out, 1).id == base.id and load_version(out, 2).id == g.id
    assert (out / "versions" / "2" / "edits.yaml").is_file()
    assert parse_edits((out / "edits.yaml").read_text(), "kept") == EditSet.model_validate(EDITS)
    # composing again without --edits uses the kept edit layer
    assert compose_guide(capture, out).id == g.id


def load_capture_step(capture: Path, sid: str):
    from guidecast.capture.bundle import load_capture

    return next(s for s in load_capture(capture).steps if s.id == sid)


def test_sensitive_fields_are_blurred_on_later_screenshots(capture, tmp_path):
    g = compose_guide(capture, tmp_path / "guide", edits=EditSet.model_validate({"steps": {"sign-in": {"marker": False}}}))
    sign_in = next(s for s in g.steps if s.id == "sign-in")
    raw = pixels(capture / "screenshots" / load_capture_step(capture, "sign-in").screenshot)
    ann = pixels(tmp_path / "guide" / sign_in.image)
    pw = (slice(152, 178), slice(202, 438))  # inside the password field (200,150 240x30)
    assert not np.array_equal(raw[pw], ann[pw]), "password field not blurred"


def test_click_marker_is_drawn_for_clicks_only_and_can_be_turned_off(capture, tmp_path):
    g = compose_guide(capture, tmp_path / "a")
    h = compose_guide(capture, tmp_path / "b", edits=EditSet.model_validate({"steps": {"sign-in": {"marker": False}}}))

    def at_click(guide, root):
        s = next(x for x in guide.steps if x.id == "sign-in")
        b = s.highlight
        from guidecast.composer.annotate import click_point

        x, y = click_point((b.x, b.y, b.x + b.width, b.y + b.height), 1.0)
        return pixels(root / s.image)[int(y) + 6, int(x) + 3]

    assert not np.array_equal(at_click(g, tmp_path / "a"), at_click(h, tmp_path / "b"))


def test_retina_capture_boxes_and_crops_use_the_device_scale(tmp_path):
    cap = make_capture(tmp_path / "cap2x", scale=2.0)
    edits = EditSet.model_validate({"steps": {"choose-category": {"crop": {"x": 100, "y": 60, "width": 400, "height": 200}}}})
    g = compose_guide(cap, tmp_path / "guide", edits=edits)
    email = g.steps[0]
    assert email.image_size == (1280, 720)
    assert email.highlight.x == pytest.approx(200 * 2 - 4 * 2) and email.highlight.width == pytest.approx(240 * 2 + 16)
    assert next(s for s in g.steps if s.id == "choose-category").image_size == (800, 400)
    bad = EditSet.model_validate({"steps": {"sign-in": {"crop": {"x": 500, "y": 0, "width": 200, "height": 100}}}})
    with pytest.raises(EditError, match=r"steps\.sign-in\.crop: .*outside the 640x360 screenshot"):
        compose_guide(cap, tmp_path / "guide", edits=bad)


@pytest.mark.parametrize("edits, message", [
    ({"steps": {"sign-inn": {"text": "x"}}}, r"steps\.sign-inn: unknown step id 'sign-inn' \(did you mean 'sign-in'\?\)"),
    ({"merge": [{"first": "enter-email", "second": "sign-in"}]},
     r"merge\[0\]: 'sign-in' is not right after it \(between them: enter-password\) 'enter-email'"),
    ({"merge": [{"first": "sign-in", "second": "enter-email"}]}, r"merge\[0\]: 'enter-email' comes before 'sign-in'"),
    ({"steps": {"choose-category": {"crop": {"x": 600, "y": 0, "width": 100, "height": 10}}}},
     r"steps\.choose-category\.crop: the box x=600 .* outside the 640x360 screenshot"),
    ({"insert": [{"id": "note-1", "text": "Hi"}], "steps": {"note-1": {"blur": [{"x": 1, "y": 1, "width": 2, "height": 2}]}}},
     r"steps\.note-1\.blur: step 'note-1' has no screenshot of its own"),
    ({"insert": [{"id": "sign-in", "text": "Hi"}]}, r"insert\[0\]\.id: 'sign-in' is a captured step's id"),
    ({"steps": {s[0]: {"hidden": True} for s in DEFAULT_STEPS}}, r"every step is hidden"),
    ({"move": [{"step": "sign-in", "after": "nowhere"}]}, r"move\[0\]: unknown step id 'nowhere'"),
    ({"steps": {"sign-in": {"text": "  "}}}, r"field 'steps\.sign-in\.text'.*must not be empty"),
    ({"steps": {"sign-in": {"colour": "red"}}}, r"field 'steps\.sign-in\.colour': unknown field"),
])
def test_bad_edits_are_refused_naming_file_and_field_and_nothing_is_lost(capture, tmp_path, edits, message):
    out = tmp_path / "guide"
    compose_guide(capture, out)
    before = (out / "guide.json").read_bytes()
    path = write_edits(tmp_path / "edits.yaml", edits)
    with pytest.raises(EditError, match=message) as e:
        compose_guide(capture, out, edits=path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    assert (out / "guide.json").read_bytes() == before
    assert not (out / "edits.yaml").exists()


def test_edits_file_with_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(EditError, match=r"e\.yaml: line 3, column 7: not valid YAML: mapping values"):
        parse_edits("title: ok\nsteps:\n  a: b: c\n", "e.yaml")


def test_recapture_keeps_edits_reports_conflicts_and_marks_new_steps(capture, tmp_path):
    out = tmp_path / "guide"
    edits = {
        "steps": {"fill-description": {"text": "Describe the expense."},
                  "submit-expense": {"text": "Send it.", "callouts": [{"kind": "note", "text": "Pending."}]}},
        "merge": [{"first": "choose-category", "second": "mark-billable"}],
    }
    compose_guide(capture, out, edits=write_edits(tmp_path / "edits.yaml", edits))
    steps = [s for s in DEFAULT_STEPS if s[0] != "submit-expense"]
    k = next(i for i, s in enumerate(steps) if s[0] == "mark-billable")
    steps.insert(k, ("fill-notes", "fill", "textbox", "Notes", "New expense", "/expenses/new", (160, 280, 300, 30),
                     {"value": "Offsite"}))
    steps.append(("save-expense", "click", "button", "Save expense", "New expense", "/expenses/new", (160, 230, 140, 32), {}))
    cap2 = make_capture(tmp_path / "capture2", steps=steps, capture_id="cap-synthetic-2")
    g = compose_guide(cap2, out)
    by = {s.id: s for s in g.steps}
    assert by["fill-description"].text == "Describe the expense." and "text" in by["fill-description"].edited
    assert {s.id for s in g.steps if s.is_new} == {"fill-notes", "save-expense"}
    conflicts = {c.edit for c in g.conflicts}
    assert conflicts == {"steps.submit-expense.text", "steps.submit-expense.callouts", "merge[0]"}
    assert all(c.message for c in g.conflicts)
    assert "submit-expense" in g.retired_step_ids
    assert (g.version, g.previous_version) == (2, 1)
    # the edit layer is untouched: nothing dropped
    assert yaml.safe_load((out / "edits.yaml").read_text()) == edits
    # composing the same capture again (e.g. after another edit) keeps the same marks and conflicts
    again = compose_guide(cap2, out, edits=EditSet.model_validate({**edits, "title": "New title"}))
    assert {s.id for s in again.steps if s.is_new} == {"fill-notes", "save-expense"}
    assert {c.edit for c in again.conflicts} == conflicts and again.version == 3


def test_user_text_is_escaped_and_callout_html_sanitised(capture, tmp_path):
    edits = EditSet.model_validate({
        "title": "<script>alert('t')</script> Guide",
        "steps": {"sign-in": {"text": "Click <script>alert(1)</script> **Sign in**.",
                              "callouts": [{"kind": "tip", "text": 'See <a href="https://x.test/p" onclick="e()">the policy</a>'
                                            '<script>alert(2)</script><img src=x onerror=alert(3)>'}]}}})
    out = tmp_path / "guide"
    compose_guide(capture, out, edits=edits)
    html = (out / "guide.html").read_text()
    md = (out / "guide.md").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Guide</h1>" in html
    assert '<a href="https://x.test/p" rel="noopener noreferrer">the policy</a>' in html
    assert "onclick" not in html and "onerror" not in html and "alert(2)" not in html
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "[the policy](https://x.test/p)" in md


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guidecast", "-q", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


def test_cli_compose_with_edits_and_edit_helpers(capture, tmp_path):
    out = tmp_path / "guide"
    edits = write_edits(tmp_path / "e.yaml", {"steps": {"sign-in": {"text": "Press **Sign in**."}}})
    proc = run_cli("compose", str(capture), "-o", str(out), "--edits", str(edits))
    assert proc.returncode == 0, proc.stderr
    assert "version 1" in proc.stdout
    proc = run_cli("edit", str(out), "--set-text", "new-expense", "Start a **New expense**.", "--hide", "open-expenses",
                   "--callout", "sign-in", "tip", "Use SSO if you can.", "--narration", "sign-in", "Sign in now.")
    assert proc.returncode == 0, proc.stderr
    g = load_guide(out)
    by = {s.id: s for s in g.steps}
    assert "open-expenses" not in by and by["new-expense"].text == "Start a **New expense**."
    assert by["sign-in"].text == "Press **Sign in**." and by["sign-in"].narration == "Sign in now."
    assert by["sign-in"].callouts[-1].text == "Use SSO if you can." and g.version == 2
    listing = run_cli("edit", str(out), "--list").stdout
    assert "hidden: open-expenses" in listing and "new-expense" in listing and "edited: text" in listing
    before = (out / "guide.json").read_bytes()
    assert_clean_error(run_cli("edit", str(out), "--hide", "nope"), "--hide: unknown step id 'nope'")
    bad = write_edits(tmp_path / "bad.yaml", {"merge": [{"first": "enter-email", "second": "sign-in"}]})
    assert_clean_error(run_cli("compose", str(capture), "-o", str(out), "--edits", str(bad)), str(bad), "merge[0]")
    assert (out / "guide.json").read_bytes() == before
