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
