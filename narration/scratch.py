"""Scratch files and folders inside the caches, named after the process that owns them, so that a run
that was killed leaves nothing that the next run does not sweep away."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from capture.files import pid_alive

_OWNER = re.compile(r"^\.[\w-]+\.p(\d+)\.")


def scratch_prefix(kind: str) -> str:
    return f".{kind}.p{os.getpid()}."


def remove_stale(folder: Path) -> None:
    """Delete the scratch entries in `folder` whose process is gone."""
    if not Path(folder).is_dir():
        return
    for p in Path(folder).iterdir():
        m = _OWNER.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
    return True
