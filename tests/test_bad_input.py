"""Bad input never hurts: every case here is a user mistake or a hostile file. Each run must exit non-zero with a
clear message naming the file the user gave (and the step or field), print no traceback, write nothing outside
`-o`, and leave every file that was there before byte for byte as it was.

The cases run in-process through click's CliRunner (fast) and need neither a browser nor a video encoder;
`tests/test_bad_input_kill.py` kills real builds at several points.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.kernel.inputs import MAX_ALIASES, MAX_DEPTH
from tests.fixtures.compose.synthetic import make_capture

WORKFLOW = """schema_version: 1
title: Sign in
start_url: /login
steps:
  - {action: fill, target: {label: Email}, value: sam@example.com}
  - {action: click, target: {role: button, name: Sign in}}
"""


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` (outside the runner's own scratch) with the hash of its bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.name.endswith(".lock"):  # a writer's lock file beside a build folder (empty, harmless)
            continue
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_symlink() or not p.exists():
            out[str(p.relative_to(root))] = "link"
    return out


@dataclass
class Case:
    name: str
    args: list[str]
    needles: tuple[str, ...]  # all must be in the message
    exit_code: int = 2


def run(args: list[str]):
    return CliRunner().invoke(cli, ["-q", *args], catch_exceptions=True)


def assert_refused(result, needles, exit_code=2) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), f"not a clean exit: {result.exception!r}"
    err = result.stderr
    assert "Traceback" not in result.output
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 21, lines  # one problem per line, at most 20 and a count
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err


@pytest.fixture
def work(tmp_path):
    """A folder with a good workflow, a capture, a composed guide; returns (folder, paths)."""
    (tmp_path / "flows").mkdir()
    wf = tmp_path / "flows" / "sign-in.yaml"
    wf.write_text(WORKFLOW)
    cap = make_capture(tmp_path / "cap")
    assert run(["compose", str(cap), "-o", str(tmp_path / "guide")]).exit_code == 0
    return tmp_path


def _checked(work: Path, args: list[str], needles, exit_code=2) -> str:
    before = tree_digest(work)
    outside_before = set(os.listdir(work.parent))
    err = assert_refused(run(args), needles, exit_code)
    assert tree_digest(work) == before, "a file that was there before changed"
    assert set(os.listdir(work.parent)) == outside_before, "something was written outside the work folder"
    return err


# -- 1. crafted bundles cannot reach outside their folder ---------------------------------------------

def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("field, value", [
    ("id", "../../../../../escaped-by-compose"),
    ("screenshot", "../../../../etc/passwd"),
    ("screenshot", "/etc/passwd"),
    ("id", "x" * 300),
])
def test_a_capture_bundle_naming_paths_outside_itself_is_refused(work, field, value):
    _edit_json(work / "cap" / "capture.json", lambda d: d["steps"][0].__setitem__(field, value))
    _checked(work, ["compose", str(work / "cap"), "-o", str(work / "g2")],
             [str(work / "cap" / "capture.json"), "step 1", f"field '{field}'"])
    assert not (work / "g2").exists() and not (work.parent / "escaped-by-compose").exists()


@pytest.mark.parametrize("fmt, out", [("md", "md-out"), ("html-folder", "html-out"), ("html", "g.html")])
def test_a_guide_whose_image_points_outside_is_refused_by_every_export(work, fmt, out):
    _edit_json(work / "guide" / "guide.json", lambda d: d["steps"][0].__setitem__("image", "../../../../../../etc/passwd"))
    _checked(work, ["export", str(work / "guide"), "--format", fmt, "-o", str(work / out)],
             [str(work / "guide" / "guide.json"), "image"])
    assert not (work / out).exists()


def test_a_bundle_with_duplicate_step_ids_is_refused(work):
    _edit_json(work / "cap" / "capture.json", lambda d: d["steps"][2].__setitem__("id", d["steps"][0]["id"]))
    _checked(work, ["compose", str(work / "cap"), "-o", str(work / "g2")], ["steps 1 and 3", "enter-email"])


# -- 2. step ids ------------------------------------------------------------------------------------------

def test_two_equal_explicit_ids_are_an_error_naming_both_steps(work):
    wf = work / "flows" / "dupe.yaml"
    wf.write_text(WORKFLOW.replace("  - {action: fill", "  - {id: go, action: fill").replace(
        "  - {action: click", "  - {id: go, action: click"))
    _checked(work, ["capture", str(wf), "-o", str(work / "c2"), "--base-url", "http://127.0.0.1:9"],
             [str(wf), "steps 1 and 2", "'go'"])


def test_derived_ids_never_take_an_explicit_one():
    from guidecast.capture.workflow import parse_workflow

    wf = parse_workflow(
        "title: t\nstart_url: /\nsteps:\n"
        "  - {action: fill, target: {label: Email}, value: a}\n"
        "  - {id: fill-email-2, action: fill, target: {label: Name}, value: b}\n"
        "  - {action: fill, target: {label: Email}, value: c}\n")
    ids = wf.step_ids()
    assert ids[1] == "fill-email-2" and len(set(ids)) == 3 and ids[0] == "fill-email"


# -- 3. -o never destroys an input ----------------------------------------------------------------------

def test_output_that_is_or_holds_or_sits_in_an_input_is_refused(work):
    wf = work / "flows" / "sign-in.yaml"
    cases = [
        (["capture", str(wf), "-o", str(work / "flows")], "holds the input"),
        (["capture", str(wf), "-o", str(work / "flows" / "sign-in.yaml" / "x")], "is inside the input"),
        (["compose", str(work / "cap"), "-o", str(work / "cap")], "is the input"),
        (["compose", str(work / "cap"), "-o", str(work / "cap" / "screenshots")], "is inside the input"),
        (["narrate", str(work / "guide"), "-o", str(work / "guide"), "--engine", "silent"], "is the input"),
        (["export", str(work / "guide"), "--format", "html", "-o", str(work / "guide" / "guide.json")], "is inside"),
        (["build", str(wf), "-o", str(work / "flows"), "--engine", "silent"], "holds the input"),
    ]
    for args, why in cases:
        _checked(work, args, [why])
    rec = work / "rec.json"
    rec.write_text(json.dumps({"title": "t", "steps": [{"type": "navigate", "url": "http://127.0.0.1:9/"}]}))
    _checked(work, ["import", str(rec), "-o", str(rec)], ["is the input", str(rec)])


def test_output_that_is_a_file_or_someone_elses_folder_is_refused(work):
    (work / "notes.txt").write_text("mine")
    (work / "docs").mkdir()
    (work / "docs" / "report.odt").write_text("mine too")
    for out in ("notes.txt", "docs"):
        _checked(work, ["compose", str(work / "cap"), "-o", str(work / out)],
                 ["is a file" if out == "notes.txt" else "holds files guidecast did not write"])
    # a guide folder guidecast wrote is replaced as before
    assert run(["compose", str(work / "cap"), "-o", str(work / "guide")]).exit_code == 0


# -- 5. files that are not what they say ------------------------------------------------------------------

def test_deep_or_aliased_yaml_is_refused_quickly(work):
    deep = work / "flows" / "deep.yaml"
    deep.write_text("title: t\nstart_url: /\nsteps: " + "[" * 10_000 + "]" * 10_000 + "\n")
    _checked(work, ["capture", str(deep), "-o", str(work / "c")], [str(deep), f"{MAX_DEPTH} levels"])
    bomb = work / "flows" / "bomb.yaml"
    lines = ["title: t", "start_url: /", "a0: &a0 [x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    bomb.write_text("\n".join(lines) + "\nsteps: [{action: goto, url: /}]\n")
    _checked(work, ["capture", str(bomb), "-o", str(work / "c")], [str(bomb), "aliases"])
    many = work / "flows" / "many.yaml"
    many.write_text("title: t\nstart_url: /\nx: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n")
    _checked(work, ["capture", str(many), "-o", str(work / "c")], [str(many)])


def test_deep_json_recording_is_refused(work):
    rec = work / "deep.json"
    rec.write_text('{"steps": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _checked(work, ["import", str(rec), "-o", str(work / "flows" / "imported.yaml")], [str(rec)])


@pytest.mark.parametrize("how", ["folder", "not-utf8", "not-json", "fifo", "empty"])
def test_a_bundle_model_file_that_is_not_one_is_refused(work, how):
    cj = work / "cap" / "capture.json"
    cj.unlink()
    if how == "folder":
        cj.mkdir()
    elif how == "not-utf8":
        cj.write_bytes(b"\xff\xfe{not utf-8")
    elif how == "not-json":
        cj.write_text("{this is not json")
    elif how == "fifo":
        os.mkfifo(cj)
    else:
        cj.write_text("")
    _checked(work, ["compose", str(work / "cap"), "-o", str(work / "g2")], [str(cj)])


@pytest.mark.parametrize("content", [b"not a picture", b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "huge", "tiny",
                                     "truncated"])
def test_screenshots_that_are_not_pictures_are_refused(work, content):
    from PIL import Image

    cap = json.loads((work / "cap" / "capture.json").read_text())
    shot = work / "cap" / "screenshots" / cap["steps"][1]["screenshot"]
    if content == "huge":  # a decompression bomb: 20000x20000, tiny on disk
        Image.new("1", (20_000, 20_000)).save(shot, optimize=True)
    elif content == "tiny":
        Image.new("RGB", (1, 1)).save(shot)
    elif content == "truncated":
        shot.write_bytes(shot.read_bytes()[:200])
    else:
        shot.write_bytes(content)
    err = _checked(work, ["compose", str(work / "cap"), "-o", str(work / "g2")], [shot.name])
    assert "step" in err


def test_fifo_workflow_does_not_block(work):
    fifo = work / "flows" / "pipe.yaml"
    os.mkfifo(fifo)
    _checked(work, ["capture", str(fifo), "-o", str(work / "c")], [str(fifo), "not a regular file"])


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/html,<h1>hi</h1>", "javascript:alert(1)", ""])
def test_start_urls_that_are_not_web_pages_are_refused(work, url):
    wf = work / "flows" / "local.yaml"
    wf.write_text(WORKFLOW.replace("start_url: /login", f"start_url: {json.dumps(url)}"))
    _checked(work, ["capture", str(wf), "-o", str(work / "c")], [str(wf), "start_url"])


def test_a_huge_invalid_workflow_prints_twenty_problems_and_a_count(work):
    wf = work / "flows" / "huge.yaml"
    wf.write_text("title: t\nstart_url: /\nsteps:\n" + "".join("  - {action: fill}\n" for _ in range(1500)))
    err = _checked(work, ["capture", str(wf), "-o", str(work / "c")], [str(wf), "more problems like these"])
    assert len(err.strip().splitlines()) == 21


# -- 6. flag values ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, value", [("--find-timeout", "-1"), ("--device-scale", "0"), ("--device-scale", "-2"),
                                         ("--settle-timeout", "0")])
def test_flag_values_out_of_range_are_refused(work, flag, value):
    _checked(work, ["capture", str(work / "flows" / "sign-in.yaml"), "-o", str(work / "c"), flag, value], [flag])


def test_rate_and_review_date_are_checked_before_anything_runs(work):
    wf = str(work / "flows" / "sign-in.yaml")
    _checked(work, ["build", wf, "-o", str(work / "b"), "--rate", "-5"], ["--rate"])
    _checked(work, ["build", wf, "-o", str(work / "b"), "--review-by", "soon"], ["--review-by"])


# -- 4. a build checks everything it needs before it replaces anything -------------------------------------

@pytest.fixture
def built(work):
    """A stand-in for a previous build (the real one is in test_pipeline): manifest, guide, video folders."""
    b = work / "build"
    shutil.copytree(work / "guide", b / "guide")
    (b / "video").mkdir()
    (b / "video" / "guide.mp4").write_bytes(b"previous video")
    (b / "manifest.json").write_text('{"previous": true}')
    return b


@pytest.mark.parametrize("args, needles", [
    (["--engine", "openai"], ["OPENAI_API_KEY"]),
    (["--engine", "pyttsx3", "--voice", "no-such-voice"], ["no-such-voice"]),
    (["--cache-dir", "{work}/notes.txt"], ["notes.txt", "is a file"]),
])
def test_build_options_are_checked_before_the_capture_replaces_anything(work, built, monkeypatch, args, needles):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("GUIDECAST_CHROMIUM", shutil.which("true") or "/bin/true")  # found, never started
    monkeypatch.setenv("GUIDECAST_FFMPEG", shutil.which("true") or "/bin/true")
    (work / "notes.txt").write_text("a file")
    args = [a.format(work=work) for a in args]
    _checked(work, ["build", str(work / "flows" / "sign-in.yaml"), "-o", str(built), *args], needles)


def test_a_second_writer_of_a_build_folder_is_refused(work, built, monkeypatch):
    from guidecast.kernel.files import folder_lock

    monkeypatch.setenv("GUIDECAST_CHROMIUM", shutil.which("true") or "/bin/true")
    with folder_lock(built, "build folder"):
        _checked(work, ["build", str(work / "flows" / "sign-in.yaml"), "-o", str(built), "--engine", "silent"],
                 ["another guidecast", f"pid {os.getpid()}"])


@pytest.mark.parametrize("recording", [
    {"title": "t", "steps": [{"type": "click", "selectors": [[]]}]},
    {"title": "t", "steps": [{"type": "click", "selectors": [["aria/"]]}]},
    {"title": "t", "steps": [{"type": "click", "selectors": [["text/"]]}]},
    {"title": "t", "steps": [{"type": "click", "selectors": "x"}]},
    {"id": "x", "name": "p", "url": "http://a", "tests": [{"id": "t", "name": "n", "commands": [
        {"command": "click", "target": 5, "value": []}]}]},
    {"id": "x", "name": "p", "url": "http://a", "tests": [{"id": "t", "name": "n", "commands": [
        {"command": "click", "target": "id=", "value": ""}]}]},
    [1, 2],
])
def test_recordings_with_fields_of_the_wrong_kind_are_one_clear_line(work, recording):
    rec = work / "rec.json"
    rec.write_text(json.dumps(recording))
    _checked(work, ["import", str(rec), "-o", str(work / "flows" / "imported.yaml")], [str(rec)])


def test_a_self_including_template_is_a_template_error(work):
    tpl = work / "brand"
    tpl.mkdir()
    (tpl / "guide.html.j2").write_text("{% include 'guide.html.j2' %}")
    _checked(work, ["export", str(work / "guide"), "--format", "html", "-o", str(work / "g.html"),
                    "--template-dir", str(tpl)], ["guide.html.j2", "includes or extends itself"])


def test_an_output_under_a_file_is_refused(work):
    (work / "notes.txt").write_text("a file")
    _checked(work, ["compose", str(work / "cap"), "-o", str(work / "notes.txt" / "guide")], ["notes.txt", "is a file"])


def test_edit_apply_names_the_file_it_was_given(work):
    bad = work / "my-edits.yaml"
    bad.write_text("schema_version: 1\nsteps:\n  no-such-step: {text: Hello}\n")
    _checked(work, ["edit", str(work / "guide"), "--apply", str(bad)], [str(bad), "no-such-step"])
