"""A build killed with SIGKILL at any point leaves the previous build whole and `status` truthful, and the next
build succeeds: the new build is made in a staging folder beside the old one and swapped in at the end."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]


def build_cmd(workflow: Path, out: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "guidecast", "-q", "build", str(workflow), "-o", str(out), "--base-url", url,
            "--engine", "silent", "--size", "720p"]


def digest(build: Path) -> dict[str, str]:
    """The build as a person sees it: every file but the cache (content-addressed, only ever added to)."""
    return {str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file() and ".cache" not in p.relative_to(build).parts}


@pytest.fixture(scope="module")
def previous(tmp_path_factory, sample_app, submit_expense_workflow) -> Path:
    out = tmp_path_factory.mktemp("kill") / "expense"
    proc = subprocess.run(build_cmd(submit_expense_workflow, out, sample_app.url), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def _stage(build: Path, pid: int) -> Path | None:
    return next(iter(build.parent.glob(f".{build.name}.p{pid}.*.staging")), None)


POINTS = {  # what the staging folder (or the build's cache) shows while the build is at that point
    "capturing": lambda st, cache, pid: any(st.glob(".capture.p*.staging")),
    "composing": lambda st, cache, pid: (st / "capture" / "capture.json").is_file() and any(st.glob(".guide.p*.staging")),
    "voicing": lambda st, cache, pid: any((cache / "speech").glob(f".voicing.p{pid}.*")),
    "rendering": lambda st, cache, pid: any((cache / "segments").glob(f".batch.p{pid}.*")),
    "publishing": lambda st, cache, pid: any(st.glob(".video.p*.staging")),
}


def kill_at(cmd: list[str], build: Path, point: str, timeout: float = 120) -> None:
    """Run `cmd` (a build or refresh of `build`) and SIGKILL it as soon as it is at `point`."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    reached = False
    while time.monotonic() < deadline and proc.poll() is None:
        st = _stage(build, proc.pid)
        if st is not None and POINTS[point](st, build / ".cache", proc.pid):
            reached = True
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reached, f"{cmd[4]} never reached '{point}' ({proc.stderr.read().decode()[-500:]})"


@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_during_a_build_leaves_the_previous_build_whole(previous, sample_app_changed, submit_expense_workflow,
                                                               point):
    before = digest(previous)
    cmd = build_cmd(submit_expense_workflow, previous, sample_app_changed.url)
    if point == "voicing":  # a real voice: every clip is voiced again, slowly enough to be caught at it
        cmd[cmd.index("silent")] = "pyttsx3"
    kill_at(cmd, previous, point)
    assert digest(previous) == before
    status = subprocess.run([sys.executable, "-m", "guidecast", "status", str(previous / "video")], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and status.stdout.startswith("current:"), status.stdout + status.stderr


def test_after_the_kills_a_build_succeeds_and_sweeps_what_they_left(previous, sample_app_changed,
                                                                   submit_expense_workflow):
    before = digest(previous)
    proc = subprocess.run(build_cmd(submit_expense_workflow, previous, sample_app_changed.url), cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    after = digest(previous)
    assert after != before and after["guide/guide.json"] != before["guide/guide.json"]
    leftovers = [p.name for p in previous.parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert leftovers == []
    status = subprocess.run([sys.executable, "-m", "guidecast", "status", str(previous / "video")], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr


@pytest.mark.parametrize("point", ["composing", "rendering", "publishing"])
def test_sigkill_during_a_refresh_leaves_the_build_whole(previous, sample_app, sample_app_changed, point):
    """A refresh is a transaction too: killed while it composes, renders or publishes, the build is as it was
    (its check/ results aside), and a refresh afterwards succeeds."""
    def seen() -> dict[str, str]:
        return {k: v for k, v in digest(previous).items() if not k.startswith("check/")}

    before = seen()
    built_from = json.loads((previous / "capture" / "capture.json").read_text())["base_url"]
    other = sample_app_changed if built_from == sample_app.url else sample_app  # so that there is a change
    cmd = [sys.executable, "-m", "guidecast", "-q", "refresh", str(previous), "--base-url", other.url, "--no-retry"]
    kill_at(cmd, previous, point, timeout=180)
    assert seen() == before
    status = subprocess.run([sys.executable, "-m", "guidecast", "status", str(previous / "video")], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
