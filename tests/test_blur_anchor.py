"""Privacy survives refresh: a blur a person drew is tied to the element under it; a refresh over a moved
element moves the blur with it (pixels) and asks for review, one over a vanished element publishes nothing
until someone says they looked."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from guidecast.capture.bundle import load_capture
from guidecast.composer.compose import compose_guide
from guidecast.composer.guide import load_guide
from guidecast.core.build import CaptureOptions, NarrateOptions, build
from guidecast.core.manifest import load_build_manifest
from guidecast.core.refresh import refresh
from guidecast.kernel.errors import GuidecastError
from guidecast.samples import WORKFLOWS_DIR
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]


def spread(path, box, scale: float = 1.0) -> float:
    """How much the pixels inside `box` (CSS px) vary: text is sharp, a blur is flat."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("L"), dtype=float)
    x0, y0 = int(box.x * scale), int(box.y * scale)
    return float(a[y0:int((box.y + box.height) * scale), x0:int((box.x + box.width) * scale)].std())


def test_a_blur_follows_its_field_and_a_vanished_one_blocks_the_refresh(tmp_path):
    from guidecast.samples.expense_app import start_sample_app

    out = tmp_path / "expense"
    with start_sample_app("base", ui={"menu_extra": "Reports"}) as app:
        build(WORKFLOWS_DIR / "submit-expense.yaml", out, capture=CaptureOptions(base_url=app.url),
              narrate=NarrateOptions(engine="silent"))
    cap = load_capture(out / "capture")
    step = next(s for s in cap.steps if s.id == "fill-amount")  # the description typed before is on screen
    field = next(c for c in step.controls if c.name == "Description")
    menu = next(c for c in step.controls if c.name == "Reports")
    edits = tmp_path / "edits.yaml"
    edits.write_text(
        "schema_version: 1\nsteps:\n  fill-amount:\n    blur:\n"
        f"      - {{x: {field.box.x:.0f}, y: {field.box.y:.0f}, width: {field.box.width:.0f}, height: {field.box.height:.0f}}}\n"
        f"      - {{x: {menu.box.x:.0f}, y: {menu.box.y:.0f}, width: {menu.box.width:.0f}, height: {menu.box.height:.0f}}}\n")
    compose_guide(out / "capture", out / "guide", edits=edits)
    drawn = next(s for s in load_guide(out / "guide").steps if s.id == "fill-amount")
    assert [(b.state, b.anchor.name) for b in drawn.blurs] == [("anchored", "Description"), ("anchored", "Reports")]
    before = load_build_manifest(out)

    # Category now comes first (the Description field moves down) and the Reports menu item is gone
    with start_sample_app("base", ui={"category_first": True}) as changed:
        with pytest.raises(GuidecastError, match=r"fill-amount.*Reports.*not published"):
            refresh(out, base_url=changed.url)
        assert load_build_manifest(out) == before  # nothing was published
        report, entry = refresh(out, base_url=changed.url, reviewed=True)
    assert entry is not None
    guide = load_guide(out / "guide")
    st = next(s for s in guide.steps if s.id == "fill-amount")
    (moved, lost) = st.blurs
    assert (moved.state, lost.state) == ("moved", "lost")
    now = next(c for c in load_capture(out / "capture").steps if c.id == "fill-amount")
    field_now = next(c for c in now.controls if c.name == "Description")
    assert field_now.box.y > field.box.y + 30 and abs(moved.box.y - field_now.box.y) < 2  # the blur followed
    assert st.review and "Reports" in st.review
    assert any(r.step == "fill-amount" for r in entry.review)
    raw = load_capture(out / "capture").screenshot_path(out / "capture", now.screenshot)
    assert spread(out / "guide" / st.image, moved.box) < 0.5 * spread(raw, moved.box)  # blurred where it is now
