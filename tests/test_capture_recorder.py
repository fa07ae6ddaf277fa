"""The recorder, driven for real: a Playwright script uses the sample app while the recorder listens;
the workflow it writes replays on a fresh browser against a fresh app to the same end state."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml

from tests.conftest import REPO, requires_browser

pytestmark = [requires_browser, pytest.mark.browser]
PASSWORD = os.environ["EXPENSELY_PASSWORD"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Record the submit-expense workflow on a fresh app; stop with the toolbar's Stop button."""
    from guidecast.capture.browser import launch_browser
    from guidecast.capture.recorder import Recorder
    from guidecast.samples.expense_app import start_sample_app

    out = tmp_path_factory.mktemp("rec") / "submit.yaml"
    with start_sample_app("base") as app, launch_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        rec = Recorder(context, title="Submit an expense")
        page = context.new_page()
        page.goto(app.url + "/login")
        page.get_by_label("Email").fill("alex.morgan@example.com")
        page.get_by_label("Password").press_sequentially(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Expenses").click()
        page.get_by_role("link", name="New expense").click()
        page.get_by_label("Description").press_sequentially("Team offsite train tickets")  # key by key
        page.get_by_label("Amount").fill("128.50")
        page.get_by_label("Category").select_option("Travel")
        page.get_by_label("Date").fill("2026-11-14")
        page.get_by_label("Billable to client").check()
        page.evaluate("window.__guidecastRecord({kind: 'note', text: 'Tick it for client costs.'})")
        page.get_by_role("button", name="Submit expense").click()
        page.get_by_role("heading", name="Expense submitted").wait_for()
        toolbar = page.locator("#__guidecast_toolbar")
        # the toolbar hides for the moment of each recorder screenshot: wait until it shows
        box = None
        for _ in range(100):
            box = toolbar.bounding_box()
            if box:
                break
            page.wait_for_timeout(30)
        toolbar.click(position={"x": box["width"] - 30, "y": box["height"] / 2})  # its Stop button, at the right
        deadline = time.monotonic() + 5
        while not rec.done and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        stopped_by_toolbar = rec.done
        saved = rec.save(out)
        rec.close()
    return {"saved": saved, "stopped_by_toolbar": stopped_by_toolbar, "yaml": out.read_text()}


def test_toolbar_stop_ends_the_recording_and_is_not_recorded(recorded):
    assert recorded["stopped_by_toolbar"]
    steps = yaml.safe_load(recorded["yaml"])["steps"]
    assert steps[-1]["target"] == {"role": "button", "name": "Submit expense"}


def test_steps_have_the_roles_and_names_a_person_sees(recorded):
    wf = yaml.safe_load(recorded["yaml"])
    steps = wf["steps"]
    assert [s["action"] for s in steps] == [
        "fill", "fill", "click", "click", "click", "fill", "fill", "select", "fill", "check", "click"]
    targets = [s["target"] for s in steps]
    assert targets[0] == {"role": "textbox", "name": "Email"}
    assert targets[2] == {"role": "button", "name": "Sign in"}
    assert targets[5] == {"role": "textbox", "name": "Description"}
    assert {"label": "Description"} in steps[5]["fallbacks"]
    assert targets[7] == {"role": "combobox", "name": "Category"}
    assert targets[9] == {"role": "checkbox", "name": "Billable to client"}
    assert steps[5]["value"] == "Team offsite train tickets"  # one step for the field, not one per key
    assert steps[7]["value"] == "Travel"
    assert steps[9]["note"] == "Tick it for client costs."
    assert wf["start_url"] == "/login" and wf["base_url"].startswith("http://127.0.0.1:")


def test_the_password_is_a_secret_reference_never_a_value(recorded):
    saved = recorded["saved"]
    wf = yaml.safe_load(recorded["yaml"])
    assert wf["secrets"] == {"password": "EXPENSELY_PASSWORD"}
    assert wf["steps"][1]["secret"] == "password" and "value" not in wf["steps"][1]
    assert saved.env_vars and "EXPENSELY_PASSWORD" in saved.env_vars
    files = [saved.workflow] + [p for p in saved.bundle.rglob("*") if p.is_file()]
    for f in files:
        assert PASSWORD.encode() not in f.read_bytes(), f


def test_the_bundle_beside_the_workflow_has_a_screenshot_and_box_per_step(recorded):
    from guidecast.capture.bundle import load_capture

    saved = recorded["saved"]
    assert saved.bundle == saved.workflow.with_suffix(".capture"), saved.warnings
    cap = load_capture(saved.bundle)
    assert len(cap.steps) == 11
    for s in cap.steps:
        assert (saved.bundle / "screenshots" / s.screenshot).exists()
        assert s.element is not None and s.element.box.width > 0
    assert cap.steps[2].element.role == "button" and cap.steps[2].element.name == "Sign in"


def test_the_recorded_workflow_replays_to_the_same_end_state(recorded, tmp_path):
    from guidecast.capture.replay import capture_workflow
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base") as fresh:
        before = len(httpx.get(fresh.url + "/api/expenses").json())
        bundle = capture_workflow(recorded["saved"].workflow, tmp_path / "cap", base_url=fresh.url)
        expenses = httpx.get(fresh.url + "/api/expenses").json()
    assert bundle.final_title == "Expense submitted · Expensely"
    assert len(expenses) == before + 1
    new = expenses[-1]
    assert (new["description"], new["amount"], new["category"], new["date"], new["billable"]) == (
        "Team offsite train tickets", "128.50", "Travel", "2026-11-14", True)
    assert all(s.locator_rank == 0 for s in bundle.steps)  # the recorded first-choice locators hold


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_record_headless_saves_on_sigterm(sample_app, tmp_path):
    """`guidecast record --headless` driven over CDP by another client, stopped with SIGTERM."""
    from playwright.sync_api import sync_playwright

    out = tmp_path / "login.yaml"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "guidecast", "record", sample_app.url + "/login", "-o", str(out), "--headless",
         "--cdp-port", str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "recording" in line, line + proc.stderr.read()
        with sync_playwright() as p:
            browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            page = browser.contexts[0].pages[0]
            page.get_by_label("Email").fill("alex.morgan@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/dashboard")
            page.wait_for_timeout(300)  # let the recorder take its screenshot
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "export EXPENSELY_PASSWORD" in stdout
    wf = yaml.safe_load(out.read_text())
    assert [s["action"] for s in wf["steps"]] == ["fill", "fill", "click"]
    assert PASSWORD not in out.read_text()
    cap = json.loads((tmp_path / "login.capture" / "capture.json").read_text())
    assert len(cap["steps"]) == 3


def test_recorder_follows_iframes_popups_typed_urls_and_history(tmp_path):
    """Frames get `frame:` selectors, the popup's opener gets `opens_popup`, a typed URL is a goto,
    back/forward are steps, and the whole thing replays to the same end state."""
    from guidecast.capture.browser import launch_browser
    from guidecast.capture.recorder import Recorder
    from guidecast.capture.replay import capture_workflow
    from tests.fixtures.capture.site_server import serve_site

    with serve_site() as site, launch_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        rec = Recorder(context)
        page = context.new_page()
        page.goto(site.url + "/index.html")
        page.get_by_role("link", name="Checkout").click()
        frame = page.frame_locator('iframe[name="payment"]')
        frame.get_by_label("Card holder").fill("Robin Lee")
        frame.get_by_role("button", name="Pay now").click()
        page.wait_for_timeout(200)
        page.goto(site.url + "/help-desk.html")  # typed, not caused by the page
        with page.expect_popup() as popup:
            page.get_by_role("button", name="Open chat").click()
        chat = popup.value
        chat.get_by_label("Message").fill("Hello")
        chat.get_by_role("button", name="Send").click()  # the popup closes itself
        page.get_by_text("Chat ended").wait_for()
        page.go_back()
        page.wait_for_load_state()
        page.go_forward()
        page.wait_for_load_state()
        rec.stop()
        saved = rec.save(tmp_path / "shop.yaml")
        rec.close()
        recorded_log = list(site.log)
    steps = yaml.safe_load(saved.workflow.read_text())["steps"]
    assert [s["action"] for s in steps] == ["click", "fill", "click", "goto", "click", "fill", "click", "close_page",
                                            "back", "forward"]
    assert steps[1]["target"] == {"role": "textbox", "name": "Card holder", "frame": ['iframe[name="payment"]']}
    assert steps[3]["url"] == "/help-desk.html"
    assert steps[4]["opens_popup"] is True and steps[7]["page"] == "popup-1"
    with serve_site() as site:
        bundle = capture_workflow(saved.workflow, tmp_path / "cap", base_url=site.url)
        assert site.log == recorded_log == [{"paid_by": "Robin Lee"}, {"chat": "Hello"}]
    assert [s.page for s in bundle.steps[5:7]] == ["popup-1", "popup-1"]
    assert bundle.final_url.endswith("/help-desk.html")
