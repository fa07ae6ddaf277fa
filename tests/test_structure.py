"""The shape the project grows on: one import name, a kernel that imports no stage, stages that import
each other only downstream, and a command line whose errors are click's (testable in-process)."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from tests.conftest import REPO
from tests.fixtures.compose.synthetic import make_capture

STAGES = ("capture", "composer", "narration")
# What each layer may import of guidecast (besides itself and the kernel): data flows capture -> composer ->
# narration; the core, the server and the command line sit on top.
ALLOWED = {
    "kernel": {"templates"},
    "capture": {"templates"},
    "composer": {"templates", "capture"},
    "narration": {"composer.guide", "capture.bundle"},
}


def _guidecast_imports(path: Path) -> set[str]:
    """The guidecast modules a file imports (relative to the package: `capture.bundle`, `kernel.files`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("guidecast."):
            found.add(node.module.removeprefix("guidecast."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("guidecast.") for a in node.names if a.name.startswith("guidecast.")}
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_kernel_and_what_is_upstream(layer):
    folder = REPO / ("guidecast/kernel" if layer == "kernel" else layer)
    bad = []
    for f in sorted(folder.rglob("*.py")):
        for mod in _guidecast_imports(f):
            top = mod.split(".")[0]
            if top == layer or (top == "kernel" and layer != "kernel"):
                continue
            if not any(mod == a or mod.startswith(a + ".") for a in ALLOWED[layer]):
                bad.append(f"{f.relative_to(REPO)} imports guidecast.{mod}")
    assert not bad, "\n".join(bad)


def test_the_kernel_is_the_only_home_of_the_shared_basics():
    """Errors, files, the base model, boxes and markup are defined once, in the kernel."""
    defined: dict[str, list[str]] = {}
    files = {f.resolve() for f in REPO.glob("*/**/*.py") if not {".venv", ".cache", "tests", "build"} & set(f.parts)}
    for f in sorted(files):
        for node in ast.parse(f.read_text("utf-8")).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in {
                    "GuidecastError", "Strict", "Box", "staged_dir", "atomic_write_bytes", "pid_alive", "read_model",
                    "inline_html", "plain", "md_escape", "font", "Progress"}:
                defined.setdefault(node.name, []).append(str(f.relative_to(REPO)))
    assert defined and all(len(v) == 1 and v[0].startswith("guidecast/kernel/") for v in defined.values()), defined


def test_importing_guidecast_loads_no_stage_until_asked():
    code = ("import sys, guidecast; print(sorted(m for m in sys.modules if m.startswith('guidecast')));"
            "guidecast.GuidecastError; print('playwright' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "['guidecast']" and out[1] == "False"


def test_public_api_is_complete():
    import guidecast

    for name in guidecast.__all__:
        assert getattr(guidecast, name) is not None, name
    assert {"capture_workflow", "compose_guide", "narrate_guide", "check_capture", "build", "refresh",
            "GuidecastError", "CaptureBundle", "Guide", "VideoManifest", "BuildManifest"} <= set(guidecast.__all__)


# -- the command line in-process ----------------------------------------------------------------------

def test_a_user_mistake_is_one_line_and_exit_2_in_process(tmp_path):
    result = CliRunner().invoke(cli, ["-q", "compose", str(tmp_path / "nope"), "-o", str(tmp_path / "g")])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not our exception escaping
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(tmp_path / "nope") in lines[0]
    assert not (tmp_path / "g").exists()


def test_compose_in_process_writes_the_guide(tmp_path):
    cap = make_capture(tmp_path / "cap")
    result = CliRunner().invoke(cli, ["-q", "compose", str(cap), "-o", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "g" / "guide.html").read_text()
    assert "<strong>Sign in</strong>" in html and "version 1" in result.output


def test_a_bad_setting_is_one_clear_line(tmp_path):
    env = {**os.environ, "GUIDECAST_PORT": "abc"}
    proc = subprocess.run([sys.executable, "-m", "guidecast", "serve", "--data-dir", str(tmp_path / "srv")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "GUIDECAST_PORT='abc'" in proc.stderr and "integer" in proc.stderr


# -- the wheel -----------------------------------------------------------------------------------------

def _site_packages(root: Path) -> Path:
    return next(root.glob("lib/python*/site-packages"))


@pytest.mark.slow
def test_the_wheel_installs_one_import_name_and_works_from_a_fresh_venv(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "out", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("guidecast-*.whl"))
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        top = z.read(next(n for n in z.namelist() if n.endswith("top_level.txt"))).decode().split()
        names = z.namelist()
    assert top == ["guidecast"]
    assert {n.split("/")[0] for n in names} == {"guidecast", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1]
                                                + ".dist-info"}
    assert "guidecast/capture/aria.js" in names and "guidecast/templates/guide.html.j2" in names
    assert "guidecast/server/static/favicon.svg" in names and "guidecast/server/static/learner.css" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    # the dependencies: this test environment's (a path line: its own .pth files, the editable guidecast's
    # among them, are not read, so `guidecast` comes from the wheel)
    (_site_packages(env_dir) / "deps.pth").write_text(str(_site_packages(Path(sys.prefix))) + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    run = {"cwd": work, "capture_output": True, "text": True, "timeout": 120}
    helped = subprocess.run([str(env_dir / "bin" / "guidecast"), "--help"], **run)
    assert helped.returncode == 0 and "compose" in helped.stdout, helped.stderr
    where = subprocess.run([str(py), "-c", "import guidecast.capture, guidecast.kernel; print(guidecast.__file__)"],
                           **run)
    assert where.stdout.strip().startswith(str(env_dir)), where.stdout + where.stderr
    for other in ("capture", "composer", "narration", "server", "templates", "samples"):
        gone = subprocess.run([str(py), "-c", f"import {other}"], **run)
        assert gone.returncode != 0, f"`import {other}` works from the wheel"
    cap = make_capture(tmp_path / "cap")
    composed = subprocess.run([str(env_dir / "bin" / "guidecast"), "-q", "compose", str(cap), "-o",
                               str(tmp_path / "guide")], **run)
    assert composed.returncode == 0, composed.stderr
    assert "<strong>Sign in</strong>" in (tmp_path / "guide" / "guide.html").read_text()
