"""Is a rendered video still true to its guide? Which steps changed since, and how."""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from guidecast.composer.guide import load_guide
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import recover, sha256_file
from guidecast.kernel.paths import resolve_recorded
from guidecast.narration.manifest import VideoManifest, load_manifest
from guidecast.narration.script import ScriptItem, build_script
from guidecast.narration.segments import RENDERER_VERSION


@dataclass
class Change:
    id: str  # step id, or "intro" / "outro"
    number: int | None  # the step's number in the guide (None when removed)
    what: list[str]  # text, screenshot, highlight, added, removed, moved


@dataclass
class VideoStatus:
    current: bool
    video_dir: str
    guide_dir: str
    video_guide_id: str
    guide_id: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.current:
            head = f"current: {self.video_dir} matches the guide {self.guide_dir} ({self.guide_id})"
        else:
            steps = sum(1 for c in self.changes if c.id not in ("intro", "outro"))
            head = (f"stale: {self.video_dir} was rendered from guide {self.video_guide_id}; the guide is now "
                    f"{self.guide_id} ({steps} step(s) changed)")
        out = [head]
        for c in self.changes:
            name = c.id if c.id in ("intro", "outro") else \
                (f"step {c.number} '{c.id}'" if c.number is not None else f"step '{c.id}'")
            out.append(f"  {name}: {', '.join(c.what)}")
        return out + [f"  note: {n}" for n in self.notes]

    def as_dict(self) -> dict:
        return asdict(self)


def video_status(video_dir: str | Path, guide_dir: str | Path | None = None) -> VideoStatus:
    """Compare the video's manifest with the guide (by default the one it was rendered from)."""
    video_dir = Path(video_dir)
    recover(video_dir.parent)  # a build (or a render) killed while it swapped its folder in is put back first
    recover(video_dir)
    m = load_manifest(video_dir)
    gdir = Path(guide_dir) if guide_dir else (resolve_recorded(m.guide_dir, video_dir) if m.guide_dir
                                              else video_dir.parent / "guide")
    if not (gdir / "guide.json").exists():
        raise GuidecastError(f"{gdir}: no guide here to compare the video with; pass --guide GUIDE_DIR")
    guide = load_guide(gdir)
    script = build_script(guide)
    changes = _changes(m, script, gdir)
    notes = []
    if not (video_dir / m.files.get("video", "guide.mp4")).exists():
        changes.insert(0, Change("video", None, ["the video file is missing"]))
    if m.renderer_version != RENDERER_VERSION:
        notes.append(f"rendered by {m.renderer_version}; this guidecast renders {RENDERER_VERSION} (a re-render "
                     "updates the look)")
    if not changes and m.guide_id != guide.id:
        notes.append("the guide was edited since, but nothing the video shows or says changed")
    return VideoStatus(not changes, str(video_dir), str(gdir), m.guide_id, guide.id, changes, notes)


def _changes(m: VideoManifest, script: list[ScriptItem], gdir: Path) -> list[Change]:
    old = {s.id: s for s in m.segments}
    new = {it.id: it for it in script}
    numbers = {it.id: k for k, it in enumerate((i for i in script if i.kind == "step"), 1)}
    out: dict[str, Change] = {}

    def note(item_id: str, what: str) -> None:
        out.setdefault(item_id, Change(item_id, numbers.get(item_id), [])).what.append(what)

    for it in script:
        seg = old.get(it.id)
        if seg is None:
            note(it.id, "added")
            continue
        if seg.text != it.text or (seg.caption and seg.caption != it.caption):
            note(it.id, "text")
        if _image_sha(gdir, it) != seg.image_sha256:
            note(it.id, "screenshot")
        if it.kind == "step":
            if (it.highlight.model_dump() if it.highlight else None) != \
                    (seg.highlight.model_dump() if seg.highlight else None):
                note(it.id, "highlight")
    for seg in m.segments:
        if seg.id not in new:
            note(seg.id, "removed")
    before = [s.id for s in m.segments if s.id in new]
    after = [it.id for it in script if it.id in old]
    kept = set()
    for block in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_matching_blocks():
        kept.update(before[block.a:block.a + block.size])
    for sid in before:
        if sid not in kept:
            note(sid, "moved")
    order = {it.id: k for k, it in enumerate(script)}
    return sorted(out.values(), key=lambda c: order.get(c.id, len(order)))


def _image_sha(gdir: Path, it: ScriptItem) -> str | None:
    if not it.image:
        return None
    p = gdir / it.image
    if p.is_file():
        return sha256_file(p)
    return "missing" if it.kind == "step" else None  # the outro is a plain card without its picture
