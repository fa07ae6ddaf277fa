"""The web app in Chromium: a manager signs in, uploads the sample capture, edits, reorders, adds a
callout, publishes and shares; a signed-out learner opens the link, sees the change, plays the video,
seeks by chapter, uses step-by-step mode on a phone-sized screen; the revoked link is refused. No
script from user text ever runs (no dialog)."""
from __future__ import annotations

import re

import pytest

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, running_server, zip_folder
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [pytest.mark.browser, requires_browser, requires_ffmpeg]
PASSWORD = "password-123456"
XSS_TITLE = 'Expenses <img src=x onerror="alert(1)">'
XSS_CALLOUT = '<script>alert("callout")</script> Keep the receipt.'


@pytest.fixture(scope="module")
def site(tmp_path_factory, submit_expense_capture, renders_video):
    data = tmp_path_factory.mktemp("browser-server")
    st = load_settings(environ={}, data_dir=data / "srv", tts_engine="silent", video_width=480, video_height=270)
    bundle = data / "capture.zip"
    bundle.write_bytes(zip_folder(submit_expense_capture, "capture/"))
    with running_server(st) as (url, app):
        add_user(app, "manager@example.com", "admin", PASSWORD)
        yield url, bundle, app


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser() as b:
        yield b


def _watch_dialogs(page, fired: list) -> None:
    def on_dialog(d):
        if d.type == "confirm":  # the page's own "are you sure?" (revoke, delete): yes
            d.accept()
            return
        fired.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)


def _saved(page) -> None:
    page.wait_for_function("() => document.getElementById('save-state').textContent.startsWith('All changes saved')",
                           timeout=15000)


def _step_ids(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.stepId)")


def test_edit_publish_share_learn_revoke(site, browser):
    url, bundle, _ = site
    fired: list[str] = []
    manager = browser.new_context(viewport={"width": 1280, "height": 900})
    page = manager.new_page()
    _watch_dialogs(page, fired)

    # sign in (the library redirects to the form and back)
    page.goto(url + "/")
    assert "/signin" in page.url
    page.get_by_label("Email").fill("manager@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")

    # upload the capture bundle; the compose job's progress shows live and the page reloads when done
    page.set_input_files("input[name=file]", str(bundle))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/guides/\d+$"))
    gid = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Edit", exact=True).wait_for(timeout=60000)
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_selector("#editor[data-ready='1']")

    # edit a step's text, the title, reorder steps 2 and 3, add a callout to the (new) third step
    steps = page.locator(".edit-step[data-step-id]")
    before = _step_ids(page, ".edit-step[data-step-id]")
    steps.nth(0).locator(".text").fill("Type your work email address.")
    page.locator("#title-edit").fill(XSS_TITLE)
    _saved(page)
    steps.nth(1).get_by_role("button", name="Move down").click()
    _saved(page)
    after = _step_ids(page, ".edit-step[data-step-id]")
    assert after[1:3] == [before[2], before[1]] and after[3:] == before[3:]
    third = steps.nth(2)
    third.get_by_role("button", name="Add a note").click()
    third.locator(".callout-kind").select_option("warning")
    third.locator(".callout .callout-text[contenteditable]").fill(XSS_CALLOUT)
    _saved(page)
    assert third.locator(".callout-kind").count() == 1
    # a pronunciation for the voice, saved in the edit document
    page.locator("details.lexicon summary").click()
    page.locator("#lexicon-name").fill("Expensely")
    page.locator("#lexicon-say").fill("Expense-lee")
    page.get_by_role("button", name="Add", exact=True).click()
    _saved(page)
    assert page.locator("#lexicon-list li").inner_text().startswith("Expensely → Expense-lee")
    # the guide's voice and speed
    page.locator("#voice-select").select_option("silence")
    page.locator("#rate-input").fill("180")
    _saved(page)
    saved = page.evaluate(f"() => fetch('/api/guides/{gid}/edits').then(r => r.json())")
    assert saved["edits"]["pronunciations"] == {"Expensely": "Expense-lee"}
    assert (saved["edits"]["voice"], saved["edits"]["rate"]) == ("silence", 180)

    # publish; the version appears, then the video renders in the background
    page.get_by_role("button", name="Publish new version").click()
    page.wait_for_function("() => document.getElementById('publish-state').textContent.startsWith('Published version 1')",
                           timeout=90000)
    page.goto(f"{url}/guides/{gid}")
    page.wait_for_function("() => !document.querySelector('li[data-job][data-state=queued], li[data-job][data-state=running]')",
                           timeout=120000)
    assert page.locator("li[data-job][data-state=failed]").count() == 0
    page.get_by_role("button", name="Create link").click()
    share = page.locator(".link-row[data-link-state=live] a.share-url").first.get_attribute("href")
    assert share.startswith(url + "/s/")

    # a signed-out learner opens the link and sees the edits
    learner_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    learner = learner_ctx.new_page()
    _watch_dialogs(learner, fired)
    learner.goto(share)
    assert learner.locator("h1").first.inner_text() == XSS_TITLE
    assert learner.locator(".steps .step").first.locator(".text").inner_text().endswith("Type your work email address.")
    assert _step_ids(learner, ".steps .step")[:3] == after[:3]
    callout = learner.locator(f"#step-{after[2]} .callout.warning")
    assert XSS_CALLOUT in callout.inner_text()

    # side by side when wide
    guide_box, player_box = learner.locator(".steps-col").bounding_box(), learner.locator(".player").bounding_box()
    assert player_box["x"] > guide_box["x"] + guide_box["width"] - 1

    # play the video, then seek with a chapter (mouse) and another one (keyboard)
    learner.evaluate("() => { const v = document.getElementById('video'); v.muted = true; return v.play(); }")
    learner.wait_for_function("() => document.getElementById('video').currentTime > 0.2", timeout=20000)
    chapters = learner.locator("button.chapter")
    assert chapters.count() == len(after) + 1  # the intro is its own chapter, then one per step
    for k, how in ((4, "click"), (8, "keyboard")):
        start = float(chapters.nth(k).get_attribute("data-seek"))
        if how == "click":
            chapters.nth(k).click()
        else:
            chapters.nth(k).focus()
            learner.keyboard.press("Enter")
        learner.wait_for_function(
            f"() => Math.abs(document.getElementById('video').currentTime - {start}) < 1.5", timeout=10000)
        assert start > 0
    learner.evaluate("() => document.getElementById('video').pause()")  # (playing on would move the step)
    # captions by choice
    assert learner.evaluate("() => document.getElementById('video').textTracks[0].mode") != "showing"
    learner.get_by_label("Captions").check()
    assert learner.evaluate("() => document.getElementById('video').textTracks[0].mode") == "showing"

    # on a phone: stacked, no sideways scrolling; step-by-step mode with the arrow keys
    learner.set_viewport_size({"width": 375, "height": 800})
    assert learner.evaluate("() => document.documentElement.scrollWidth") <= 375
    guide_box, player_box = learner.locator(".steps-col").bounding_box(), learner.locator(".player").bounding_box()
    assert player_box["y"] + player_box["height"] <= guide_box["y"] + 1
    learner.get_by_role("button", name="Step-by-step mode").click()
    pos, n = learner.locator("#step-pos"), len(after)
    assert pos.inner_text() == f"Step 8 of {n}"  # where the last chapter left off
    assert learner.locator(".steps .step:visible").count() == 1
    learner.keyboard.press("ArrowRight")
    assert pos.inner_text() == f"Step 9 of {n}"
    for _ in range(2):
        learner.keyboard.press("ArrowLeft")
    assert pos.inner_text() == f"Step 7 of {n}"
    learner.get_by_role("button", name="Next →").click()
    assert pos.inner_text() == f"Step 8 of {n}"
    assert learner.evaluate("() => document.documentElement.scrollWidth") <= 375

    # the manager revokes the link; the learner is refused
    page.goto(f"{url}/guides/{gid}")
    page.get_by_role("button", name="Revoke").first.click()
    page.wait_for_selector(".link-row[data-link-state=revoked]")
    response = learner.goto(share)
    assert response.status == 410
    assert "revoked" in learner.content()

    assert fired == []  # no alert from any user text, on any page
    manager.close()
    learner_ctx.close()


def test_two_editors_merge_or_see_a_conflict_and_draw_a_blur_box(site, browser):
    import httpx

    from guidecast.server.testing import sign_in, upload, wait_jobs

    url, bundle, _ = site
    api = sign_in(httpx.Client(base_url=url, follow_redirects=True, timeout=60), "manager@example.com", PASSWORD)
    gid = upload(api, "c.zip", bundle.read_bytes()).json()["guide"]["id"]
    wait_jobs(api, gid)
    pages = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1100, "height": 900})
        ctx.add_cookies([{"name": "guidecast_session", "value": api.cookies["guidecast_session"], "url": url}])
        p = ctx.new_page()
        p.goto(f"{url}/guides/{gid}/edit")
        p.wait_for_selector("#editor[data-ready='1']")
        pages.append(p)
    a, b = pages
    ids = _step_ids(a, ".edit-step[data-step-id]")

    def doc():
        return api.get(f"/api/guides/{gid}/edits").json()["edits"]

    # different steps: the stale save gets 409, merges and saves again; both changes are kept
    a.locator(".edit-step").nth(0).locator(".text").fill("A's first step.")
    _saved(a)
    b.locator(".edit-step").nth(1).locator(".text").fill("B's second step.")
    _saved(b)
    assert doc()["steps"][ids[0]]["text"] == "A's first step." and doc()["steps"][ids[1]]["text"] == "B's second step."

    # the same field: the stale editor is told, the server keeps the other's text until they choose
    b.locator(".edit-step").nth(0).locator(".text").fill("B rewrote the first step.")
    _saved(b)
    a.locator(".edit-step").nth(0).locator(".text").fill("A insists on this first step.")
    a.wait_for_selector("#conflict:not([hidden])")
    assert doc()["steps"][ids[0]]["text"] == "B rewrote the first step."
    a.get_by_role("button", name="Keep my changes").click()
    _saved(a)
    assert doc()["steps"][ids[0]]["text"] == "A insists on this first step."
    assert doc()["steps"][ids[1]]["text"] == "B's second step."

    # draw a blur box on the third screenshot
    shot = a.locator(".edit-step").nth(2).locator(".shot")
    shot.scroll_into_view_if_needed()
    box = shot.bounding_box()
    a.mouse.move(box["x"] + 40, box["y"] + 30)
    a.mouse.down()
    a.mouse.move(box["x"] + 140, box["y"] + 80, steps=4)
    a.mouse.up()
    _saved(a)
    blur = doc()["steps"][ids[2]]["blur"]
    assert len(blur) == 1 and blur[0]["width"] > 50 and blur[0]["height"] > 20
    assert a.locator(".edit-step").nth(2).locator(".box.blur").count() == 1
    for p in pages:
        p.context.close()
    api.close()


def test_the_job_list_follows_progress_from_the_event_stream(site, browser):
    """A running job's row updates from /api/jobs/ID/events, with no polling, and the page reloads when the
    job ends; a browser without EventSource polls instead."""
    import httpx

    from guidecast.server.testing import sign_in, start_ticking_job, upload, wait_jobs

    url, bundle, app = site
    api = sign_in(httpx.Client(base_url=url, follow_redirects=True, timeout=60), "manager@example.com", PASSWORD)
    gid = upload(api, "c.zip", bundle.read_bytes()).json()["guide"]["id"]
    wait_jobs(api, gid)
    for stream in (True, False):
        ctx = browser.new_context()
        ctx.add_cookies([{"name": "guidecast_session", "value": api.cookies["guidecast_session"], "url": url}])
        if not stream:
            ctx.add_init_script("delete window.EventSource")
        page = ctx.new_page()
        paths: list[str] = []
        page.on("request", lambda r, paths=paths: paths.append(r.url.split("?")[0][len(url):]))
        job = start_ticking_job(app, gid, ticks=10, every=0.4)
        page.goto(f"{url}/guides/{gid}")
        row = f"li[data-job='{job}']"
        first = page.locator(f"{row} .job-what").inner_text()  # the 1st tick reports 0 done: wait for the 2nd
        page.wait_for_function(f"""(first) => {{ const t = document.querySelector("{row} .job-what").textContent;
                                   return t !== first && /tick ([2-9]|10) of 10/.test(t); }}""", arg=first, timeout=20000)
        assert page.locator(f"{row} progress").evaluate("p => p.value") > 0
        page.wait_for_selector(f"{row}[data-state=done]", timeout=30000)  # reloaded when it ended
        polled = f"/api/jobs/{job}" in paths
        assert (f"/api/jobs/{job}/events" in paths, polled) == ((True, False) if stream else (False, True)), paths
        ctx.close()
    api.close()
