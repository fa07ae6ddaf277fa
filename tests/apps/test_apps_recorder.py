"""`guidecast record` on real apps, driven by a Playwright script as a person would use them: the workflow
it writes names targets the way people do (role and name, label, placeholder, stable attributes, short
CSS; never a positional path), has readable step ids, photographs a field before it is typed into (not
after the Enter that submits it) and ends on a final screenshot; and it replays to the same end state."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import numpy as np
import pytest
import yaml

from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]
POSITIONAL = re.compile(r":nth-(of-type|child)|\s>\s|^xpath")


def _record(app_url: str, path, drive):
    from guidecast.capture.browser import launch_browser
    from guidecast.capture.recorder import Recorder

    with launch_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        rec = Recorder(context)
        page = context.new_page()
        drive(page, app_url)
        page.wait_for_timeout(300)  # the last event's screenshot
        rec.stop()
        saved = rec.save(path)
        rec.close()
        context.close()
    return saved


def _locators(step: dict) -> list[dict]:
    return ([step["target"]] if "target" in step else []) + step.get("fallbacks", [])


def _readable(saved) -> list[dict]:
    steps = yaml.safe_load(saved.workflow.read_text())["steps"]
    for s in steps:
        for loc in _locators(s):
            assert not POSITIONAL.search(loc.get("css", "")) and "xpath" not in loc, s
        sid = s.get("id")
        assert sid is None or (len(sid) <= 40 and not re.search(r"nth|has-text|name-|type-|css|xpath", sid)), sid
    return steps


def _pixels(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def todomvc_recording(todomvc_app, tmp_path_factory):
    def drive(page, url):
        page.goto(url + "/examples/react/")
        new = page.get_by_placeholder("What needs to be done?")
        for todo in ("Buy milk", "Bake bread"):
            new.click()
            new.press_sequentially(todo)
            new.press("Enter")
        page.locator("li", has_text="Buy milk").locator(".toggle").check()
        page.get_by_role("link", name="Active").click()
        page.get_by_role("link", name="Completed").click()
        page.get_by_role("button", name=re.compile("Clear completed")).click()
        page.get_by_role("link", name="All").click()
        page.get_by_text("1 item left").wait_for()

    return _record(todomvc_app.url, tmp_path_factory.mktemp("rec-todo") / "todos.yaml", drive)


def test_todomvc_recording_reads_like_a_person_wrote_it(todomvc_recording):
    from guidecast.capture.bundle import load_capture

    steps = _readable(todomvc_recording)
    assert [s["action"] for s in steps] == ["fill", "press", "fill", "press", "check", "click", "click", "click",
                                            "click"]
    check = steps[4]
    assert check["id"] == "check-buy-milk"
    cap = load_capture(todomvc_recording.bundle)
    assert cap.final_screenshot and (todomvc_recording.bundle / "screenshots" / cap.final_screenshot).exists()


def test_todomvc_recording_replays_to_the_same_end_state(todomvc_recording, todomvc_app, tmp_path):
    from guidecast.capture.bundle import load_capture
    from guidecast.capture.replay import capture_workflow

    data = yaml.safe_load(todomvc_recording.workflow.read_text())
    data["steps"].append({"action": "wait_for", "target": {"text": "1 item left"}})  # the end state, asserted
    data["steps"].append({"action": "wait_for", "target": {"text": "Bake bread", "exact": True}})
    wf = tmp_path / "todos.yaml"
    wf.write_text(yaml.safe_dump(data, sort_keys=False))
    bundle = capture_workflow(wf, tmp_path / "cap", base_url=todomvc_app.url)
    assert all(s.locator_rank in (None, 0) for s in bundle.steps)
    recorded = load_capture(todomvc_recording.bundle)
    a = _pixels(todomvc_recording.bundle / "screenshots" / recorded.final_screenshot)
    b = _pixels(tmp_path / "cap" / "screenshots" / bundle.final_screenshot)
    assert np.abs(a - b).mean() < 2.0  # the same list, the same filter
    # the recorder photographed the "Bake bread" field before the typing and its Enter, as the replay does:
    # one todo listed, not two
    fill = next(i for i, s in enumerate(bundle.steps) if s.action == "fill" and s.value == "Bake bread")
    a = _pixels(todomvc_recording.bundle / "screenshots" / recorded.steps[fill].screenshot)
    b = _pixels(tmp_path / "cap" / "screenshots" / bundle.steps[fill].screenshot)
    assert np.abs(a - b).mean() < 2.0


@pytest.fixture(scope="module")
def datasette_recording(datasette_app, tmp_path_factory):
    def drive(page, url):
        page.goto(url + "/films/films")
        page.locator('select[name="_filter_column"]').select_option("genre")
        value = page.locator('input[name="_filter_value"]')
        value.click()
        value.press_sequentially("Comedy")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**genre__exact=Comedy**")
        page.get_by_role("link", name="year", exact=True).click()
        page.wait_for_url("**_sort=year**")
        page.get_by_role("link", name="12", exact=True).click()
        page.wait_for_url("**/films/films/12")

    return _record(datasette_app.url, tmp_path_factory.mktemp("rec-ds") / "films.yaml", drive)


def test_datasette_recording_reads_like_a_person_wrote_it_and_replays(datasette_recording, datasette_app, tmp_path):
    from guidecast.capture.replay import capture_workflow

    steps = _readable(datasette_recording)
    assert [s["action"] for s in steps] == ["select", "fill", "click", "click", "click"]
    assert steps[0]["target"] == {"css": 'select[name="_filter_column"]'}
    assert [s.get("id") for s in steps[:2]] == ["select-filter-column", "fill-filter-value"]
    bundle = capture_workflow(datasette_recording.workflow, tmp_path / "cap", base_url=datasette_app.url)
    assert urlparse(bundle.final_url).path == "/films/films/12"
    assert "_sort=year" in bundle.steps[-1].url and "genre__exact=Comedy" in bundle.steps[-1].url
