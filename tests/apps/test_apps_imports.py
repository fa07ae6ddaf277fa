"""A Chrome DevTools Recorder export of a real task (sign in to Wagtail, fill in an article, publish it:
a click and then a change on each field, selectors as DevTools writes them, "aria/Username*" included)
imports to a workflow that replays on Wagtail and leaves no typed password anywhere."""
from __future__ import annotations

import pytest

from tests.apps.servers import WAGTAIL_PASSWORD
from tests.conftest import REPO, requires_browser

pytestmark = [requires_browser, pytest.mark.browser]
RECORDING = REPO / "tests" / "fixtures" / "capture" / "devtools-wagtail-article.json"


def test_devtools_sign_in_and_form_recording_replays_on_wagtail(wagtail_app, tmp_path):
    from guidecast.capture.imports import import_recording
    from guidecast.capture.replay import capture_workflow
    from guidecast.capture.workflow import dump_workflow
    from tests.apps.servers import end_state

    result = import_recording(RECORDING)
    wf = result.workflow
    assert [s.action for s in wf.steps] == ["click", "fill", "click", "fill", "click", "goto", "click", "fill",
                                            "click", "fill", "click", "click"]
    assert [s.target.label for s in wf.steps if s.action == "fill"][:3] == ["Username*", "Password*", "Title*"]
    password = wf.steps[3]
    assert password.secret and password.value is None
    text = dump_workflow(wf)
    assert WAGTAIL_PASSWORD not in text
    path = tmp_path / "article.yaml"
    path.write_text(text)
    env = {var: WAGTAIL_PASSWORD for var in result.env_vars}
    wagtail_app.data["reset"]()
    bundle = capture_workflow(path, tmp_path / "cap", base_url=wagtail_app.url, env=env)
    assert not bundle.partial and len(bundle.steps) == 12
    assert end_state(wagtail_app)["pages"] == [("Autumn opening hours", 1)]
    fills = [s for s in bundle.steps if s.action == "fill"]
    assert [s.element.tag for s in fills] == ["input", "input", "input", "input"]
    assert [s.locator_rank for s in fills] == [0, 0, 0, 0]  # "aria/Title*" finds the field, not its panel
    # a writer writes one step per field: each click into a field folds into the typing that follows it
    from guidecast.composer.compose import compose_guide

    guide = compose_guide(tmp_path / "cap", tmp_path / "guide")
    per_field = [g for g in guide.steps if g.action == "fill"]
    assert len(guide.steps) == 8 and len(per_field) == 4
    assert [len(g.source_ids) for g in per_field] == [2, 2, 2, 2]
    assert [g.text for g in per_field] == [
        "In **Username**, enter “editor”.", "In **Password**, enter your password.",
        "In **Title**, enter “Autumn opening hours”.", "In **Intro**, enter “From October we open at nine.”"]
    assert not any(g.text.startswith("Click in") for g in guide.steps)
    for p in [*(tmp_path / "cap").rglob("*"), *(tmp_path / "guide").rglob("*")]:
        if p.is_file():
            assert WAGTAIL_PASSWORD.encode() not in p.read_bytes(), p
