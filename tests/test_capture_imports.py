"""`guidecast import`: Chrome DevTools Recorder JSON and Selenium IDE .side files become workflows that
replay (iframes and popups included) against a local test site."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from guidecast.capture.imports import import_recording
from guidecast.capture.workflow import dump_workflow, parse_workflow
from tests.conftest import REPO, requires_browser
from tests.fixtures.capture.site_server import serve_site

FIX = REPO / "tests" / "fixtures" / "capture"
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def site():
    with serve_site() as s:
        yield s


def _write(result, path: Path) -> Path:
    path.write_text(dump_workflow(result.workflow))
    parse_workflow(path.read_text())  # what we write reads back
    return path


# -- conversion ---------------------------------------------------------------------------------------
def test_devtools_selectors_frames_keys_and_viewport():
    r = import_recording(FIX / "devtools-checkout.json")
    wf = r.workflow
    assert wf.title == "Pay for the teapot"
    assert (wf.start_url, wf.base_url) == ("/checkout.html", "http://127.0.0.1:8000")
    assert (wf.viewport.width, wf.viewport.height) == (1024, 700)
    pay = next(s for s in wf.steps if s.action == "click" and s.target.role == "button")
    assert (pay.target.name, pay.target.frame) == ("Pay now", ["iframe >> nth=0"])
    assert pay.fallbacks[0].test_id == "pay-now"  # [data-testid=...] CSS becomes a test id locator
    assert any(f.xpath for f in pay.fallbacks) and any(f.text == "Pay now" for f in pay.fallbacks)
    assert [s.key for s in wf.steps if s.action == "press"] == ["Tab"]  # keyDown+keyUp -> one press
    assert wf.steps[-1].action == "wait_for"


def test_devtools_typed_card_number_becomes_a_secret_and_unknown_steps_are_reported():
    r = import_recording(FIX / "devtools-checkout.json")
    card = next(s for s in r.workflow.steps if s.secret)
    assert card.value is None and card.sensitive and r.workflow.secrets == {card.secret: "APP_TOKEN"}
    assert CARD not in dump_workflow(r.workflow)
    assert [str(i) for i in r.unsupported] == [
        "step 9: step type 'waitForExpression' is not supported by guidecast; left out"]
    assert any("scroll" in str(i) for i in r.issues if not i.unsupported)


def test_devtools_popup_target_marks_the_opening_step():
    wf = import_recording(FIX / "devtools-chat-popup.json").workflow
    opener, *in_popup, back = wf.steps
    assert opener.opens_popup and opener.target.name == "Open chat"
    assert [s.page for s in in_popup] == [None, None, None]  # replay follows the popup by itself
    assert back.page == "main" and back.action == "wait_for"


def test_selenium_locators_windows_and_frames():
    widgets = import_recording(FIX / "selenium-shop.side").workflow
    assert widgets.title == "Shop: widgets" and widgets.start_url == "/widgets.html"
    assert [s.action for s in widgets.steps] == ["hover", "click", "click", "click", "click"]
    sign_out = widgets.steps[1]
    assert (sign_out.target.role, sign_out.target.name) == ("link", "Sign out")  # linkText= ranks first
    assert sign_out.fallbacks[0].css == "#sign-out"
    checkout = import_recording(FIX / "selenium-shop.side", test="checkout").workflow
    assert all(s.target.frame == ["iframe >> nth=0"] for s in checkout.steps)
    assert checkout.steps[-1].target.test_id == "pay-now"
    chat = import_recording(FIX / "selenium-shop.side", test="chat").workflow
    assert chat.steps[0].opens_popup and chat.steps[-1].page == "main"


def test_selenium_reports_unsupported_commands_and_which_test_it_took():
    r = import_recording(FIX / "selenium-shop.side")
    assert [str(i) for i in r.unsupported] == [
        "test 'widgets', command 8 (assertText): command 'assertText' is not supported by guidecast; left out"]
    assert "imported the first, 'widgets'" in str(r.issues[0])


# -- the CLI ---------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guidecast", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_cli_import_prints_warnings_and_strict_fails(tmp_path):
    out = tmp_path / "checkout.yaml"
    ok = _cli("import", str(FIX / "devtools-checkout.json"), "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "waitForExpression" in ok.stderr and "export APP_TOKEN" in ok.stdout
    assert yaml.safe_load(out.read_text())["title"] == "Pay for the teapot"
    strict = _cli("import", str(FIX / "devtools-checkout.json"), "-o", str(tmp_path / "strict.yaml"), "--strict")
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert "step 9: step type 'waitForExpression' is not supported" in strict.stderr
    assert not (tmp_path / "strict.yaml").exists()


# -- replay of imported workflows --------------------------------------------------------------------------
@requires_browser
@pytest.mark.browser
def test_devtools_iframe_recording_replays_inside_the_frame(site, tmp_path, monkeypatch):
    from guidecast.capture.replay import capture_workflow

    monkeypatch.setenv("APP_TOKEN", CARD)
    wf = _write(import_recording(FIX / "devtools-checkout.json"), tmp_path / "checkout.yaml")
    site.log.clear()
    bundle = capture_workflow(wf, tmp_path / "cap", base_url=site.url)
    assert site.log == [{"paid_by": "Robin Lee"}]
    pay = next(s for s in bundle.steps if s.id == "click-pay-now")
    assert pay.locator.frame == ["iframe >> nth=0"] and pay.element.name == "Pay now"
    # the box is in the page's coordinates: inside the iframe's box, not at the frame's own origin
    assert pay.element.box.y > 100


@requires_browser
@pytest.mark.browser
@pytest.mark.parametrize("fixture,test", [("devtools-chat-popup.json", None), ("selenium-shop.side", "chat")])
def test_popup_recordings_replay_in_the_popup_and_come_back(site, tmp_path, fixture, test):
    from guidecast.capture.replay import capture_workflow

    wf = _write(import_recording(FIX / fixture, test=test), tmp_path / "chat.yaml")
    site.log.clear()
    bundle = capture_workflow(wf, tmp_path / "cap", base_url=site.url)
    assert site.log == [{"chat": "Where is my teapot?"}]
    assert bundle.steps[0].opened_page == "popup-1"
    assert {s.page for s in bundle.steps[1:-1]} == {"popup-1"}
    assert bundle.steps[-1].page == "main" and bundle.final_url.endswith("/help-desk.html")


@requires_browser
@pytest.mark.browser
def test_selenium_hover_menu_portal_dropdown_and_confirm_dialog(site, tmp_path):
    from guidecast.capture.replay import capture_workflow

    wf = _write(import_recording(FIX / "selenium-shop.side"), tmp_path / "widgets.yaml")
    site.log.clear()
    bundle = capture_workflow(wf, tmp_path / "cap", base_url=site.url)
    assert site.log == [{"menu": "sign-out"}, {"colour": "Green"}, {"deleted": True}]
    delete = bundle.steps[-1]
    assert [(d.type, d.message, d.answer) for d in delete.dialogs] == [("confirm", "Delete the draft?", "accept")]
