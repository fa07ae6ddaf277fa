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
