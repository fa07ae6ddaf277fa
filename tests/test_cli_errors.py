"""Bad input gets one clear line naming file, step and field, a non-zero exit and no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, requires_browser, requires_ffmpeg

GOOD_HEAD = """schema_version: 1
title: Sign in
start_url: /login
secrets: {password: EXPENSELY_PASSWORD}
steps:
  - {id: enter-email, action: fill, target: {label: Email}, value: a@example.com}
"""


def run_cli(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "guidecast", "--quiet", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=300)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode != 0
    err = proc.stderr
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err


def write(tmp_path: Path, text: str, name: str = "wf.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_yaml_syntax_error_names_the_line(tmp_path):
    wf = write(tmp_path, GOOD_HEAD + "  - {id: x, action: click, target: {role: button, name: Go}\n")
    err = assert_clean_error(run_cli("capture", str(wf)), str(wf), "line 7", "not valid YAML")
    assert err.count("\n") <= 2


def test_unknown_action_names_step_and_field(tmp_path):
    wf = write(tmp_path, GOOD_HEAD + "  - {action: clik, target: {role: button, name: Sign in}}\n")
    assert_clean_error(run_cli("capture", str(wf)), str(wf), "step 2", "field 'action'", "'click'")


def test_missing_field_names_step(tmp_path):
    wf = write(tmp_path, GOOD_HEAD + "  - {action: fill, target: {label: Password}}\n")
    assert_clean_error(run_cli("capture", str(wf)), str(wf), "step 2", "needs a 'value' or a 'secret'")


def test_misspelled_field_is_reported(tmp_path):
    wf = write(tmp_path, GOOD_HEAD + "  - {action: click, taget: {role: button, name: Sign in}}\n")
    assert_clean_error(run_cli("capture", str(wf)), str(wf), "step 2", "field 'taget'", "unknown field")


def test_missing_secret_env_var(tmp_path):
    wf = write(tmp_path, GOOD_HEAD + "  - {action: fill, target: {label: Password}, secret: password}\n")
    env = {k: v for k, v in os.environ.items() if k != "EXPENSELY_PASSWORD"}
    proc = subprocess.run([sys.executable, "-m", "guidecast", "capture", str(wf), "--base-url", "http://127.0.0.1:9"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert_clean_error(proc, "EXPENSELY_PASSWORD", "secret 'password'")


def test_missing_workflow_file(tmp_path):
    assert_clean_error(run_cli("capture", str(tmp_path / "nope.yaml")), "nope.yaml", "no such workflow file")


def test_relative_url_without_base_url(tmp_path):
    wf = write(tmp_path, GOOD_HEAD)
    assert_clean_error(run_cli("capture", str(wf)), "start_url", "--base-url")


@requires_browser
@pytest.mark.browser
def test_unreachable_start_url(tmp_path):
    wf = write(tmp_path, GOOD_HEAD)
    assert_clean_error(run_cli("capture", str(wf), "--base-url", "http://127.0.0.1:9"),
                       "start_url", "could not open http://127.0.0.1:9/login", "is the app running")


@requires_browser
@pytest.mark.browser
def test_locator_that_matches_nothing_keeps_the_previous_capture(tmp_path, sample_app):
    out = tmp_path / "cap"
    good = write(tmp_path, GOOD_HEAD, "good.yaml")
    assert run_cli("capture", str(good), "-o", str(out), "--base-url", sample_app.url).returncode == 0
    before = (out / "capture.json").read_bytes()
    bad = write(tmp_path, GOOD_HEAD + "  - {action: click, target: {role: button, name: Sign on}}\n", "bad.yaml")
    proc = run_cli("capture", str(bad), "-o", str(out), "--base-url", sample_app.url, "--find-timeout", "1")
    assert_clean_error(proc, "bad.yaml", "step 2", "field 'target'", "button 'Sign on'", "matches nothing")
    assert (out / "capture.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@requires_browser
@pytest.mark.browser
def test_ambiguous_locator_says_which_elements(tmp_path, sample_app):
    wf = write(tmp_path, GOOD_HEAD + "  - {action: click, target: {role: textbox}}\n")
    assert_clean_error(run_cli("capture", str(wf), "--base-url", sample_app.url, "--find-timeout", "1"),
                       "step 2", "matches 2 elements", "textbox 'Email'", "Make it name one")


def test_missing_browser(tmp_path):
    wf = write(tmp_path, GOOD_HEAD)
    assert_clean_error(run_cli("capture", str(wf), "--base-url", "http://127.0.0.1:9",
                               env={"GUIDECAST_CHROMIUM": str(tmp_path / "no-chromium")}),
                       "no-chromium", "not an executable")


@requires_ffmpeg
def test_missing_ffmpeg(tmp_path, submit_expense_guide):
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run_cli("narrate", str(submit_expense_guide), "-o", str(tmp_path / "video"), "--engine", "silent",
                   env={"PATH": str(empty)})
    assert_clean_error(proc, "ffmpeg not found", "apt-get install ffmpeg")
    assert not (tmp_path / "video").exists()


def test_not_a_capture_bundle(tmp_path):
    assert_clean_error(run_cli("compose", str(tmp_path)), "no capture bundle here")
