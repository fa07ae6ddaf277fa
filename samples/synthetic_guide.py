"""A synthetic guide with drawn screenshots: for the render benchmark and fast tests (no browser).

Each step's screenshot is a small web-app page (header, sidebar, a form) whose header colour is unique
to the step, with the target annotated exactly as the composer does it.
"""
from __future__ import annotations

import colorsys
import io
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from guidecast.composer.annotate import annotate
from guidecast.composer.guide import Guide, GuideSource, GuideStep, save_guide
from guidecast.kernel.boxes import Box
from guidecast.kernel.fonts import font

TEXTS = (
    ("click", "Click **New expense**."),
    ("fill", "In **Description**, enter “Team offsite train tickets”."),
    ("fill", "In **Amount**, enter “128.50”."),
    ("select", "Select **Travel** from **Category**."),
    ("fill", "In **Date**, enter “2026-11-14”."),
    ("check", "Select the **Billable to client** checkbox."),
    ("click", "Click **Submit expense** to send it to your manager for approval."),
    ("click", "Go to **Expenses** in the main menu."),
)


def header_colour(index: int) -> tuple[int, int, int]:
    """The header colour of step `index` (0-based): far apart from its neighbours' and from orange."""
    h = (0.55 + index * 0.38) % 1.0
    if 0.0 <= h < 0.14:  # keep clear of the highlight's orange
        h += 0.2
    r, g, b = colorsys.hsv_to_rgb(h, 0.75, 0.55)
    return round(r * 255), round(g * 255), round(b * 255)


def screenshot(index: int, size: tuple[int, int] = (1280, 720)) -> tuple[bytes, Box]:
    """A page for step `index` and the box of its target (image pixels), not yet annotated."""
    w, h = size
    s = h / 720
    img = Image.new("RGB", size, (246, 247, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, int(56 * s)], fill=header_colour(index))
    d.text((int(24 * s), int(16 * s)), f"Expensely · page {index + 1}", font=font(int(22 * s)), fill=(255, 255, 255))
    d.rectangle([0, int(56 * s), int(220 * s), h], fill=(30, 41, 59))
    for k in range(6):
        d.text((int(24 * s), int((90 + 40 * k) * s)), f"Menu item {k + 1}", font=font(int(16 * s)), fill=(200, 205, 215))
    fields = []
    for k in range(5):
        y = int((110 + 92 * k) * s)
        d.text((int(280 * s), y - int(26 * s)), f"Field {k + 1}", font=font(int(16 * s)), fill=(40, 40, 40))
        box = (int(280 * s), y, int((280 + 420 + 60 * (k % 3)) * s), y + int(44 * s))
        d.rounded_rectangle(box, radius=int(6 * s), outline=(170, 175, 185), width=2, fill=(255, 255, 255))
        fields.append(box)
    button = (int(900 * s), int(600 * s), int(1100 * s), int(650 * s))
    d.rounded_rectangle(button, radius=int(8 * s), fill=(59, 91, 219))
    d.text((int(930 * s), int(612 * s)), "Submit", font=font(int(20 * s)), fill=(255, 255, 255))
    x0, y0, x1, y1 = (fields + [button])[index % 6]
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)


def make_guide(folder: str | Path, steps: int = 5, size: tuple[int, int] = (1280, 720),
               texts: list[str] | None = None, title: str = "Submit an expense report") -> Path:
    """Write a guide folder (guide.json + images/) with `steps` steps; returns the folder."""
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(steps):
        action, text = TEXTS[i % len(TEXTS)]
        if texts is not None:
            text = texts[i]
        png, box = screenshot(i, size)
        annotated, hl = annotate(png, box, i + 1)
        name = f"images/{i + 1:03d}-step.png"
        (folder / name).write_bytes(annotated)
        out.append(GuideStep(id=f"step-{i + 1}", number=i + 1, action=action, text=text, image=name,
                             image_size=size, highlight=hl))
    final, _ = screenshot(steps, size)
    (folder / "images" / "final.png").write_bytes(final)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    guide = Guide(id=f"guide-synthetic-{steps}", title=title,
                  intro="In this guide you record a business expense and send it for approval.",
                  outro="Done. You should now see the Expense submitted page.", steps=out,
                  source=GuideSource(capture_id="cap-synthetic", capture_dir="capture", workflow_path="synthetic.yaml",
                                     workflow_sha256="0" * 64, captured_at=now),
                  composed_at=now, final_image="images/final.png")
    save_guide(guide, folder)
    return folder
