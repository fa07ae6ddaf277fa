"""Guide versions: every composed guide that differs from the one before is kept, immutable.

    <guide>/guide.json, images/, guide.html, guide.md   the current version (what narration reads)
    <guide>/edits.yaml                                  the edit layer (the person's work)
    <guide>/versions/<n>/guide.json, images/, edits.yaml a snapshot of version n, never rewritten

A version records the capture id (`source.capture_id`) and the edit-set hash (`edits_sha256`) it was
made from. Composing again with the same capture and edits gives the same guide id and no new version.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from guidecast.capture.bundle import CaptureBundle
from guidecast.composer.guide import GUIDE_FILE, IMAGE_DIR, Guide, load_guide
from guidecast.composer.plan import History
from guidecast.kernel.errors import GuidecastError

VERSIONS_DIR = "versions"


def current_guide(guide_dir: Path) -> Guide | None:
    """The guide now in `guide_dir`, if there is one."""
    return load_guide(guide_dir) if (Path(guide_dir) / GUIDE_FILE).is_file() else None


def version_numbers(guide_dir: Path) -> list[int]:
    d = Path(guide_dir) / VERSIONS_DIR
    if not d.is_dir():
        return []
    return sorted(int(p.name) for p in d.iterdir() if re.fullmatch(r"\d+", p.name) and (p / GUIDE_FILE).is_file())


def load_version(guide_dir: Path, n: int) -> Guide:
    path = Path(guide_dir) / VERSIONS_DIR / str(n)
    if not (path / GUIDE_FILE).is_file():
        have = ", ".join(map(str, version_numbers(guide_dir))) or "none"
        raise GuidecastError(f"{guide_dir}: no guide version {n} (versions: {have})")
    return load_guide(path)


def history(prev: Guide | None, cap: CaptureBundle) -> History:
    """Which step ids are new and which are gone, compared with the capture before this one."""
    if prev is None:
        return History()
    if prev.source.capture_id == cap.id:  # the same capture again (e.g. after an edit): same comparison
        return History(retired=set(prev.retired_step_ids), new=set(prev.new_step_ids))
    now = {s.id for s in cap.steps}
    before = set(prev.capture_step_ids) or {i for s in prev.steps for i in (s.source_ids or [s.id])}
    return History(retired=(set(prev.retired_step_ids) | before) - now, new=now - before)


def next_version(guide_dir: Path, prev: Guide | None, guide_id: str) -> tuple[int, int | None]:
    """(version, previous_version) for a guide whose content id is `guide_id`."""
    if prev is not None and prev.version and prev.id == guide_id:
        return prev.version, prev.previous_version
    top = max(version_numbers(guide_dir) + [prev.version if prev else 0])
    return top + 1, (prev.version or None) if prev else None


def carry_versions(old_dir: Path, stage: Path) -> None:
    """Bring the existing snapshots into the staged guide folder (hard links where possible)."""
    src = Path(old_dir) / VERSIONS_DIR
    if src.is_dir():
        shutil.copytree(src, stage / VERSIONS_DIR, copy_function=_link_or_copy)


def snapshot(stage: Path, guide: Guide, edits_text: str | None) -> None:
    """Freeze the staged guide as `versions/<guide.version>/` (kept as it is if it already exists)."""
    target = stage / VERSIONS_DIR / str(guide.version)
    if (target / GUIDE_FILE).is_file():
        return
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(stage / IMAGE_DIR, target / IMAGE_DIR, copy_function=_link_or_copy, dirs_exist_ok=True)
    shutil.copyfile(stage / GUIDE_FILE, target / GUIDE_FILE)
    if edits_text is not None:
        (target / "edits.yaml").write_text(edits_text, "utf-8")


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
