"""Freshness: `check` finds exactly what changed in the app; `refresh` keeps edits and re-renders only
what changed."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from guidecast.capture.compare import FreshnessReport
from guidecast.composer.guide import load_guide
from guidecast.narration.manifest import load_manifest
from tests.conftest import REPO, requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]

# What the sample app's "changed" variant changes on purpose, as check must classify it.
EXPECTED = {
    "enter-email": ["unchanged"],
    "enter-password": ["unchanged"],
    "sign-in": ["restyled"],
    "open-expenses": ["unchanged"],
    "new-expense": ["unchanged"],
    "fill-description": ["moved"],  # pushed down by Category moving above it
    "fill-amount": ["moved"],
    "choose-category": ["moved"],
    "fill-date": ["unchanged"],
    "mark-billable": ["unchanged"],
    "submit-expense": ["renamed", "new_flow"],  # "Save expense", then the new "Submit for approval?" dialog
}


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guidecast", "--quiet", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


@pytest.fixture(scope="module")
def build(tmp_path_factory, submit_expense_workflow) -> Path:
    out = tmp_path_factory.mktemp("fresh") / "expense"
    proc = cli("build", str(submit_expense_workflow), "-o", str(out), "--sample-app", "base", "--engine", "silent",
               "--owner", "trainer@example.com", "--review-by", "2026-01-31")
    assert proc.returncode == 0, proc.stderr
    return out


def classes(report: FreshnessReport) -> dict[str, list[str]]:
    return {s.id: (s.classes or ["unchanged"]) for s in report.steps}


def test_check_on_the_unchanged_app_reports_nothing_three_times(build):
    before = json.loads((build / "manifest.json").read_text())
    assert (before["owner"], before["review_by"]) == ("trainer@example.com", "2026-01-31")
    for _ in range(2):
        proc = cli("check", str(build), "--sample-app", "base", "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = FreshnessReport.model_validate_json(proc.stdout)
        assert report.verified and not report.changed
        assert classes(report) == {k: ["unchanged"] for k in EXPECTED}
        assert all((s.page_diff or 0) < 0.005 for s in report.steps)
    proc = cli("check", "--all", str(build.parent), "--sample-app", "base")  # the library-wide run, in text
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no user-visible change" in proc.stdout
    assert "expense: owner trainer@example.com" in proc.stdout and "OVERDUE" in proc.stdout
    after = json.loads((build / "manifest.json").read_text())
    assert after["last_verified"] > before["last_verified"]


def test_check_on_the_changed_app_finds_exactly_the_intended_changes(build):
    proc = cli("check", str(build), "--sample-app", "changed", "--json")
    assert proc.returncode == 1, proc.stderr
    report = FreshnessReport.model_validate_json(proc.stdout)
    assert classes(report) == EXPECTED
    renamed = next(s for s in report.steps if s.id == "submit-expense")
    assert renamed.before.name == "Submit expense" and renamed.after.name == "Save expense"
    assert [f.after_step for f in report.flow] == ["submit-expense"]
    assert report.flow[0].kind == "new_dialog" and "Submit for approval?" in report.flow[0].after
    html = (build / "check" / "report.html").read_text()
    assert "renamed" in html and html.count("data:image/png;base64,") >= 2 * len(report.changed_steps)
    # steps named as learners see them (the build's guide), not by capture id
    guide = json.loads((build / "guide" / "guide.json").read_text())
    last = next(s for s in guide["steps"] if "submit-expense" in [s["id"], *s["source_ids"]])
    assert f"Step {last['number']} “Click <strong>Submit expense</strong>" in html
    headings = re.findall(r"<h2>(.*?)</h2>", html, re.DOTALL)
    assert headings and not any(s.id in h for h in headings for s in report.steps)
    assert report.baseline_capture not in html
    assert json.loads((build / "check" / "report.json").read_text())["steps"][2]["status"] == "restyled"


def test_check_reports_could_not_verify_when_the_app_is_down(build):
    proc = cli("check", str(build), "--base-url", "http://127.0.0.1:9", "--no-retry")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "could not verify" in proc.stdout and "changed" not in proc.stdout.split("could not verify")[0]
    assert "Traceback" not in proc.stderr


def test_refresh_keeps_edits_flags_overrides_and_rerenders_only_changed_segments(build, tmp_path):
    work = tmp_path / "expense"
    shutil.copytree(build, work, ignore=shutil.ignore_patterns("check"))
    edits = tmp_path / "edits.yaml"
    edits.write_text(
        "schema_version: 1\n"
        "steps:\n"
        "  submit-expense: {text: 'Click **Submit expense** to send it to your manager.'}\n"
        "  fill-date: {callouts: [{kind: tip, text: Use the date printed on the receipt.}]}\n"
        "  open-expenses: {text: 'Open **Expenses** from the menu on the left.'}\n"
    )
    assert cli("edit", str(work / "guide"), "--apply", str(edits)).returncode == 0
    assert cli("narrate", str(work / "guide"), "-o", str(work / "video"), "--engine", "silent",
               "--cache-dir", str(work / ".cache")).returncode == 0
    before_guide = load_guide(work / "guide")
    before_video = load_manifest(work / "video")

    proc = cli("refresh", str(work), "--sample-app", "changed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    guide = load_guide(work / "guide")
    video = load_manifest(work / "video")
    steps = {s.id: s for s in guide.steps}
    # edits on surviving steps are kept
    assert steps["open-expenses"].text == "Open **Expenses** from the menu on the left."
    assert any(c.text == "Use the date printed on the receipt." for c in steps["fill-date"].callouts)
    # the renamed target's override is kept but flagged for review; its generated text follows the app
    assert steps["submit-expense"].text == "Click **Submit expense** to send it to your manager."
    assert steps["submit-expense"].generated_text == "Click **Save expense**."
    assert "review" in proc.stdout and steps["submit-expense"].review
    assert guide.version == before_guide.version + 1
    # only segments whose picture or words changed were rendered again; the rest are the same files
    old = {s.id: s.segment_sha256 for s in before_video.segments}
    new = {s.id: s.segment_sha256 for s in video.segments}
    entry = json.loads((work / "manifest.json").read_text())["history"][-1]
    assert sorted(entry["segments_rendered"]) == sorted(k for k in new if new[k] != old.get(k))
    assert {"intro", "open-expenses", "new-expense"} <= set(entry["segments_reused"])
    for sid in entry["segments_reused"]:
        assert new[sid] == old[sid]
    assert "submit-expense" in (work / "CHANGELOG.md").read_text()


def test_refresh_with_an_updated_workflow_reports_conflicts_and_new_steps(build, tmp_path, submit_expense_workflow):
    work = tmp_path / "expense"
    shutil.copytree(build, work, ignore=shutil.ignore_patterns("check"))
    edits = tmp_path / "edits.yaml"
    edits.write_text("schema_version: 1\nsteps:\n  submit-expense: {narration: Send it for approval.}\n")
    assert cli("edit", str(work / "guide"), "--apply", str(edits)).returncode == 0
    updated = tmp_path / "submit-expense-v2.yaml"
    text = submit_expense_workflow.read_text().split("  - id: submit-expense")[0]
    updated.write_text(text + (
        "  - id: save-expense\n    action: click\n    target: {role: button, name: Save expense}\n"
        "  - id: confirm-submit\n    action: click\n    target: {role: button, name: Confirm}\n"))
    proc = cli("refresh", str(work), "--sample-app", "changed", "--workflow", str(updated))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    guide = load_guide(work / "guide")
    assert [c.step_id for c in guide.conflicts] == ["submit-expense"]
    assert "conflict: submit-expense" in proc.stdout
    assert {"save-expense", "confirm-submit"} <= set(guide.new_step_ids)
    assert all(s.is_new for s in guide.steps if s.id in {"save-expense", "confirm-submit"})
    assert load_manifest(work / "video").guide_id == guide.id
    recorded = json.loads((work / "manifest.json").read_text())["workflow"]
    assert recorded["path"] == str(updated)  # the build now follows the updated workflow
    assert recorded["sha256"] == hashlib.sha256(updated.read_bytes()).hexdigest()
    assert (work / "captures").is_dir() and not any(p.name.startswith(".") for p in work.parent.iterdir()
                                                      if not p.name.endswith(".lock"))


def test_dynamic_regions_marked_in_the_workflow_are_not_compared(tmp_path):
    """A clock that differs on every load changes the page's pixels; marked dynamic, it does not."""
    import functools
    import http.server
    import threading

    from guidecast.capture.check import check_capture
    from guidecast.capture.replay import capture_workflow

    site = Path(__file__).parent / "fixtures" / "freshness"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    steps = ("steps:\n  - {id: refresh, action: click, target: {role: button, name: Refresh}}\n")
    try:
        for name, dynamic in (("plain", ""), ("masked", "dynamic: [{test_id: clock}]\n")):
            wf = tmp_path / f"{name}.yaml"
            wf.write_text(f"schema_version: 1\ntitle: Refresh the board\nstart_url: /clock.html\n{dynamic}{steps}")
            capture_workflow(wf, tmp_path / name / "capture", base_url=url)
            report = check_capture(tmp_path / name / "capture", retry=False)
            step = report.steps[0]
            assert step.status == "unchanged"
            if dynamic:
                assert step.page_diff == 0.0 and step.after.box is not None
            else:
                assert step.page_diff > 0.0  # the clock's pixels differ between the two runs
    finally:
        server.shutdown()

