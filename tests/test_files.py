"""Outputs are replaced whole or not at all, and a killed run leaves nothing behind for long."""
from __future__ import annotations

import subprocess
import sys

import pytest

from guidecast.kernel.files import staged_dir
from tests.conftest import REPO


def test_failure_inside_staged_dir_keeps_the_old_output(tmp_path):
    out = tmp_path / "out"
    with staged_dir(out) as s:
        (s / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_dir(out) as s:
            (s / "a").write_text("new")
            raise RuntimeError("boom")
    assert (out / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staging_left_by_a_killed_process_is_removed_by_the_next_run(tmp_path):
    code = ("import os; from pathlib import Path; from guidecast.kernel.files import staged_dir\n"
            f"with staged_dir(Path({str(tmp_path / 'out')!r})) as s:\n"
            "    (s / 'x').write_text('1'); os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
    assert any(p.name.endswith(".staging") for p in tmp_path.iterdir())
    with staged_dir(tmp_path / "out") as s:
        (s / "y").write_text("2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_swap_killed_between_its_two_renames_is_undone_by_the_next_reader_or_writer(tmp_path):
    from guidecast.kernel.files import recover

    pid = _dead_pid()
    for trial in ("reader", "writer"):
        out = tmp_path / trial
        aside = tmp_path / f".{trial}.p{pid}.abc.old"
        (aside / trial).mkdir(parents=True)
        (aside / trial / "manifest.json").write_text("previous build")
        (tmp_path / f".{trial}.p{pid}.def.staging").mkdir()  # the new build, never swapped in
        assert not out.exists()
        if trial == "reader":
            recover(out)
        else:
            with pytest.raises(RuntimeError), staged_dir(out):
                raise RuntimeError("this writer fails too")
        assert (out / "manifest.json").read_text() == "previous build"
        assert not aside.exists() and not (tmp_path / f".{trial}.p{pid}.def.staging").exists()


def test_one_writer_at_a_time(tmp_path):
    from guidecast.kernel.files import FolderBusy, folder_lock

    code = ("import sys, time; from pathlib import Path; from guidecast.kernel.files import folder_lock\n"
            f"with folder_lock(Path({str(tmp_path / 'out')!r})):\n"
            "    print('locked', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusy, match=f"pid {holder.pid}"), folder_lock(tmp_path / "out"):
            pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(tmp_path / "out"):  # the lock died with its holder
        pass


def test_published_outputs_have_the_usual_modes_under_umask_022(tmp_path):
    from tests.fixtures.compose.synthetic import make_capture

    cap = make_capture(tmp_path / "cap")
    guide, zipped = tmp_path / "guide", tmp_path / "guide.zip"
    cmd = (f"umask 022 && {sys.executable} -m guidecast -q compose {cap} -o {guide} && "
           f"{sys.executable} -m guidecast -q export {guide} --format md -o {tmp_path / 'md'}")
    subprocess.run(["sh", "-c", cmd], cwd=REPO, check=True, capture_output=True)
    for f in (guide / "guide.html", guide / "guide.md", guide / "guide.json", tmp_path / "md" / "index.md"):
        assert f.stat().st_mode & 0o777 == 0o644, f
    for d in (guide, guide / "images", tmp_path / "md"):
        assert d.stat().st_mode & 0o777 == 0o755, d
    assert not zipped.exists()
