"""The what-you-see editor in real Chromium against a real server: the guide as learners read it, edited in
place (bold by Ctrl+B and the toolbar, never asterisks on screen), the edit in the published learner view and
in the exports; undo/redo; hiding a step keeps the scroll position; drag-and-drop and keyboard reordering
persist; a blur applied to an element by clicking it, then to every screenshot where that element appears,
is blurred in every published picture and in the video's frames; two editors' stale saves merge (both kept)."""
from __future__ import annotations

import json
import subprocess
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, publish, running_server, sign_in, upload, wait_jobs, zip_folder
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [pytest.mark.browser, requires_browser, requires_ffmpeg]
EDITOR = "editor@example.com"


@pytest.fixture(scope="module")
def site(tmp_path_factory, submit_expense_capture):
    data = tmp_path_factory.mktemp("editor-server")
    st = load_settings(environ={}, data_dir=data / "srv", tts_engine="silent", video_width=480, video_height=270)
    with running_server(st) as (url, app):
        add_user(app, EDITOR, "editor")
        api = sign_in(httpx.Client(base_url=url, follow_redirects=True, timeout=120), EDITOR)
        yield url, app, api, zip_folder(submit_expense_capture, "capture/")
        api.close()


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser() as b:
        yield b


def new_guide(site) -> int:
    url, app, api, bundle = site
    gid = upload(api, "capture.zip", bundle).json()["guide"]["id"]
    wait_jobs(api, gid)
    return gid


def open_editor(site, browser, gid: int, width: int = 1280, height: int = 900):
    url, _, api, _ = site
    ctx = browser.new_context(viewport={"width": width, "height": height})
    ctx.add_cookies([{"name": "guidecast_session", "value": api.cookies["guidecast_session"], "url": url}])
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(f"{url}/guides/{gid}/edit")
    page.wait_for_selector("#editor[data-ready='1']")
    page.errors = errors
    return page


def saved(page) -> None:
    page.wait_for_function("() => document.getElementById('save-state').textContent === 'All changes saved'",
                           timeout=15000)


def doc(site, gid: int) -> dict:
    return site[2].get(f"/api/guides/{gid}/edits").json()["edits"]


def ids(page) -> list[str]:
    return page.eval_on_selector_all("#steps .edit-step[data-step-id]", "els => els.map(e => e.dataset.stepId)")


def step(page, n: int):
    return page.locator("#steps .edit-step[data-step-id]").nth(n)


def publish_version(api, gid: int) -> dict:
    """Publish the saved edits and wait for the version (not its video: tests not marked `video` render none)."""
    job = api.post(f"/api/guides/{gid}/publish", json={}).json()
    deadline = time.monotonic() + 120
    while job["state"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
        job = api.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def published_dir(site, gid: int, tmp_path, which: str = "guide"):
    """The latest version's guide (or video) folder, laid out from the store."""
    _, app, _, _ = site
    ctx = app.state.ctx
    with ctx.db.session() as s:
        from guidecast.server.models import Guide

        v = s.get(Guide, gid).latest_version
        tree = v.guide_tree if which == "guide" else v.video_tree
    return ctx.assets.materialize(tree, tmp_path / f"{which}-{gid}")


def test_an_edit_made_in_place_is_bold_in_the_learner_view_and_the_exports(site, browser, tmp_path):
    from guidecast.composer.export import export_html, export_markdown
    from guidecast.composer.guide import load_guide

    url, _, api, _ = site
    gid = new_guide(site)
    page = open_editor(site, browser, gid)
    # the learner view's own parts: title, intro, section headings, numbered steps, notes, screenshots, ending
    assert page.locator(".learn-head h1").inner_text() == "Submit an expense report"
    assert page.locator(".steps .guide-section h2").count() >= 2 and page.locator(".steps .callout").count() >= 1
    assert page.locator(".steps .step figure img").count() == 11 and page.locator(".outro p").inner_text()
    assert page.locator("textarea.step-text, .edit-step textarea:visible").count() == 0  # no form fields to fill

    first = step(page, 0).locator(".text")
    first.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Type your work address in ")
    page.keyboard.press("Control+B")
    page.keyboard.type("Email")
    page.keyboard.press("Control+B")
    page.keyboard.type(".")
    assert first.locator("strong, b").inner_text() == "Email"
    # the toolbar's B on a word of the intro; the title and the ending in place
    intro = page.locator("#intro-edit")
    intro.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Record an expense and send it for approval.")
    page.evaluate("""() => { const el = document.getElementById('intro-edit'), t = el.firstChild, r = document.createRange();
                             r.setStart(t, 10); r.setEnd(t, 17); const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    page.locator("#bold").click()
    page.locator("#title-edit").fill("Claim an expense")
    page.locator("#outro-edit").fill("Your manager now sees the expense.")
    saved(page)
    d = doc(site, gid)
    first_id = ids(page)[0]
    assert d["steps"][first_id]["text"] == "Type your work address in **Email**."
    assert d["intro"] == "Record an **expense** and send it for approval."
    assert (d["title"], d["outro"]) == ("Claim an expense", "Your manager now sees the expense.")
    body = page.locator("#editor").inner_text()
    assert "**" not in body and first_id not in body  # no markup and no internal ids on screen

    page.get_by_role("button", name="Publish new version").click()
    page.wait_for_function("() => document.getElementById('publish-state').textContent.startsWith('Published version 1')",
                           timeout=90000)
    assert page.errors == []
    learner = page.context.new_page()
    learner.goto(f"{url}/g/{gid}")
    assert learner.locator("h1").first.inner_text() == "Claim an expense"
    assert learner.locator(".steps .step").first.locator(".text strong").inner_text() == "Email"
    assert learner.locator(".steps .step").first.locator(".text").inner_text().endswith("Type your work address in Email.")
    assert learner.locator(".intro strong").inner_text() == "expense"
    assert "Your manager now sees the expense." in learner.locator(".outro").inner_text()

    guide_dir = published_dir(site, gid, tmp_path)
    guide = load_guide(guide_dir)
    html = export_html(guide, guide_dir, tmp_path / "guide.html").read_text("utf-8")
    md = export_markdown(guide, tmp_path / "md" / "guide.md").read_text("utf-8")
    assert "Type your work address in <strong>Email</strong>." in html and "Claim an expense" in html
    assert "Type your work address in **Email**." in md and "Record an **expense** and send it for approval." in md
    page.context.close()


def test_undo_redo_hide_keeps_the_scroll_and_reorder_by_drag_and_keyboard_persists(site, browser):
    gid = new_guide(site)
    page = open_editor(site, browser, gid, height=800)
    before = ids(page)

    # hide step 5 scrolled half-way: the step stays where it was on screen
    fifth = step(page, 4)
    fifth.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 120)")
    top = fifth.bounding_box()["y"]
    assert 100 < top < 140
    bar = page.locator(".editor-bar").bounding_box()  # the toolbar stays on screen, far down the page too
    assert page.evaluate("window.scrollY") > 2000 and bar["y"] >= 0 and bar["y"] + bar["height"] < 120
    assert page.get_by_role("button", name="Publish new version").is_visible()
    fifth.get_by_role("button", name="Hide").click()
    after_top = page.locator(f"[data-step-id='{before[4]}']").bounding_box()["y"]
    assert abs(after_top - top) <= 2, (top, after_top)
    assert page.locator(f"[data-step-id='{before[4]}']").get_attribute("class").split().count("is-hidden") == 1
    saved(page)
    assert doc(site, gid)["steps"][before[4]]["hidden"] is True

    # undo (Ctrl+Z) and redo (the toolbar)
    page.locator("#editor .learn-head .eyebrow").click()
    page.keyboard.press("Control+Z")
    saved(page)
    assert "steps" not in doc(site, gid)
    assert "is-hidden" not in page.locator(f"[data-step-id='{before[4]}']").get_attribute("class")
    page.get_by_role("button", name="Redo").click()
    saved(page)
    assert doc(site, gid)["steps"][before[4]]["hidden"] is True
    # typing is undone as a whole, and redone
    text = step(page, 1).locator(".text")
    text.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Type your password.")
    saved(page)
    assert doc(site, gid)["steps"][before[1]]["text"] == "Type your password."
    page.get_by_role("button", name="Undo").click()
    saved(page)
    assert "text" not in doc(site, gid)["steps"].get(before[1], {})
    assert "**" not in step(page, 1).locator(".text").inner_text()
    page.keyboard.press("Control+Shift+Z")
    saved(page)
    assert doc(site, gid)["steps"][before[1]]["text"] == "Type your password."

    # drag step 2 above step 1 by its handle
    page.set_viewport_size({"width": 1280, "height": 1400})
    step(page, 0).evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 100)")
    handle, target = step(page, 1).locator(".drag").bounding_box(), step(page, 0).bounding_box()
    assert handle["y"] < 1350
    page.mouse.move(handle["x"] + 8, handle["y"] + 8)
    page.mouse.down()
    page.mouse.move(handle["x"] + 30, handle["y"] - 20, steps=5)
    page.mouse.move(target["x"] + 200, target["y"] + 10, steps=10)
    page.mouse.up()
    saved(page)
    assert ids(page) == [before[1], before[0]] + before[2:]
    # and step 2 (the old first) down one more with the keyboard on its handle
    step(page, 1).locator(".drag").focus()
    page.keyboard.press("ArrowDown")
    saved(page)
    expected = [before[1], before[2], before[0]] + before[3:]
    assert ids(page) == expected
    assert page.evaluate("() => document.activeElement.dataset.act") == "drag"  # focus stays on the moved step

    # the order persists: a fresh editor and the published guide have it
    page.reload()
    page.wait_for_selector("#editor[data-ready='1']")
    assert ids(page) == expected
    publish_version(site[2], gid)
    learner = page.context.new_page()
    learner.goto(f"{site[0]}/g/{gid}")
    shown = learner.eval_on_selector_all(".steps .step", "els => els.map(e => e.dataset.stepId)")
    assert shown == [i for i in expected if i != before[4]]  # the hidden step is not there
    assert page.errors == []
    page.context.close()


def spread(img: Image.Image, box: dict, scale: float = 1.0) -> float:
    """How much the pixels inside `box` (CSS px) vary: text is sharp, a blur is flat."""
    a = np.asarray(img.convert("L"), dtype=float)
    x0, y0 = int(box["x"] * scale), int(box["y"] * scale)
    x1, y1 = int((box["x"] + box["width"]) * scale), int((box["y"] + box["height"]) * scale)
    return float(a[y0 + 1:y1 - 1, x0 + 1:x1 - 1].std())


def test_a_blur_on_an_element_is_applied_to_every_screenshot_showing_it_and_to_the_video(site, browser, tmp_path,
                                                                                        renders_video):
    url, app, api, _ = site
    gid = new_guide(site)
    state = api.get(f"/api/guides/{gid}/edits").json()
    tools, base = state["tools"], state["base"]
    showing = [s["id"] for s in base["steps"] if any(c["name"] == "Email" for c in tools.get(s["id"], {}).get("controls", []))]
    assert len(showing) == 3
    page = open_editor(site, browser, gid)
    # click the Email field on the second screenshot (the address typed in step 1 shows there)
    second = page.locator(f"[data-step-id='{showing[1]}']")
    email = next(c for c in tools[showing[1]]["controls"] if c["name"] == "Email")
    img = second.locator(".shot img")
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    f = box["width"] / 1280
    page.mouse.click(box["x"] + (email["box"]["x"] + email["box"]["width"] / 2) * f,
                     box["y"] + (email["box"]["y"] + email["box"]["height"] / 2) * f)
    assert second.locator(".box.blur").count() == 1
    # a real blur preview: the box blurs what is under it (a CSS backdrop filter), it is not a tinted rectangle
    assert "blur" in second.locator(".box.blur").evaluate("el => getComputedStyle(el).backdropFilter")
    second.get_by_role("button", name="Blur “Email” on every screenshot where it appears (2 more)").click()
    saved(page)
    d = doc(site, gid)
    for sid in showing:
        (r,) = d["steps"][sid]["blur"]
        own = next(c for c in tools[sid]["controls"] if c["name"] == "Email")["box"]
        assert r["x"] <= own["x"] and r["x"] + r["width"] >= own["x"] + own["width"] - 1, (sid, r, own)
        assert page.locator(f"[data-step-id='{sid}'] .box.blur").count() == 1
    page.screenshot(path=str(tmp_path / "editor-blur.png"))

    publish(api, gid)  # the version, then its video
    guide_dir = published_dir(site, gid, tmp_path)
    gj = json.loads((guide_dir / "guide.json").read_text())
    by_id = {s["id"]: s for s in gj["steps"]}
    ctx = app.state.ctx
    with ctx.db.session() as s:
        from guidecast.server.models import Guide

        cap_tree = s.get(Guide, gid).capture_tree
    cap_dir = ctx.assets.materialize(cap_tree, tmp_path / "capture")
    cap = json.loads((cap_dir / "capture.json").read_text())
    shots = {s["id"]: cap_dir / "screenshots" / s["screenshot"] for s in cap["steps"]}
    for sid in showing:  # each tied to the field, so a refresh moves it with the field (composer/anchors.py)
        assert [(b["state"], b["anchor"]["name"]) for b in by_id[sid]["blurs"]] == [("anchored", "Email")]
    typed = 0
    for sid in showing:
        own = next(c for c in tools[sid]["controls"] if c["name"] == "Email")["box"]
        with Image.open(shots[sid]) as raw, Image.open(guide_dir / by_id[sid]["image"]) as out:
            before, after = spread(raw, own), spread(out, own)
        if before > 20:  # the address is on this screenshot
            typed += 1
            assert after < 0.5 * before, (sid, before, after)
    assert typed >= 2  # steps 2 and 3 show the typed address, both blurred

    # the video: a frame from each step's lead (the whole screenshot) is blurred there too
    video_dir = published_dir(site, gid, tmp_path, "video")
    vj = json.loads((video_dir / "video.json").read_text())
    segments = {sg["id"]: sg for sg in vj["segments"] if sg["kind"] == "step"}
    scale = 480 / 1280
    for sid in showing[1:]:
        frame = tmp_path / f"frame-{sid}.png"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", f"{segments[sid]['start'] + 0.08:.3f}", "-i",
                        str(video_dir / vj["files"]["video"]), "-frames:v", "1", str(frame)], check=True)
        own = next(c for c in tools[sid]["controls"] if c["name"] == "Email")["box"]
        own = {**own, "width": own["width"] * 0.4}  # where the address starts (the video's cursor rests mid-field)
        with Image.open(shots[sid]) as raw, Image.open(frame) as fr:
            assert fr.size == (480, 270)
            small = raw.convert("RGB").resize((480, 270), Image.BILINEAR)
            before, after = spread(small, own, scale), spread(fr, own, scale)
        assert before > 12 and after < 0.5 * before, (sid, before, after)
    assert page.errors == []
    page.context.close()


def test_crop_and_zoom_preview_on_the_screenshot_and_reach_the_published_picture(site, browser, tmp_path):
    gid = new_guide(site)
    page = open_editor(site, browser, gid)
    order = ids(page)
    third = step(page, 2)
    # crop: drag on the full screenshot; the preview then shows only the region, the full picture a click away
    third.locator(".draw-mode[value=crop]").check()
    third = step(page, 2)
    img = third.locator(".shot img")
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    f = box["width"] / 1280
    page.mouse.move(box["x"] + 400 * f, box["y"] + 200 * f)
    page.mouse.down()
    page.mouse.move(box["x"] + 1040 * f, box["y"] + 560 * f, steps=6)
    page.mouse.up()
    saved(page)
    crop = doc(site, gid)["steps"][order[2]]["crop"]
    assert abs(crop["x"] - 400) <= 3 and abs(crop["width"] - 640) <= 4 and abs(crop["height"] - 360) <= 4
    frame = step(page, 2).locator(".shot .frame").bounding_box()
    assert abs(frame["width"] / frame["height"] - crop["width"] / crop["height"]) < 0.03  # the crop's shape
    shown = step(page, 2).locator(".shot img").bounding_box()
    assert shown["width"] > 1.9 * frame["width"]  # the picture is zoomed so the region fills the frame
    step(page, 2).get_by_role("button", name="Show the full screenshot").click()
    full = step(page, 2).locator(".shot .frame").bounding_box()
    assert abs(full["width"] / full["height"] - 16 / 9) < 0.03 and step(page, 2).locator(".box.crop").count() == 1
    step(page, 2).get_by_role("button", name="Show what learners see").click()
    # zoom to the target on another step: a preview around its target
    fifth = step(page, 4)
    fifth.locator(".zoom-toggle").check()
    saved(page)
    assert doc(site, gid)["steps"][order[4]]["zoom"] is True
    zoomed = step(page, 4).locator(".shot .frame").bounding_box()
    assert step(page, 4).locator(".shot img").bounding_box()["width"] > 1.2 * zoomed["width"]
    page.screenshot(path=str(tmp_path / "editor-crop.png"))
    publish_version(site[2], gid)
    guide_dir = published_dir(site, gid, tmp_path)
    steps = {s["id"]: s for s in json.loads((guide_dir / "guide.json").read_text())["steps"]}
    assert tuple(steps[order[2]]["image_size"]) == (crop["width"], crop["height"])
    w, h = steps[order[4]]["image_size"]
    assert w < 1280 and abs(w / h - 16 / 9) < 0.02
    with Image.open(guide_dir / steps[order[2]]["image"]) as im:
        assert im.size == (crop["width"], crop["height"])
    assert page.errors == []
    page.context.close()


def test_merge_and_split_from_the_steps_toolbar_reach_the_learner_view(site, browser):
    url, _, api, _ = site
    gid = new_guide(site)
    page = open_editor(site, browser, gid)
    order = ids(page)
    step(page, 0).get_by_role("button", name="Merge with next").click()
    assert step(page, 1).locator(".num").inner_text() == "1"  # the two are one step now
    assert "Merged into the step above" in step(page, 1).inner_text()
    last = step(page, len(order) - 1)
    last.get_by_role("button", name="Split").click()
    parts = step(page, len(order) - 1).locator(".text.split-part")
    assert parts.count() == 2
    parts.nth(1).click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Your manager gets it for approval.")
    if parts.nth(1).locator("strong, b").count():  # typed over a bold name: the new words came out bold
        page.keyboard.press("Control+A")
        page.keyboard.press("Control+B")
    assert parts.nth(1).locator("strong, b").count() == 0
    saved(page)
    d = doc(site, gid)
    assert d["merge"] == [{"first": order[0], "second": order[1]}]
    assert d["split"][0]["step"] == order[-1] and d["split"][0]["texts"][1] == "Your manager gets it for approval."
    nums = page.eval_on_selector_all("#steps .edit-step[data-step-id] .num", "els => els.map(e => e.textContent)")
    assert nums[0] == nums[1] == "1" and nums[-1] == str(len(order) - 1)
    publish_version(api, gid)
    learner = page.context.new_page()
    learner.goto(f"{url}/g/{gid}")
    texts = learner.locator(".steps .step .text").all_inner_texts()
    assert len(texts) == len(order)  # one fewer by the merge, one more by the split
    assert texts[-1].endswith("Your manager gets it for approval.")
    assert page.errors == []
    page.context.close()


def test_two_editors_stale_saves_merge_and_keep_both_edits(site, browser):
    gid = new_guide(site)
    a, b = open_editor(site, browser, gid, 1100), open_editor(site, browser, gid, 1100)
    order = ids(a)

    def write(page, n, text):
        el = step(page, n).locator(".text")
        el.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(text)

    # different steps: B's save is stale (409), merges A's edit in and saves again; both are kept
    write(a, 0, "A wrote the first step.")
    saved(a)
    write(b, 1, "B wrote the second step.")
    saved(b)
    d = doc(site, gid)
    assert d["steps"][order[0]]["text"] == "A wrote the first step."
    assert d["steps"][order[1]]["text"] == "B wrote the second step."
    assert step(b, 0).locator(".text").inner_text() == "A wrote the first step."  # B now sees A's edit
    # different kinds of change: A hides step 4 while B (stale) reorders; both kept
    step(a, 3).get_by_role("button", name="Hide").click()
    saved(a)
    step(b, 5).get_by_role("button", name="Move up").click()
    saved(b)
    d = doc(site, gid)
    assert d["steps"][order[3]]["hidden"] is True and d["move"]
    # the same text: the stale editor is told in words, and chooses
    write(b, 0, "B rewrote the first step.")
    saved(b)
    write(a, 0, "A insists on this first step.")
    a.wait_for_selector("#conflict:not([hidden])")
    assert "the text of step 1" in a.locator("#conflict-text").inner_text()
    assert doc(site, gid)["steps"][order[0]]["text"] == "B rewrote the first step."
    a.get_by_role("button", name="Keep my changes").click()
    saved(a)
    d = doc(site, gid)
    assert d["steps"][order[0]]["text"] == "A insists on this first step."
    assert d["steps"][order[1]]["text"] == "B wrote the second step." and d["steps"][order[3]]["hidden"] is True
    assert a.errors == [] and b.errors == []
    a.context.close()
    b.context.close()
