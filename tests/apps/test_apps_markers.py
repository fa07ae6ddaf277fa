"""The numbered badge, click ring and pointer never hide the target: on small real-app targets (a checkbox,
a "12" link, a column header, a filter link) every pixel of the target in the guide's picture is the
captured pixel under the highlight's tint, and nothing else."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]


def _guide_step(guide, step_id):
    return next(g for g in guide.steps if step_id in (g.source_ids or [g.id]))


@pytest.mark.parametrize("name, action, element_name", [
    ("todomvc-shopping", "check", None),  # the round checkbox of a todo
    ("todomvc-shopping", "click", "Active"),
    ("datasette-comedies", "click", "year"),
    ("datasette-comedies", "click", "12"),
])
def test_markers_leave_a_small_target_in_plain_sight(built, name, action, element_name):
    from PIL import Image

    from guidecast.composer.annotate import HIGHLIGHT, TINT_ALPHA

    b = built(name)
    step = next(s for s in b.bundle.steps if s.action == action and (element_name is None or s.element.name == element_name))
    shown = _guide_step(b.guide, step.id)
    raw = np.asarray(Image.open(b.capture_dir / "screenshots" / step.screenshot).convert("RGB"), dtype=float)
    out = np.asarray(Image.open(b.guide_dir / shown.image).convert("RGB"), dtype=float)
    assert out.shape == raw.shape  # neither cropped nor zoomed
    box = step.element.box_device
    assert box.width < 120 and box.height < 48  # a small target
    x0, y0 = math.ceil(box.x), math.ceil(box.y)
    x1, y1 = math.floor(box.x + box.width), math.floor(box.y + box.height)
    alpha = TINT_ALPHA / 255
    tinted = raw[y0:y1, x0:x1] * (1 - alpha) + np.array(HIGHLIGHT, dtype=float) * alpha
    assert np.abs(out[y0:y1, x0:x1] - tinted).max() <= 3, "a marker covers part of the target"
    # and the markers are drawn, next to it: the badge's orange and the pointer's white
    near = out[max(0, y0 - 60):y1 + 60, max(0, x0 - 80):x1 + 80]
    badge = np.all(np.abs(near - np.array(HIGHLIGHT, dtype=float)) < 8, axis=-1).sum()
    assert badge > 150
