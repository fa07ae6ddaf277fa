"""Exports: PDF (pages per section, text), single-file HTML offline in Chromium, HTML folder, Markdown,
SCORM 1.2 in a real runtime (scorm-again), the package validator, template overrides and escaping.

One Chromium for the whole module.
"""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from guidecast.composer.compose import compose_guide
from guidecast.composer.edits import EditSet
from guidecast.composer.export import export_guide, sections
from guidecast.composer.guide import load_guide
from guidecast.composer.scorm import ScormError, validate_package
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.markup import plain
from tests.conftest import requires_browser

REPO = Path(__file__).resolve().parent.parent
SCORM12_JS = REPO / ".cache" / "node" / "node_modules" / "scorm-again" / "dist" / "scorm12.js"
EVIL = "<script>alert('pwned')</script>"

pytestmark = [requires_browser, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser(headless=True) as b:
        yield b


@pytest.fixture(scope="module")
def guide_dir(tmp_path_factory, submit_expense_capture) -> Path:
    """The sample guide with a script tag in a step's text and a callout, and a hidden step."""
    out = tmp_path_factory.mktemp("exports") / "guide"
    edits = EditSet.model_validate({"steps": {
        "sign-in": {"text": f"{EVIL} Click **Sign in**."},
        "choose-category": {"callouts": [{"kind": "tip", "text": 'Travel covers <a href="https://x.test/t">trains</a>.'}]},
    }})
    compose_guide(submit_expense_capture, out, edits=edits)
    return out


def pdf_pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, n + 1)]


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def test_pdf_has_a_page_per_section_and_every_step_text(guide_dir, tmp_path, browser):
    guide = load_guide(guide_dir)
    pdf = export_guide(guide_dir, "pdf", tmp_path / "guide.pdf", browser=browser)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = [squash(p) for p in pdf_pages(pdf)]
    secs = [s for s in sections(guide) if s.title]
    assert len(pages) >= len(secs) >= 4
    first_page = []
    for s in secs:
        title = plain(s.title)
        found = [i for i, p in enumerate(pages) if title in p]
        assert found, f"section {title!r} not in the PDF"
        first_page.append(found[0])
    assert first_page == sorted(set(first_page)), f"sections share a page: {first_page}"
    text = " ".join(pages)
    for st in guide.steps:
        assert squash(plain(st.text)) in text, st.id
    assert EVIL in text, "the script tag should be printed as text"


def test_single_file_html_opens_offline_with_every_image_loaded(guide_dir, tmp_path, browser):
    guide = load_guide(guide_dir)
    out = export_guide(guide_dir, "html", tmp_path / "standalone" / "guide.html")
    html = out.read_text()
    assert EVIL not in html and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; Click <strong>Sign in</strong>." in html
    ctx = browser.new_context(offline=True)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(out.as_uri(), wait_until="load")
    state = page.evaluate("""() => Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0,
                             src: i.src.slice(0, 30)}))""")
    ctx.close()
    assert len(state) == len([s for s in guide.steps if s.image]) + 1  # + the final picture
    assert all(s["ok"] for s in state), state
    assert all(s["src"].startswith("data:image/png;base64,") for s in state)
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert dialogs == [], "a script from user text ran"


def test_html_folder_and_markdown_exports(guide_dir, tmp_path):
    guide = load_guide(guide_dir)
    folder = export_guide(guide_dir, "html-folder", tmp_path / "site")
    index = (folder / "index.html").read_text()
    for st in guide.steps:
        assert f'src="{st.image}"' in index and (folder / st.image).is_file()
    assert EVIL not in index
    md_dir = export_guide(guide_dir, "md", tmp_path / "docs")
    md = (md_dir / "index.md").read_text()
    front = md.split("---\n")[1]
    assert 'title: "Submit an expense report"' in front and f"steps: {len(guide.steps)}" in front
    assert "## On the **New expense** page" in md
    assert "<script>" not in md and "&lt;script&gt;alert('pwned')&lt;/script&gt; Click **Sign in**." in md
    assert "> **Tip:** Travel covers [trains](https://x.test/t)." in md
    for ref in re.findall(r"\]\((images/[^)]+)\)", md):
        assert (md_dir / ref).is_file(), ref
    # exporting again replaces our own folder; a folder of someone else's is refused and left alone
    export_guide(guide_dir, "md", md_dir)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(GuidecastError, match="is not a guidecast export"):
        export_guide(guide_dir, "md", other)
    assert (other / "notes.txt").read_text() == "keep me"


def test_template_dir_brands_the_page_and_reports_template_mistakes(guide_dir, tmp_path):
    brand = tmp_path / "brand"
    brand.mkdir()
    shutil.copyfile(guide_dir / "images" / "final.png", brand / "logo.png")
    (brand / "brand.json").write_text('{"name": "Acme", "logo": "logo.png", "accent": "#0a7cff", "font": "Inter, sans-serif"}')
    html = export_guide(guide_dir, "html", tmp_path / "b.html", template_dir=brand).read_text()
    assert "--accent: #0a7cff" in html and 'class="brand-logo" src="data:image/png;base64,' in html
    assert "Acme · Step-by-step guide" in html
    (brand / "brand.json").write_text('{"accent": "red;}</style><script>x()</script>"}')
    with pytest.raises(GuidecastError, match=r"brand\.json: field 'accent': .*CSS colour"):
        export_guide(guide_dir, "html", tmp_path / "c.html", template_dir=brand)
    (brand / "brand.json").unlink()
    (brand / "guide.md.j2").write_text("# {{ guide.title }}\n\n{% for s in guide.steps %}\n- {{ s.text }\n{% endfor %}\n")
    with pytest.raises(GuidecastError, match=r"guide\.md\.j2:4: template syntax error"):
        export_guide(guide_dir, "md", tmp_path / "md-broken", template_dir=brand)
    assert not (tmp_path / "md-broken").exists()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guidecast", "-q", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_export_and_one_line_errors(guide_dir, tmp_path):
    proc = run_cli("export", str(guide_dir), "--format", "scorm", "-o", str(tmp_path / "course.zip"))
    assert proc.returncode == 0, proc.stderr
    assert "SCORM 1.2, launches index.html" in proc.stdout
    broken = tmp_path / "tpl"
    broken.mkdir()
    (broken / "guide.html.j2").write_text("<html>\n{% if guide.title %}\n<h1>{{ guide.title }}</h1>\n")
    proc = run_cli("export", str(guide_dir), "--format", "html", "-o", str(tmp_path / "x.html"), "--template-dir", str(broken))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "guide.html.j2:" in proc.stderr and "template syntax error" in proc.stderr
    assert not (tmp_path / "x.html").exists()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def lms_site(tmp_path, guide_dir):
    """A launcher page with scorm-again's SCORM 1.2 API as window.API and the package in an iframe."""
    yield from _lms_site(tmp_path, export_guide(guide_dir, "scorm", tmp_path / "course.zip"))


@pytest.fixture
def lms_site_with_check(tmp_path, guide_dir):
    """The same, for a package with the knowledge check made from the guide's steps."""
    yield from _lms_site(tmp_path, export_guide(guide_dir, "scorm", tmp_path / "course.zip", quiz="generated"))


def _lms_site(tmp_path, pkg):
    if not SCORM12_JS.is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "node-deps.sh")], check=True, timeout=300)
    site = tmp_path / "lms"
    site.mkdir()
    validate_package(pkg)
    with zipfile.ZipFile(pkg) as z:
        z.extractall(site / "course")
    shutil.copyfile(SCORM12_JS, site / "scorm12.js")
    (site / "launcher.html").write_text("""<!doctype html><html><head><meta charset="utf-8">
<script src="scorm12.js"></script>
<script>
  window.API = new Scorm12API({logLevel: 5, autocommit: false});
  window.calls = [];
  ["LMSInitialize", "LMSCommit", "LMSFinish"].forEach(function (n) {
    window.API.on(n, function () { window.calls.push(n); });
  });
</script></head>
<body><iframe id="sco" src="course/index.html" style="width:1000px;height:700px"></iframe></body></html>""")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_scorm_package_reports_completed_in_a_real_scorm12_runtime(lms_site, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    try:
        page.goto(f"{lms_site}/launcher.html", wait_until="load")
        frame = page.frame_locator("#sco")
        frame.locator("#guide-end").wait_for(state="attached")
        page.wait_for_function("window.API.isInitialized()")
        assert page.evaluate("window.API.cmi.core.lesson_status") == "incomplete"
        sco = next(f for f in page.frames if f.url.endswith("/course/index.html"))
        for y in range(0, 40000, 1500):  # read down the guide like a learner
            sco.evaluate(f"window.scrollTo(0, {y})")
        sco.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function("window.API.cmi.core.lesson_status === 'completed'", timeout=10000)
        page.evaluate("document.getElementById('sco').src = 'about:blank'")  # the learner leaves: unload
        page.wait_for_function("window.API.isTerminated()", timeout=10000)
        calls = page.evaluate("window.calls")
        assert calls[0] == "LMSInitialize" and "LMSCommit" in calls and calls[-1] == "LMSFinish"
        assert page.evaluate("window.API.cmi.core.lesson_status") == "completed"
    finally:
        page.close()


def test_scorm_package_reports_the_check_score_and_status_in_a_real_scorm12_runtime(lms_site_with_check, browser,
                                                                                    guide_dir):
    from guidecast.composer.quiz import ChoiceQuestion, generate_quiz

    quiz = generate_quiz(load_guide(guide_dir))
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    try:
        page.goto(f"{lms_site_with_check}/launcher.html", wait_until="load")
        page.frame_locator("#sco").locator("#knowledge-check").wait_for(state="attached")
        page.wait_for_function("window.API.isInitialized()")
        sco = next(f for f in page.frames if f.url.endswith("/course/index.html"))
        sco.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # the end alone is not a pass
        page.wait_for_timeout(300)
        assert page.evaluate("window.API.cmi.core.lesson_status") == "incomplete"
        sco.click("#kc-submit")  # nothing answered: failed, 0
        page.wait_for_function("window.API.cmi.core.lesson_status === 'failed'", timeout=10000)
        assert page.evaluate("window.API.cmi.core.score.raw") == "0"
        assert "Not passed yet: 0% right" in sco.inner_text("#kc-result")
        for q in quiz.questions:  # then every answer right
            sel = f".kc-question[data-question='{q.id}']"
            if isinstance(q, ChoiceQuestion):
                for i, c in enumerate(q.choices):
                    if c.correct:
                        sco.check(f"{sel} input[value='{i}']")
            else:
                img = sco.locator(f"{sel} img")
                img.scroll_into_view_if_needed()
                box = img.bounding_box()
                w, h = q.image_size
                page.mouse.click(box["x"] + (q.box.x + q.box.width / 2) * box["width"] / w,
                                 box["y"] + (q.box.y + q.box.height / 2) * box["height"] / h)
        sco.click("#kc-submit")
        page.wait_for_function("window.API.cmi.core.lesson_status === 'passed'", timeout=10000)
        assert page.evaluate("window.API.cmi.core.score.raw") == "100"
        assert page.evaluate("window.API.cmi.core.score.max") == "100"
        page.evaluate("document.getElementById('sco').src = 'about:blank'")
        page.wait_for_function("window.API.isTerminated()", timeout=10000)
        assert page.evaluate("window.API.cmi.core.lesson_status") == "passed"
        assert page.evaluate("window.calls")[-1] == "LMSFinish"
    finally:
        page.close()


def test_scorm_package_contents_and_video(guide_dir, tmp_path):
    video = tmp_path / "guide.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    pkg = export_guide(guide_dir, "scorm", tmp_path / "course.zip", video=video)
    info = validate_package(pkg)
    assert info.launch == "index.html"
    with zipfile.ZipFile(pkg) as z:
        names = set(z.namelist())
        manifest = z.read("imsmanifest.xml").decode()
        index = z.read("index.html").decode()
    assert {"imsmanifest.xml", "index.html", "media/guide.mp4"} <= names
    assert "adlcp_rootv1p2.xsd" in manifest and "<schemaversion>1.2</schemaversion>" in manifest
    assert 'adlcp:scormtype="sco"' in manifest and '<file href="media/guide.mp4"/>' in manifest
    assert '<video class="guide-video" controls preload="metadata" src="media/guide.mp4">' in index
    assert "LMSInitialize" in index and EVIL not in index


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for k, v in files.items():
            z.writestr(k, v)
    return path


GOOD_MANIFEST = """<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>T</title><item identifier="i" identifierref="r"><title>T</title></item></organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource></resources>
</manifest>"""
PAGE = "<script>API.LMSInitialize('')</script>"


@pytest.mark.parametrize("files, message", [
    ({"index.html": PAGE}, "imsmanifest.xml is missing at the root"),
    ({"course/imsmanifest.xml": GOOD_MANIFEST, "course/index.html": PAGE}, "zip the folder's contents"),
    ({"imsmanifest.xml": GOOD_MANIFEST[:-12], "index.html": PAGE}, "imsmanifest.xml line 5, column"),
    ({"imsmanifest.xml": GOOD_MANIFEST}, "resource 'r' launches 'index.html', which is not in the package"),
    ({"imsmanifest.xml": GOOD_MANIFEST.replace(">1.2<", ">2004 4th Edition<"), "index.html": PAGE}, "schemaversion"),
    ({"imsmanifest.xml": GOOD_MANIFEST.replace('adlcp:scormtype="sco"', 'adlcp:scormtype="asset"'), "index.html": PAGE},
     "no item launches a resource with adlcp:scormtype='sco'"),
    ({"imsmanifest.xml": GOOD_MANIFEST.replace('identifierref="r"', 'identifierref="x"'), "index.html": PAGE},
     "refers to resource 'x'"),
    ({"imsmanifest.xml": GOOD_MANIFEST, "index.html": "<p>hi</p>"}, "never calls LMSInitialize"),
    ({"imsmanifest.xml": GOOD_MANIFEST, "index.html": PAGE, "../evil.txt": "x"}, "unsafe path '../evil.txt'"),
])
def test_validator_refuses_malformed_packages(tmp_path, files, message):
    pkg = _zip(tmp_path / "p.zip", files)
    with pytest.raises(ScormError, match=re.escape(message)) as e:
        validate_package(pkg)
    assert str(pkg) in str(e.value) and "\n" not in str(e.value)


def test_validator_accepts_a_minimal_package_and_refuses_a_non_zip(tmp_path):
    assert validate_package(_zip(tmp_path / "ok.zip", {"imsmanifest.xml": GOOD_MANIFEST, "index.html": PAGE})).title == "T"
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(ScormError, match="not a zip archive"):
        validate_package(tmp_path / "x.zip")
