"""Replay stability on a real app: Wagtail's menus and page explorer slide in, and a box measured while
they move puts the published highlight off its target. Five replays of the same workflow (the database
put back each time) measure the same boxes."""
from __future__ import annotations

import pytest

from tests.apps.conftest import WORKFLOWS, capture_env
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]
REPLAYS = 5


def test_highlight_boxes_are_identical_over_five_replays(built, tmp_path):
    from guidecast.capture.browser import launch_browser
    from guidecast.capture.replay import capture_workflow

    first = built("wagtail-publish-article")  # replay 1, shared with the corpus tests
    app = first.app
    runs = [first.bundle]
    with launch_browser() as browser:
        for i in range(REPLAYS - 1):
            app.data["reset"]()
            runs.append(capture_workflow(WORKFLOWS / "wagtail-publish-article.yaml", tmp_path / f"cap{i}",
                                         base_url=app.url, env=capture_env(), browser=browser))
    boxes = [[(s.id, s.element.box if s.element else None) for s in run.steps] for run in runs]
    for i, other in enumerate(boxes[1:], 2):
        differ = [f"{sid}: {a} vs {b}" for (sid, a), (_, b) in zip(boxes[0], other, strict=True) if a != b]
        assert not differ, f"replay {i} measured other boxes than replay 1:\n" + "\n".join(differ)
    assert any(sid == "click-home" for sid, _ in boxes[0])  # the link inside the page explorer
