"""The browser extension, for real: the built extension (make extension) loaded into Debian's Chromium in
its new headless mode, started from its popup, records the sample app's expense workflow and a TodoMVC
task while a Playwright script uses the page as a person would; stopped and sent from the popup to a real
guidecast server. The server holds a guide with one step per action whose text is what `guidecast record`
gives for the same task, screenshots whose highlight boxes show the elements, no password byte anywhere,
and a workflow that `guidecast check` replays to "unchanged"."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import numpy as np
import pytest

from tests.conftest import REPO, requires_browser

pytestmark = [requires_browser, pytest.mark.browser]
PASSWORD = os.environ["EXPENSELY_PASSWORD"]
EMAIL = "expert@example.com"


# -- the tasks: one drive per task, used by both recorders -------------------------------------------------
def expense_open(page, url):
    page.goto(url + "/login")


def expense_task(page, pace):
    for label, value, typed in (("Email", "alex.morgan@example.com", False), ("Password", PASSWORD, True)):
        page.get_by_label(label).click()
        pace()
        (page.get_by_label(label).press_sequentially if typed else page.get_by_label(label).fill)(value)
        pace()
    page.get_by_role("button", name="Sign in").click(delay=250)  # a person holds the button a moment
    page.wait_for_url("**/dashboard")
    pace(navigated=True)
    page.get_by_role("link", name="Expenses").click(delay=250)
    page.wait_for_url("**/expenses")
    pace(navigated=True)
    page.get_by_role("link", name="New expense").click(delay=250)
    page.wait_for_url("**/expenses/new")
    pace(navigated=True)
    for label, value in (("Description", "Team offsite train tickets"), ("Amount", "128.50")):
        page.get_by_label(label).click()
        pace()
        page.get_by_label(label).press_sequentially(value)
        pace()
    page.get_by_label("Category").select_option("Travel")
    pace()
    page.get_by_label("Date").click()
    pace()
    page.get_by_label("Date").fill("2026-11-14")
    pace()
    page.get_by_label("Billable to client").click(delay=250)
    pace()
    page.get_by_role("button", name="Submit expense").click(delay=250)
    page.get_by_role("heading", name="Expense submitted").wait_for()
    pace(navigated=True)


def todo_open(page, url):
    page.goto(url + "/examples/react/")


def todo_task(page, pace):
    new = page.get_by_placeholder("What needs to be done?")
    for todo in ("Buy milk", "Bake bread"):
        new.click()
        pace()
        new.press_sequentially(todo)
        pace()  # a look at what was typed, then Enter
        new.press("Enter")
        pace()
    page.locator("li", has_text="Buy milk").locator(".toggle").click(delay=250)
    pace()
    page.get_by_role("link", name="Active").click(delay=250)
    pace()
    page.get_by_role("link", name="Completed").click(delay=250)
    pace()
    page.get_by_role("button", name=re.compile("Clear completed")).click(delay=250)
    pace()
    page.get_by_text("1 item left").wait_for()


# -- the CLI recorder's result for the same task ----------------------------------------------------------
def cli_guide(url, open_, task, out: Path) -> tuple[list[str], list[str]]:
    """(the workflow's actions, the composed guide's step texts) from `guidecast record`'s Recorder."""
    from guidecast.capture.browser import launch_browser
    from guidecast.capture.recorder import Recorder
    from guidecast.composer.compose import compose_guide

    with launch_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        rec = Recorder(context)
        page = context.new_page()
        open_(page, url)
        task(page, lambda navigated=False: page.wait_for_timeout(150))
        page.wait_for_timeout(300)
        rec.stop()
        saved = rec.save(out / "flow.yaml")
        rec.close()
        context.close()
    guide = compose_guide(saved.bundle, out / "guide")
    import yaml

    actions = [s["action"] for s in yaml.safe_load(saved.workflow.read_text())["steps"]]
    return actions, [s.text for s in guide.steps]


# -- the extension, the server ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def extension(tmp_path_factory):
    from guidecast.capture.extension_build import NAME, build_extension

    out = tmp_path_factory.mktemp("ext")
    build_extension(out)
    return out / NAME


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_app, todomvc_app):
    from guidecast.server.auth import new_api_token
    from guidecast.server.models import User
    from guidecast.server.settings import load_settings
    from guidecast.server.testing import add_user, running_server

    hosts = [urlsplit(a.url).netloc for a in (sample_app, todomvc_app)]
    data = tmp_path_factory.mktemp("server")
    st = load_settings(environ={}, data_dir=data, tts_engine="silent", capture_allowed_hosts=hosts,
                       capture_env_vars=["EXPENSELY_PASSWORD"])
    with running_server(st) as (url, app):
        uid = add_user(app, EMAIL, "editor")
        with app.state.ctx.db.session() as s:
            token, _ = new_api_token(s, s.get(User, uid), "recorder")
        yield {"url": url, "app": app, "token": token, "data": data}


def record_with_extension(extension, user_data, server, app_url, open_, task, title):
    """Start from the popup, do the task, stop with the page's toolbar and send from the popup; returns what
    the worker knew."""
    from guidecast.capture.browser import launch_with_extension

    with launch_with_extension(extension, user_data) as ctx:
        sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
        ext_id = sw.url.split("/")[2]
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        open_(page, app_url)
        tab = sw.evaluate("(u) => chrome.tabs.query({}).then((ts) => ts.find((t) => t.url.startsWith(u)).id)", app_url)
        popup = ctx.new_page()
        popup.goto(f"chrome-extension://{ext_id}/popup.html?tab={tab}")
        popup.locator("#connection summary").click() if not popup.locator("#server").is_visible() else None
        popup.get_by_label("guidecast address").fill(server["url"])
        popup.get_by_label("API token").fill(server["token"])
        popup.get_by_role("button", name="Connect").click()
        popup.get_by_text(f"Connected as {EMAIL}").wait_for()
        popup.get_by_label("Title of the guide").fill(title)
        popup.get_by_role("button", name="Start recording").click()
        popup.get_by_text(re.compile(r"^Recording")).wait_for()
        page.bring_to_front()
        toolbar = page.locator("#__guidecast_toolbar")
        toolbar.wait_for(state="attached")

        def pace(navigated=False):
            time.sleep(0.35)  # the last event on its way to the worker (a typing pause is 250 ms)
            if navigated:
                page.wait_for_load_state()
                toolbar.wait_for(state="attached")
            deadline = time.monotonic() + 10
            while not sw.evaluate("guidecast.idle()")["idle"] and time.monotonic() < deadline:
                time.sleep(0.05)

        pace()
        task(page, pace)
        pace()
        box = None
        for _ in range(100):  # the toolbar hides for the moment of each screenshot
            box = toolbar.bounding_box()
            if box:
                break
            page.wait_for_timeout(30)
        toolbar.click(position={"x": box["width"] - 30, "y": box["height"] / 2})  # its Stop button
        deadline = time.monotonic() + 10
        while not sw.evaluate("guidecast.status()")["stopped"] and time.monotonic() < deadline:
            time.sleep(0.05)
        popup.bring_to_front()
        popup.reload()
        popup.get_by_text("Recorded").wait_for()
        body = bytes(sw.evaluate("Array.from(guidecast.recording().bundle())"))  # what the upload sends
        with ctx.expect_page() as editor:
            popup.get_by_role("button", name="Send to guidecast").click()
        editor.value.wait_for_load_state()
        editor_url = editor.value.url  # the editor, behind the server's sign-in in this fresh browser
        status = sw.evaluate("guidecast.status()")
    return {"body": body, "status": status, "editor_url": editor_url}


def server_guide(server, guide_id: int) -> dict:
    from guidecast.server.testing import wait_jobs

    with httpx.Client(base_url=server["url"], headers={"Authorization": f"Bearer {server['token']}"}, timeout=60) as c:
        wait_jobs(c, guide_id)
        return c.get(f"/api/guides/{guide_id}/edits").json()


def stored(server, guide_id: int, dest: Path) -> tuple[Path, Path]:
    """The guide's stored workflow and capture, from the server's asset store."""
    from guidecast.server.models import Guide

    ctx = server["app"].state.ctx
    with ctx.db.session() as s:
        g = s.get(Guide, guide_id)
        blob, tree = g.workflow_blob, g.capture_tree
    dest.mkdir(parents=True, exist_ok=True)
    wf = dest / "flow.yaml"
    wf.write_bytes(ctx.assets.blob_path(blob).read_bytes())
    return wf, ctx.assets.materialize(tree, dest / "capture")


def _pixels(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("L"), dtype=float)


def assert_highlights_match(capture: Path, replay: Path):
    """Each step's highlight box shows the same element in the recorded screenshot as in the replay's."""
    from guidecast.capture.bundle import load_capture

    rec, rep = load_capture(capture), load_capture(replay)
    assert [s.id for s in rec.steps] == [s.id for s in rep.steps]
    for a, b in zip(rec.steps, rep.steps, strict=True):
        assert a.element and b.element and a.element.box_device and b.element.box_device, a.id
        ba, bb = a.element.box_device, b.element.box_device
        assert abs(ba.x - bb.x) < 3 and abs(ba.y - bb.y) < 3 and abs(ba.width - bb.width) < 3, (a.id, ba, bb)
        pa, pb = _pixels(capture / "screenshots" / a.screenshot), _pixels(replay / "screenshots" / b.screenshot)
        x, y, w, h = int(bb.x), int(bb.y), max(1, int(bb.width)), max(1, int(bb.height))
        crop_a, crop_b = pa[y:y + h, x:x + w], pb[y:y + h, x:x + w]
        if a.value_redacted or (a.element.input_type == "password"):
            continue  # masked in one, blurred in the other: compared by box only
        assert np.abs(crop_a - crop_b).mean() < 12, (a.id, np.abs(crop_a - crop_b).mean())


def check_unchanged(wf: Path, capture: Path, base_url: str):
    r = subprocess.run([sys.executable, "-m", "guidecast", "check", str(capture), "--workflow", str(wf),
                        "--base-url", base_url], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((capture.parent / "check" / "report.json").read_text())
    assert {s["status"] for s in report["steps"]} == {"unchanged"}, report["steps"]
    return capture.parent / "check" / "capture"


def no_password_in(server, body: bytes):
    assert PASSWORD.encode() not in body
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        assert all(PASSWORD.encode() not in z.read(n) for n in z.namelist())
    for f in Path(server["data"]).rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f


def test_the_extension_records_the_expense_workflow_into_the_library(extension, server, sample_app, tmp_path):
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base") as app:
        got = record_with_extension(extension, tmp_path / "profile", server, app.url, expense_open, expense_task,
                                    "Submit an expense")
    guide_id = got["status"]["last_upload"]["guide_id"]
    assert f"/guides/{guide_id}/edit" in unquote(got["editor_url"]), got["editor_url"]
    doc = server_guide(server, guide_id)
    texts = [s["text"] for s in doc["base"]["steps"]]
    wf, capture = stored(server, guide_id, tmp_path / "stored")
    import yaml

    flow = yaml.safe_load(wf.read_text())
    assert flow["secrets"] == {"password": "EXPENSELY_PASSWORD"} and flow["steps"][1]["secret"] == "password"
    with start_sample_app("base") as cli_app:
        actions, cli_texts = cli_guide(cli_app.url, expense_open, expense_task, tmp_path / "cli")
    assert [s["action"] for s in flow["steps"]] == actions == [
        "fill", "fill", "click", "click", "click", "fill", "fill", "select", "fill", "check", "click"]
    assert len(texts) == 11 and texts == cli_texts
    no_password_in(server, got["body"])
    with start_sample_app("base") as fresh:
        replay = check_unchanged(wf, capture, fresh.url)
    assert_highlights_match(capture, replay)


def test_the_extension_records_a_todomvc_task(extension, server, todomvc_app, tmp_path):
    got = record_with_extension(extension, tmp_path / "profile", server, todomvc_app.url, todo_open, todo_task,
                                "Keep a to-do list")
    guide_id = got["status"]["last_upload"]["guide_id"]
    doc = server_guide(server, guide_id)
    texts = [s["text"] for s in doc["base"]["steps"]]
    wf, capture = stored(server, guide_id, tmp_path / "stored")
    import yaml

    flow = yaml.safe_load(wf.read_text())
    actions, cli_texts = cli_guide(todomvc_app.url, todo_open, todo_task, tmp_path / "cli")
    assert [s["action"] for s in flow["steps"]] == actions
    assert texts == cli_texts
    assert any(s.get("id") == "check-buy-milk" for s in flow["steps"])
    replay = check_unchanged(wf, capture, todomvc_app.url)
    assert_highlights_match(capture, replay)


def test_blur_this_element_hides_it_in_every_picture_and_is_no_step(extension, sample_app, tmp_path):
    """The popup's "Blur an element", then a click on the page's heading: the click is no step, and the
    heading is masked in the page and blurred in the pixels of every later picture."""
    from PIL import Image

    from guidecast.capture.browser import launch_with_extension
    from guidecast.capture.bundle import load_capture
    from guidecast.capture.extension_recording import convert_recording, opened_bundle

    with launch_with_extension(extension, tmp_path / "profile") as ctx:
        sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.goto(sample_app.url + "/login")
        heading = page.get_by_role("heading", name="Sign in to Expensely")
        plain = page.screenshot()
        hb = heading.bounding_box()
        tab = sw.evaluate("(u) => chrome.tabs.query({}).then((ts) => ts.find((t) => t.url.startsWith(u)).id)",
                          sample_app.url)
        popup = ctx.new_page()
        popup.goto(f"chrome-extension://{sw.url.split('/')[2]}/popup.html?tab={tab}")
        popup.get_by_role("button", name="Start recording").click()
        popup.get_by_text(re.compile(r"^Recording")).wait_for()
        popup.get_by_role("button", name="Blur an element").click()
        popup.get_by_text("Click the element to blur").wait_for()
        page.bring_to_front()
        page.locator("#__guidecast_toolbar").wait_for(state="attached")
        heading.click()
        page.get_by_label("Email").click()
        time.sleep(0.4)
        page.get_by_label("Email").fill("alex.morgan@example.com")
        page.get_by_label("Password").click()
        time.sleep(0.8)
        sw.evaluate("guidecast.stop()")
        (tmp_path / "rec.zip").write_bytes(bytes(sw.evaluate("Array.from(guidecast.recording().bundle())")))
    with opened_bundle(tmp_path / "rec.zip") as folder:
        wf, capture, _ = convert_recording(folder, tmp_path / "flow.yaml")
    assert [s.action for s in wf.steps] == ["fill"]  # the picking click is no step
    cap = load_capture(capture)
    x, y, w, h = (int(v) for v in (hb["x"], hb["y"], hb["width"], hb["height"]))
    shot = np.asarray(Image.open(capture / "screenshots" / cap.steps[0].screenshot).convert("L"), float)
    before = np.asarray(Image.open(io.BytesIO(plain)).convert("L"), float)
    assert before[y:y + h, x:x + w].std() > 20  # the heading's letters
    assert shot[y:y + h, x:x + w].std() < before[y:y + h, x:x + w].std() / 4  # gone from the recording
    assert any(b.x <= x + 1 and b.width >= w - 2 for b in cap.steps[0].blurred)


def test_the_extension_follows_iframes_and_the_popups_its_tab_opens(extension, tmp_path):
    """A card form in an iframe gets `frame:` locators and boxes in the top page's pixels; a chat popup the
    tab opens is followed (its opener's click `opens_popup`, its steps `page: popup-1`, its closing a step);
    the workflow replays to the same end state."""
    from guidecast.capture.browser import launch_with_extension
    from guidecast.capture.extension_recording import convert_recording, opened_bundle
    from guidecast.capture.replay import capture_workflow
    from tests.fixtures.capture.site_server import serve_site

    with serve_site() as site, launch_with_extension(extension, tmp_path / "profile") as ctx:
        sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.goto(site.url + "/index.html")
        tab = sw.evaluate("(u) => chrome.tabs.query({}).then((ts) => ts.find((t) => t.url.startsWith(u)).id)", site.url)
        sw.evaluate(f"guidecast.start({{tabId: {tab}}})")

        def pace():
            time.sleep(0.35)
            deadline = time.monotonic() + 10
            while not sw.evaluate("guidecast.idle()")["idle"] and time.monotonic() < deadline:
                time.sleep(0.05)

        page.locator("#__guidecast_toolbar").wait_for(state="attached")
        pace()
        page.get_by_role("link", name="Checkout").click(delay=250)
        page.wait_for_load_state()
        page.locator("#__guidecast_toolbar").wait_for(state="attached")
        pace()
        frame = page.frame_locator('iframe[name="payment"]')
        frame.get_by_label("Card holder").click()
        pace()
        frame.get_by_label("Card holder").press_sequentially("Robin Lee")
        pace()
        frame.get_by_role("button", name="Pay now").click(delay=250)
        pace()
        with page.expect_popup() as popup:
            page.get_by_role("button", name="Open chat").click(delay=250)
        chat = popup.value
        chat.wait_for_load_state()
        pace()
        chat.get_by_label("Message").click()
        pace()
        chat.get_by_label("Message").press_sequentially("Hello")
        pace()
        chat.get_by_role("button", name="Send").click(delay=250)  # the popup closes itself
        page.get_by_text("Chat ended").wait_for()
        pace()
        sw.evaluate("guidecast.stop()")
        (tmp_path / "rec.zip").write_bytes(bytes(sw.evaluate("Array.from(guidecast.recording().bundle())")))
        recorded_log = list(site.log)
    with opened_bundle(tmp_path / "rec.zip") as folder:
        convert_recording(folder, tmp_path / "shop.yaml")
    import yaml

    steps = yaml.safe_load((tmp_path / "shop.yaml").read_text())["steps"]
    assert [s["action"] for s in steps] == ["click", "fill", "click", "click", "fill", "click", "close_page"]
    assert steps[1]["target"] == {"role": "textbox", "name": "Card holder", "frame": ['iframe[name="payment"]']}
    # the click that opened the popup makes it the current tab (capture/tabs.py): its steps need no `page:`,
    # its closing names it
    assert steps[3]["opens_popup"] is True and "page" not in steps[4] and steps[6]["page"] == "popup-1"
    with serve_site() as fresh:
        bundle = capture_workflow(tmp_path / "shop.yaml", tmp_path / "cap", base_url=fresh.url)
        assert fresh.log == recorded_log == [{"paid_by": "Robin Lee"}, {"chat": "Hello"}]
    assert [s.page for s in bundle.steps[4:6]] == ["popup-1", "popup-1"]
