"""The learner's side of the web app in real Chromium, and the exports a manager downloads from it.

One server (uvicorn on loopback) with the sample capture uploaded, published and narrated (silent voice):
- exports: HTML (the step text in the file), Markdown (a zip of guide.md and its images), PDF (pages drawn
  by pdftoppm) and SCORM 1.2 with the video (loaded under scorm-again), the large ones as jobs with progress;
- the learner view: section headings without markup, screenshots zoomed to the target at 375 px (tap for
  the whole picture), step mode and video in sync both ways, chapters from step 1 with the intro its own,
  an embed that fits its 960x540 snippet, oEmbed and Open Graph tags, copy buttons, a favicon;
- analytics: an editor's preview counts for nothing, a learner's visit counts; completion by step mode;
- uploads: errors on the same page in plain words, the chosen file kept, allowed hosts shown.
"""
from __future__ import annotations

import functools
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, publish, running_server, sign_in, upload, wait_jobs, zip_folder
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [pytest.mark.browser, requires_browser, requires_ffmpeg]
REPO = Path(__file__).resolve().parent.parent
SCORM12_JS = REPO / ".cache" / "node" / "node_modules" / "scorm-again" / "dist" / "scorm12.js"
PASSWORD = "password-123456"
EDITOR, LEARNER = "editor@example.com", "learner@example.com"
SCREENS = REPO / "docs" / "screens"


class Site:
    def __init__(self, url, app, gid, version, guide):
        self.url, self.app, self.gid, self.version, self.guide = url, app, gid, version, guide

    def api(self, who: str = EDITOR) -> httpx.Client:
        return sign_in(httpx.Client(base_url=self.url, follow_redirects=True, timeout=120), who, PASSWORD)

    def context(self, browser, who: str | None = None, **kw):
        ctx = browser.new_context(**kw)
        if who:
            api = self.api(who)
            ctx.add_cookies([{"name": "guidecast_session", "value": api.cookies["guidecast_session"], "url": self.url}])
            api.close()
        return ctx


@pytest.fixture(scope="module")
def site(tmp_path_factory, submit_expense_capture, sample_app, renders_video):
    data = tmp_path_factory.mktemp("learner-server")
    st = load_settings(environ={}, data_dir=data / "srv", tts_engine="silent", video_width=640, video_height=360,
                       capture_allowed_hosts=[urlsplit(sample_app.url).netloc], read_min_s=0.4)
    with running_server(st) as (url, app):
        add_user(app, EDITOR, "editor", PASSWORD)
        add_user(app, LEARNER, "viewer", PASSWORD)
        api = sign_in(httpx.Client(base_url=url, follow_redirects=True, timeout=120), EDITOR, PASSWORD)
        gid = upload(api, "capture.zip", zip_folder(submit_expense_capture, "capture/")).json()["guide"]["id"]
        wait_jobs(api, gid)
        publish(api, gid)
        guide = api.get(f"/g/{gid}/v/1/files/guide/guide.json").json()
        api.close()
        yield Site(url, app, gid, 1, guide)


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser() as b:
        yield b


# -- exports ------------------------------------------------------------------------------------------

def test_html_and_markdown_exports_download_and_open(site, browser):
    api = site.api()
    base = f"/api/guides/{site.gid}/versions/1/export"
    html = api.get(f"{base}/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"]
    first = re.sub(r"\*\*(.+?)\*\*", r"\1", site.guide["steps"][0]["text"])
    # the single file opens in Chromium with no server behind it, and shows every step's text and pictures
    page = browser.new_page()
    page.set_content(html.text, wait_until="load")
    texts = page.locator(".step .text, .step p").all_inner_texts()
    assert any(first in t for t in texts), texts[:3]
    assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    page.close()

    md = api.get(f"{base}/markdown")
    assert md.status_code == 200 and md.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(md.content)) as z:
        names = set(z.namelist())
        text = z.read("guide.md").decode()
        assert first.split("“")[0].strip()[:20] in text
        images = re.findall(r"\]\((images/[^)]+)\)", text)
        assert images and set(images) <= names
        for name in images[:3]:
            assert Image.open(io.BytesIO(z.read(name))).size[0] > 100
    # asked again: the cached file, the same bytes
    assert api.get(f"{base}/markdown").content == md.content
    # a viewer may not export
    learner = site.api(LEARNER)
    assert learner.get(f"{base}/html").status_code == 403
    assert api.post(f"/api/guides/{site.gid}/versions/1/exports", json={"format": "html"}).status_code == 422
    assert api.post(f"/api/guides/{site.gid}/versions/9/exports", json={"format": "pdf"}).status_code == 404
    api.close()
    learner.close()


def _export_by_button(site, browser, tmp_path, name: str):
    """Click the guide page's export button `name`; the job's progress shows; the download starts by itself."""
    ctx = site.context(browser, EDITOR, accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{site.url}/guides/{site.gid}")
    box = page.locator(".exports[data-version='1']")
    with page.expect_download(timeout=120000) as dl:
        box.get_by_role("button", name=name, exact=True).click()
        box.locator(".export-progress").wait_for(state="visible", timeout=5000)
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    ready = box.locator(".export-ready")
    ready.wait_for(state="visible")
    assert ready.inner_text().startswith(f"Download {name} (")
    jobs = [j for j in site.api().get(f"/api/guides/{site.gid}/jobs").json() if j["kind"] == "export"]
    ctx.close()
    return path, jobs[0]


def test_pdf_export_is_a_job_with_progress_and_its_pages_render(site, browser, tmp_path):
    pdf, job = _export_by_button(site, browser, tmp_path, "PDF")
    assert job["state"] == "done" and job["total"] > 0 and job["result"]["format"] == "pdf"
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for p in pages[:2]:
        px = np.asarray(Image.open(p).convert("L"), dtype=int)
        assert px.std() > 10  # text and screenshots, not a blank page
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert site.guide["title"] in " ".join(text.split())


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_scorm_with_video_is_a_job_and_loads_under_scorm_again(site, browser, tmp_path):
    if not SCORM12_JS.is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "node-deps.sh")], check=True, timeout=300)
    pkg, job = _export_by_button(site, browser, tmp_path, "SCORM 1.2 with video")
    assert job["result"]["video"] is True
    lms = tmp_path / "lms"
    with zipfile.ZipFile(pkg) as z:
        assert "imsmanifest.xml" in z.namelist() and "media/guide.mp4" in z.namelist()
        z.extractall(lms / "course")
    shutil.copyfile(SCORM12_JS, lms / "scorm12.js")
    (lms / "launcher.html").write_text("""<!doctype html><html><head><meta charset="utf-8">
<script src="scorm12.js"></script>
<script>window.API = new Scorm12API({logLevel: 5, autocommit: false});</script></head>
<body><iframe id="sco" src="course/index.html" style="width:1000px;height:700px"></iframe></body></html>""")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(lms)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/launcher.html", wait_until="load")
        page.wait_for_function("window.API.isInitialized()")
        sco = next(f for f in page.frames if f.url.endswith("/course/index.html"))
        assert sco.evaluate("() => { const v = document.querySelector('video'); return v && v.currentSrc; }") \
            .endswith("media/guide.mp4")
        sco.wait_for_function("() => document.querySelector('video').readyState >= 1", timeout=20000)
        for y in range(0, 40000, 1500):
            sco.evaluate(f"window.scrollTo(0, {y})")
        sco.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function("window.API.cmi.core.lesson_status === 'completed'", timeout=10000)
    finally:
        page.close()
        server.shutdown()
        server.server_close()


# -- the learner view -------------------------------------------------------------------------------------

def _share(site) -> dict:
    api = site.api()
    link = api.post(f"/api/guides/{site.gid}/links").json()
    api.close()
    return link


def _save_screen(page, name: str) -> None:
    """docs/screens/NAME.png for the closing note, when GUIDECAST_SAVE_SCREENS=1 (tests never write the
    repository otherwise)."""
    import os

    if os.environ.get("GUIDECAST_SAVE_SCREENS") == "1":
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{name}.png"))


MEASURE = """fig => {
  const frame = fig.querySelector('.frame').getBoundingClientRect(), img = fig.querySelector('img').getBoundingClientRect();
  const [x, y, w, h, W, H] = fig.dataset.zoom.split(',').map(Number);
  const s = img.width / W;
  return {s, target: {left: img.left + x * s, right: img.left + (x + w) * s, top: img.top + y * s,
                      bottom: img.top + (y + h) * s, width: w * s},
          frame: {left: frame.left, right: frame.right, top: frame.top, bottom: frame.bottom, width: frame.width,
                  height: frame.height}, img: {width: img.width, height: img.height}, w, W, H};
}"""


def test_small_screens_zoom_to_the_target_and_a_tap_shows_the_whole_picture(site, browser):
    link = _share(site)
    ctx = browser.new_context(viewport={"width": 375, "height": 800})
    page = ctx.new_page()
    page.goto(link["url"])
    figures = page.locator(".steps .shot[data-zoom]")
    assert figures.count() >= 8
    measured = 0
    for k in range(figures.count()):
        fig = figures.nth(k)
        fig.scroll_into_view_if_needed()
        m = fig.evaluate(MEASURE)
        if m["w"] * 3 < 150:  # a target under 50 px: the picture is enlarged at most 3x (it would be all blur)
            continue
        measured += 1
        t, f = m["target"], m["frame"]
        assert t["width"] >= 150, (k, m)  # readable: the target box at least 150 px wide on a 375 px screen
        assert f["left"] - 1 <= t["left"] and t["right"] <= f["right"] + 1, (k, m)  # and inside the picture shown
        assert f["top"] - 1 <= t["top"] and t["bottom"] <= f["bottom"] + 1, (k, m)
        assert f["right"] <= 375
    assert measured >= 6
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    first = figures.nth(2)
    first.scroll_into_view_if_needed()
    _save_screen(page, "learner-375")
    # a tap shows the whole screenshot, another zooms in again
    first.locator(".frame").click()
    m = first.evaluate(MEASURE)
    assert abs(m["img"]["width"] - m["frame"]["width"]) <= 1 and abs(m["frame"]["height"] - m["img"]["height"]) <= 1
    assert first.get_by_role("button", name="Zoom in on the step").is_visible()
    first.get_by_role("button", name="Zoom in on the step").click()
    assert first.evaluate(MEASURE)["target"]["width"] >= 150
    # on a wide screen the whole picture, no zoom
    page.set_viewport_size({"width": 1280, "height": 900})
    m = first.evaluate(MEASURE)
    assert abs(m["img"]["width"] - m["frame"]["width"]) <= 1
    assert first.locator(".zoom-toggle").is_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    _save_screen(page, "learner-desktop")
    ctx.close()


def test_section_headings_and_chapters_from_step_1_with_the_intro_its_own(site, browser):
    link = _share(site)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(link["url"])
    headings = page.locator(".steps .section h2")
    assert headings.count() >= 2
    for text in headings.all_inner_texts():
        assert "*" not in text and text.startswith("On the ")
    assert headings.first.locator("strong").count() == 1  # the page's name in bold, not in asterisks
    video = httpx.get(f"{link['url']}/files/video/video.json").json()
    intro, step1 = video["segments"][0], video["segments"][1]
    assert intro["kind"] == "intro" and intro["duration"] > 1
    chapters = page.locator("button.chapter")
    assert chapters.count() == len(site.guide["steps"]) + 1
    assert chapters.first.inner_text().endswith("Introduction") and chapters.first.get_attribute("data-seek") == "0.0"
    assert float(chapters.nth(1).get_attribute("data-seek")) == pytest.approx(step1["start"])
    assert chapters.nth(1).inner_text().split(" ", 1)[1].startswith("Step 1: ")
    assert "*" not in chapters.nth(1).inner_text()
    vtt = httpx.get(f"{link['url']}/files/video/chapters.vtt").text
    assert "Introduction" in vtt
    page.close()


def _time(page) -> float:
    return page.evaluate("() => document.getElementById('video').currentTime")


def test_step_mode_and_video_stay_in_sync_both_ways(site, browser):
    link = _share(site)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(link["url"])
    page.wait_for_function("() => document.getElementById('video').readyState >= 1", timeout=20000)
    starts = [float(x) for x in page.locator("button.chapter").evaluate_all("bs => bs.map(b => b.dataset.seek)")][1:]
    n = len(starts)
    page.get_by_role("button", name="Step-by-step mode").click()
    pos = page.locator("#step-pos")
    assert pos.inner_text() == f"Step 1 of {n}"
    # Next and Previous move the video to the step's start
    for _ in range(3):
        page.get_by_role("button", name="Next →").click()
    assert pos.inner_text() == f"Step 4 of {n}"
    page.wait_for_function(f"() => Math.abs(document.getElementById('video').currentTime - {starts[3]}) < 0.2")
    page.get_by_role("button", name="← Previous").click()
    assert pos.inner_text() == f"Step 3 of {n}"
    assert abs(_time(page) - starts[2]) < 0.2
    page.keyboard.press("ArrowRight")
    assert pos.inner_text() == f"Step 4 of {n}" and abs(_time(page) - starts[3]) < 0.2
    # playing moves the step: from just before step 7 into it
    page.evaluate(f"""() => {{ const v = document.getElementById('video'); v.muted = true;
                     v.currentTime = {starts[6] - 0.4}; return v.play(); }}""")
    page.wait_for_function(f"() => document.getElementById('step-pos').textContent === 'Step 7 of {n}'", timeout=15000)
    assert _time(page) >= starts[6]
    assert page.locator(".steps .step:visible").count() == 1
    assert page.locator(".steps .step:visible").get_attribute("data-number") == "7"
    page.evaluate("() => document.getElementById('video').pause()")
    # a chapter chosen in the list shows its step too
    page.locator("button.chapter").nth(10).click()
    page.wait_for_function(f"() => document.getElementById('step-pos').textContent === 'Step 10 of {n}'")
    page.close()


def test_the_embed_fits_its_960x540_snippet(site, browser, tmp_path):
    link = _share(site)
    assert 'width="960" height="540"' in link["embed"]
    host = tmp_path / "host"
    host.mkdir()
    (host / "index.html").write_text(f"<!doctype html><html><body style='margin:0'>{link['embed']}</body></html>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(host)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 960, "height": 540})
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")  # another origin embeds it
        frame = next(f for f in page.frames if "/embed/" in f.url)
        frame.wait_for_selector("#video")
        size = frame.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        assert size[0] <= 960 and size[1] <= 540, size
        box = frame.locator("#video").bounding_box()
        assert box["height"] >= 400 and box["y"] + box["height"] <= 540
        assert frame.get_by_role("link", name="Open the step-by-step guide").is_visible()
        _save_screen(page, "embed")
        frame.locator(".embed-chapters summary").click()  # the chapter list opens over the video
        assert frame.evaluate("() => document.documentElement.scrollHeight") <= 540
        frame.locator("button.chapter").nth(3).click()
        frame.wait_for_function("() => document.getElementById('video').currentTime > 1")
    finally:
        page.close()
        server.shutdown()
        server.server_close()


def test_share_pages_have_oembed_discovery_open_graph_and_a_favicon(site):
    link = _share(site)
    html = httpx.get(link["url"]).text
    found = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
    assert found, "no oEmbed discovery link"
    oembed = httpx.get(found.group(1).replace("&amp;", "&")).json()
    assert oembed["type"] == "video" and f"/embed/{link['url'].rsplit('/', 1)[1]}" in oembed["html"]
    og = dict(re.findall(r'<meta property="(og:[a-z:_]+)" content="([^"]*)"', html))
    assert og["og:title"] == site.guide["title"] and og["og:url"] == link["url"]
    assert og["og:type"] == "video.other" and og["og:description"].startswith("In this guide")
    image = httpx.get(og["og:image"].replace("&amp;", "&"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (int(og["og:image:width"]), int(og["og:image:height"]))
    icon = httpx.get(site.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert httpx.get(site.url + "/static/favicon.svg").text.startswith("<svg")
    # signed-in pages carry no share metadata (they are not public)
    api = site.api()
    assert "og:title" not in api.get(f"/g/{site.gid}").text
    api.close()


def test_copy_buttons_and_revoke_asks_first(site, browser):
    ctx = site.context(browser, EDITOR, viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = ctx.new_page()
    page.goto(f"{site.url}/guides/{site.gid}")
    page.get_by_role("button", name="Create link").click()
    row = page.locator(".link-row[data-link-state=live]").first
    url = row.locator("a.share-url").get_attribute("href")
    row.get_by_role("button", name="Copy link").click()
    row.get_by_role("button", name="Copied").wait_for(timeout=5000)  # the clipboard write is asynchronous
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    row.get_by_role("button", name="Copy embed code").click()
    snippet = page.evaluate("() => navigator.clipboard.readText()")
    assert snippet.startswith(f'<iframe src="{url.replace("/s/", "/embed/")}"') and 'width="960" height="540"' in snippet
    # revoke asks first: "no" keeps the link, "yes" revokes it
    answers = iter([False, True])
    asked = []

    def on_dialog(d):
        asked.append(d.message)
        d.accept() if next(answers) else d.dismiss()

    page.on("dialog", on_dialog)
    live = page.locator(".link-row[data-link-state=live]").count()
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_timeout(300)
    assert page.locator(".link-row[data-link-state=live]").count() == live
    page.locator(".link-row[data-link-state=live]").first.get_by_role("button", name="Revoke").click()
    page.wait_for_selector(".link-row[data-link-state=revoked]")
    assert len(asked) == 2 and asked[0].startswith("Revoke this link?")
    assert httpx.get(url).status_code == 410
    ctx.close()


# -- analytics ----------------------------------------------------------------------------------------------

def _stats(site) -> dict:
    api = site.api()
    rows = list(__import__("csv").DictReader(io.StringIO(api.get(f"/guides/{site.gid}/analytics.csv").text)))
    api.close()
    row = next((r for r in rows if r["version"] == "1"), None) or {}
    return {k: row.get(k, "" if k == "dropoff_by_step" else "0")
            for k in ("views", "completions", "completed_steps", "completed_video", "completed_read", "dropoff_by_step")}


def _wait_stats(site, want: dict, timeout: float = 15) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        got = _stats(site)
        if all(got.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def _through_step_mode(page, last: int) -> None:
    page.get_by_role("button", name="Step-by-step mode").click()
    for _ in range(last - 1):
        page.get_by_role("button", name="Next →").click()


def test_analytics_count_learners_on_published_versions_not_editors_previews(site, browser):
    n = len(site.guide["steps"])
    link = _share(site)
    before = _stats(site)
    views = int(before.get("views") or 0)
    done = int(before.get("completions") or 0)

    # an editor previews the guide (its own page, and the share link while signed in) to the last step
    ctx = site.context(browser, EDITOR, viewport={"width": 1280, "height": 900})
    for address in (f"{site.url}/g/{site.gid}", f"{site.url}/g/{site.gid}/v/1", link["url"]):
        page = ctx.new_page()
        page.goto(address)
        assert page.locator(".preview-note").is_visible()
        assert page.locator(".learn").get_attribute("data-beacon") is None
        _through_step_mode(page, n)
        page.close()
    ctx.close()
    assert _wait_stats(site, {"views": str(views + 1)}, timeout=3).get("views", "0") == (before.get("views") or "0")

    # a learner through the link: a view, and done in step mode
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(link["url"])
    assert page.locator(".preview-note").count() == 0
    _through_step_mode(page, n)
    got = _wait_stats(site, {"views": str(views + 1), "completions": str(done + 1)})
    assert (got["views"], got["completions"]) == (str(views + 1), str(done + 1)), got
    assert got["completed_steps"] == str(int(before.get("completed_steps") or 0) + 1)

    # a second learner stops at step 3: counted as a view, not completed, dropped off at step 3
    page = ctx.new_page()
    page.goto(link["url"])
    _through_step_mode(page, 3)
    got = _wait_stats(site, {"views": str(views + 2)})
    assert got["completions"] == str(done + 1) and "3:" in got["dropoff_by_step"], got

    # a signed-in learner reads every step (each on screen for the minimum time: 0.4 s here)
    lctx = site.context(browser, LEARNER, viewport={"width": 1280, "height": 900})
    page = lctx.new_page()
    page.goto(f"{site.url}/g/{site.gid}")
    assert page.locator(".learn").get_attribute("data-beacon")
    for k in range(n):
        page.locator(".steps .step").nth(k).scroll_into_view_if_needed()
        page.wait_for_timeout(700)
    got = _wait_stats(site, {"completed_read": str(int(before.get("completed_read") or 0) + 1)})
    assert got["completed_read"] == str(int(before.get("completed_read") or 0) + 1), got

    # a learner who plays the video (fast) to the end: watched it; one who seeks to the end: not
    page = ctx.new_page()
    page.goto(link["url"])
    page.evaluate("""() => { const v = document.getElementById('video'); v.muted = true;
                      v.currentTime = v.duration ? v.duration - 0.5 : 40; return v.play(); }""")
    page.wait_for_function("() => document.getElementById('video').ended", timeout=20000)
    page = ctx.new_page()
    page.goto(link["url"])
    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true; v.playbackRate = 8; return v.play(); }")
    page.wait_for_function("() => document.getElementById('video').ended", timeout=60000)
    got = _wait_stats(site, {"completed_video": str(int(before.get("completed_video") or 0) + 1)})
    assert got["completed_video"] == str(int(before.get("completed_video") or 0) + 1), got
    assert got["views"] == str(views + 5) and got["completions"] == str(done + 3), got
    ctx.close()
    lctx.close()
    # the guide page says what counts
    api = site.api()
    html = api.get(f"/guides/{site.gid}").text
    assert "previews are not" in html and "watched at least 90% of the video" in html
    api.close()


# -- uploads ------------------------------------------------------------------------------------------------

def test_upload_errors_show_on_the_same_page_in_plain_words_and_keep_the_file(site, browser, sample_app, tmp_path):
    workflow = REPO / "samples" / "workflows" / "submit-expense.yaml"
    notes = tmp_path / "notes.txt"
    notes.write_text("not a workflow")
    ctx = site.context(browser, EDITOR, viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    page.goto(site.url + "/")
    form = page.locator("#upload-form")
    # required fields marked, the hosts this server may capture shown
    assert form.locator("label[for=upload-file] .req").inner_text() == "*"
    assert form.locator("#upload-file").get_attribute("aria-required") == "true"
    assert urlsplit(sample_app.url).netloc in form.locator(".allowed-hosts").inner_text()

    # a workflow whose addresses are relative, without App URL: told beside App URL, the file still chosen
    page.set_input_files("#upload-file", str(workflow))
    assert "submit-expense.yaml" in page.locator("#upload-chosen").inner_text()
    page.get_by_role("button", name="Upload").click()
    error = page.locator("#upload-error")
    error.wait_for()
    assert page.url == site.url + "/"
    text = error.inner_text()
    assert "fill in App URL" in text and "--base-url" not in text and "“/login”" in text
    assert page.locator(".field.has-error #upload-url").count() == 1
    assert page.locator("#upload-url").get_attribute("aria-invalid") == "true"
    assert page.evaluate("() => document.getElementById('upload-file').files[0].name") == "submit-expense.yaml"

    # an app this server may not capture: which hosts it may, in words (no setting names)
    page.locator("#upload-url").fill("http://127.0.0.1:9")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_function("() => /may not capture the app at 127.0.0.1:9/.test((document.getElementById('upload-error') || {}).textContent)")
    text = error.inner_text()
    assert urlsplit(sample_app.url).netloc in text and "GUIDECAST_" not in text
    assert page.evaluate("() => document.getElementById('upload-file').files[0].name") == "submit-expense.yaml"

    # a file of the wrong kind: told beside the file field
    page.set_input_files("#upload-file", str(notes))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_function("() => /notes.txt/.test((document.getElementById('upload-error') || {}).textContent)")
    assert page.locator(".field.has-error #upload-file").count() == 1 and "choose a workflow" in error.inner_text()

    # fixed: the guide is made
    page.set_input_files("#upload-file", str(workflow))
    page.locator("#upload-url").fill(sample_app.url)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/guides/\d+$"))
    ctx.close()

    # without script the form posts, and the page comes back with the message and the file's name
    ctx = site.context(browser, EDITOR, java_script_enabled=False)
    page = ctx.new_page()
    page.goto(site.url + "/")
    page.set_input_files("#upload-file", str(workflow))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert "fill in App URL" in page.locator("#upload-error").inner_text()
    assert "You chose “submit-expense.yaml”" in page.locator("#upload-chosen").inner_text()
    assert page.locator("h2#upload-h").is_visible()  # the library page, not an error page
    ctx.close()


def test_beacons_of_a_guide_taken_back_to_draft_count_for_nothing(site):
    link = _share(site)
    page = httpx.get(link["url"]).text
    ctx = re.search(r'data-beacon="([^"]+)"', page).group(1)
    api = site.api()
    before = _stats(site)
    api.post(f"/guides/{site.gid}/settings", data={"status": "draft"})
    try:
        r = httpx.post(site.url + "/api/beacon", content=json.dumps({"ctx": ctx, "kind": "view", "sid": "late"}))
        assert r.status_code == 204
        assert _stats(site)["views"] == before["views"]
    finally:
        api.post(f"/guides/{site.gid}/settings", data={"status": "published"})
        api.close()
    r = httpx.post(site.url + "/api/beacon", content=json.dumps({"ctx": ctx, "kind": "view", "sid": "late"}))
    assert r.status_code == 204 and _wait_stats(site, {"views": str(int(before["views"]) + 1)})["views"] == \
        str(int(before["views"]) + 1)
