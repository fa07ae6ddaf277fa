"""Locators people can write: labels without their required-field mark or colon, `label` for a field
finding the field (not a region or a link labelled the same), `nth` for several unnamed elements, and
ambiguous or missing targets answered with the candidates and near misses, each with a locator that
works, never with Playwright's own words."""
from __future__ import annotations

import pytest
import yaml

from guidecast.capture.workflow import Locator
from guidecast.kernel.errors import CaptureError, TargetAmbiguous, TargetNotFound
from tests.conftest import requires_browser
from tests.fixtures.capture.site_server import serve_site

pytestmark = [requires_browser, pytest.mark.browser]


@pytest.fixture(scope="module")
def site():
    with serve_site() as s:
        yield s


def _capture(site, tmp_path, *steps: dict):
    from guidecast.capture.replay import capture_workflow

    tmp_path.mkdir(parents=True, exist_ok=True)
    wf = tmp_path / "wf.yaml"
    wf.write_text(yaml.safe_dump({"title": "Sign up", "start_url": "/signup.html", "steps": list(steps)}))
    site.log.clear()
    return capture_workflow(wf, tmp_path / "cap", base_url=site.url, find_timeout=1)


def test_labels_match_without_marks_and_fields_without_their_neighbours(site, tmp_path):
    bundle = _capture(site, tmp_path,
                      {"action": "fill", "target": {"label": "Username"}, "value": "robin"},
                      {"action": "fill", "target": {"label": "Email address"}, "value": "robin@example.com"},
                      {"action": "fill", "target": {"label": "About you"}, "value": "Cyclist"},  # not the region
                      {"action": "select", "target": {"role": "combobox", "nth": 2}, "value": "Evenings"},
                      {"action": "click", "target": {"role": "button", "name": "Create account"}})
    assert site.log == [{"user": "robin", "email": "robin@example.com", "bio": "Cyclist", "day": "Any day",
                         "time": "Evenings"}]
    tags = [s.element.tag for s in bundle.steps]
    assert tags == ["input", "input", "textarea", "select", "button"]
    assert bundle.steps[3].element.box.x > bundle.steps[2].element.box.x  # the second list, right of the first


def test_an_ambiguous_target_lists_candidates_with_locators_that_work(site, tmp_path):
    with pytest.raises(TargetAmbiguous) as e:
        _capture(site, tmp_path, {"action": "fill", "target": {"role": "textbox", "name": "code", "exact": False},
                                  "value": "SPRING"})
    err = e.value
    msg = str(err)
    assert "\n" not in msg and "Locator." not in msg
    assert "textbox 'Voucher code' ({role: textbox, name: Voucher code})" in msg
    assert "e.g. target: {role: textbox, name: Voucher code}" in msg
    assert [c["name"] for c in err.candidates] == ["Voucher code", "Gift card code"]
    for c in err.candidates:  # each suggested locator finds its element and replays
        loc = yaml.safe_load(c["locator"])
        Locator.model_validate(loc)
        _capture(site, tmp_path / c["name"].replace(" ", "-"), {"action": "fill", "target": loc, "value": "X"})


def test_an_ambiguous_label_for_a_field_suggests_the_field(site, tmp_path):
    with pytest.raises(TargetAmbiguous) as e:  # a click may be on the heading-labelled region or the field
        _capture(site, tmp_path, {"action": "click", "target": {"label": "About you"}})
    fillable = [c for c in e.value.candidates if c["fillable"]]
    assert [(c["role"], c["locator"]) for c in fillable] == [("textbox", "{role: textbox, name: About you}")]
    assert {c["role"] for c in e.value.candidates} >= {"region", "link", "textbox"}


def test_nothing_found_lists_near_misses_by_name(site, tmp_path):
    with pytest.raises(TargetNotFound) as e:
        _capture(site, tmp_path, {"action": "fill", "target": {"label": "Usernme"}, "value": "robin"})
    msg = str(e.value)
    assert "near misses: textbox 'Username*' ({label: Username})" in msg
    assert e.value.near_misses[0]["locator"] == "{label: Username}"


def test_a_field_action_on_something_else_says_so_in_plain_words(site, tmp_path):
    with pytest.raises(CaptureError) as e:
        _capture(site, tmp_path, {"action": "fill", "target": {"role": "link", "name": "Help"}, "value": "x"})
    msg = str(e.value)
    assert "the link 'Help' cannot be typed into" in msg
    assert "Locator.fill" not in msg and "<input>" not in msg


def test_nth_counts_from_one_and_is_described():
    loc = Locator(role="combobox", nth=2)
    assert loc.describe() == "combobox (match 2)"
    with pytest.raises(ValueError):
        Locator(role="combobox", nth=0)
