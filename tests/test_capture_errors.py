"""Bad input through the real CLI: one clear line naming file, step and field; exit 2; no traceback;
nothing saved half-written (and what was captured before a failure kept in `<out>.partial/`)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, requires_browser
from tests.fixtures.capture.site_server import serve_site

FIX = REPO / "tests" / "fixtures" / "capture"


@pytest.fixture(scope="module")
def site():
    with serve_site() as s:
        yield s


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guidecast", "--quiet", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=180)


def _workflow(tmp_path: Path, title: str, *steps: str) -> Path:
    wf = tmp_path / "wf.yaml"
    wf.write_text(f"title: {title}\nstart_url: /index.html\nsteps:\n" + "".join(f"  - {s}\n" for s in steps))
    return wf


def _capture(site, wf: Path, *flags: str) -> list[str]:
    return ["capture", str(wf), "-o", str(wf.parent / "cap"), "--base-url", site.url, *flags]


def _one_clear_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: "), proc.stderr
    return " ".join(lines)  # rich may wrap one long line


def test_recording_that_is_not_json(tmp_path):
    out = tmp_path / "wf.yaml"
    msg = _one_clear_error(_run("import", str(FIX / "not-json.json"), "-o", str(out)))
    assert "not-json.json: line 5, column 22: not valid JSON: Expecting ',' delimiter" in msg
    assert not out.exists()


def test_recording_of_an_unknown_schema(tmp_path):
    msg = _one_clear_error(_run("import", str(FIX / "unknown-schema.json"), "-o", str(tmp_path / "wf.yaml")))
    assert "unknown-schema.json: unknown recording format" in msg and "Selenium IDE" in msg


def test_recording_that_leaves_the_top_frame_upwards(tmp_path):
    msg = _one_clear_error(_run("import", str(FIX / "selenium-parent-frame.side"), "-o", str(tmp_path / "w.yaml")))
    assert ("selenium-parent-frame.side: test 'parent at top', command 2 (selectFrame): field 'target': "
            "relative=parent names a frame that does not exist") in msg


@requires_browser
@pytest.mark.browser
def test_recording_whose_frame_does_not_exist_on_the_page(site, tmp_path):
    wf = tmp_path / "wf.yaml"
    assert _run("import", str(FIX / "devtools-missing-frame.json"), "-o", str(wf)).returncode == 0
    msg = _one_clear_error(_run(*_capture(site, wf, "--find-timeout", "1")))
    assert "wf.yaml: step 1 (fill-card-holder), field 'target': frame 'iframe >> nth=3' does not exist" in msg
    assert 'it has 2: iframe[name="payment"], iframe[name="ads"]' in msg
    assert not (tmp_path / "cap").exists()


@requires_browser
@pytest.mark.browser
def test_locator_matching_several_elements_suggests_a_better_one(site, tmp_path):
    wf = _workflow(tmp_path, "Save", "{action: click, target: {role: link, name: Widgets}}", "{action: back}",
                   "{action: click, target: {role: button, name: Save}}")
    msg = _one_clear_error(_run(*_capture(site, wf, "--find-timeout", "1")))
    assert "wf.yaml: step 3 (click-save), field 'target': button 'Save' matches 2 elements" in msg
    assert "button 'Save' ({test_id: save}); button 'Save' ({test_id: save-copy})" in msg
    assert "Make it name one, e.g. target: {test_id: save}" in msg
    assert "the 2 steps captured before it are in" in msg and (tmp_path / "cap.partial" / "capture.json").exists()


@requires_browser
@pytest.mark.browser
def test_page_that_never_settles(site, tmp_path):
    wf = _workflow(tmp_path, "Reports", "{action: click, target: {role: link, name: Reports}}",
                   "{action: click, target: {role: heading, name: Reports}}")
    t0 = time.monotonic()
    msg = _one_clear_error(_run(*_capture(site, wf, "--settle-timeout", "2")))
    assert time.monotonic() - t0 < 60
    assert f"wf.yaml: step 2 (click-reports-2): the page {site.url}/slow.html did not finish loading within 2s" in msg
    assert "the step captured before it is in" in msg
    assert not (tmp_path / "cap").exists() and (tmp_path / "cap.partial" / "capture.json").exists()


@requires_browser
@pytest.mark.browser
def test_browser_crash_mid_capture_keeps_what_was_captured(site, tmp_path):
    """Chromium is killed while step 2 waits for its target: step 1 is kept, the error says step 2."""
    wf = _workflow(tmp_path, "Crash", "{action: click, target: {role: link, name: Widgets}}",
                   "{action: click, target: {role: button, name: Never there}}")
    proc = subprocess.Popen([sys.executable, "-m", "guidecast", "--quiet", *_capture(site, wf, "--find-timeout", "60")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".cap.*.staging/screenshots/*.png")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # step 2 is now looking for its target
        for child in psutil.Process(proc.pid).children(recursive=True):
            if "chrom" in child.name().lower() or "headless" in child.name().lower():
                child.kill()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    msg = _one_clear_error(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    assert "wf.yaml: step 2 (click-never-there): the browser crashed or was closed" in msg
    assert "the step captured before it is in" in msg
    assert not (tmp_path / "cap").exists()
    assert (tmp_path / "cap.partial" / "capture.json").exists()


def test_workflow_without_needed_secret(tmp_path):
    wf = Path(tmp_path / "wf.yaml")
    wf.write_text("title: T\nstart_url: /\nsecrets: {password: GUIDECAST_TEST_UNSET_VAR}\nsteps:\n"
                  "  - {action: fill, target: {label: Password}, secret: password}\n")
    msg = _one_clear_error(_run("capture", str(wf), "-o", str(tmp_path / "cap"), "--base-url", "http://127.0.0.1:9"))
    assert "GUIDECAST_TEST_UNSET_VAR, which is not set" in msg
