"""Capture bundle -> guide bundle: the composer stage's core function."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from capture.bundle import CaptureBundle, load_capture
from capture.errors import GuidecastError
from capture.files import atomic_write_bytes, sha256_bytes, staged_dir
from composer.annotate import annotate
from composer.export import write_exports
from composer.guide import IMAGE_DIR, Guide, GuideSource, GuideStep, save_guide
from composer.text import intro_text, outro_text, section_title, step_text

Progress = Callable[[int, int, str], None]


def compose_guide(capture_dir: str | Path, out_dir: str | Path, *, progress: Progress | None = None) -> Guide:
    """Compose the guide for the capture in `capture_dir` and write it with its HTML and Markdown
    exports to `out_dir` (replaced whole on success)."""
    capture_dir = Path(capture_dir)
    cap = load_capture(capture_dir)
    progress = progress or (lambda *_: None)
    with staged_dir(Path(out_dir)) as stage:
        images = stage / IMAGE_DIR
        images.mkdir()
        steps = []
        last_section = None
        total = len(cap.steps)
        for n, cs in enumerate(cap.steps, 1):
            progress(n - 1, total, f"step {n}/{total}")
            raw = _read_screenshot(cap, capture_dir, cs.screenshot, cs.id)
            box = cs.element.box_device if cs.element else None
            png, hl = annotate(raw, box, n, scale=cap.device_scale_factor)
            name = f"{n:02d}-{cs.id}.png"
            atomic_write_bytes(images / name, png)
            section = section_title(cs)
            steps.append(
                GuideStep(
                    id=cs.id,
                    number=n,
                    action=cs.action,
                    text=step_text(cs),
                    section=section if section != last_section else None,
                    image=f"{IMAGE_DIR}/{name}",
                    image_size=_size(png),
                    highlight=hl,
                    callouts=[{"kind": "note", "text": cs.note}] if cs.note else [],
                )
            )
            last_section = section
        final_image = None
        if cap.final_screenshot:
            final_image = f"{IMAGE_DIR}/final.png"
            shutil.copyfile(capture_dir / "screenshots" / cap.final_screenshot, stage / final_image)
        guide = Guide(
            id="",
            title=cap.workflow.title,
            intro=intro_text(cap.workflow.title, cap.workflow.description, None),
            outro=outro_text(_final_heading(cap)),
            steps=steps,
            source=GuideSource(
                capture_id=cap.id,
                capture_dir=str(capture_dir),
                workflow_path=cap.workflow.path,
                workflow_sha256=cap.workflow.sha256,
                captured_at=cap.captured_at,
                app_url=cap.base_url,
            ),
            composed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            final_image=final_image,
        )
        guide.id = "guide-" + sha256_bytes(guide.model_dump_json(exclude={"id", "composed_at"}).encode())[:16]
        save_guide(guide, stage)
        write_exports(guide, stage)
        progress(total, total, "done")
    return guide


def _read_screenshot(cap: CaptureBundle, capture_dir: Path, name: str, step_id: str) -> bytes:
    path = cap.screenshot_path(capture_dir, name)
    try:
        return path.read_bytes()
    except OSError:
        raise GuidecastError(f"{path}: screenshot of step '{step_id}' is missing; capture again") from None


def _size(png: bytes) -> tuple[int, int]:
    import struct

    w, h = struct.unpack(">II", png[16:24])
    return (w, h)


def _final_heading(cap: CaptureBundle) -> str | None:
    title = cap.final_title or ""
    return title.split("·")[0].split(" - ")[0].strip() or None
