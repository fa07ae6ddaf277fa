"""Screenshot annotation rendered into the pixels: highlight box and numbered badge (deterministic)."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from capture.bundle import Box

HIGHLIGHT = (255, 122, 0)  # orange reads on light and dark UIs
TINT_ALPHA = 48
OUTLINE_CSS_PX = 3
PAD_CSS_PX = 4
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.ImageFont:
    for p in FONT_PATHS:
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size)


def annotate(png: bytes, box: Box | None, number: int | None, scale: float = 1.0) -> tuple[bytes, Box | None]:
    """Draw the highlight around `box` (device pixels) and a numbered badge; returns PNG bytes and the
    highlight rectangle in image pixels."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    if box is None or box.width <= 0 or box.height <= 0:
        return _png(img), None
    pad = PAD_CSS_PX * scale
    x0 = max(0.0, box.x - pad)
    y0 = max(0.0, box.y - pad)
    x1 = min(img.width - 1.0, box.x + box.width + pad)
    y1 = min(img.height - 1.0, box.y + box.height + pad)
    if x1 <= x0 or y1 <= y0:  # the target is off-screen: leave the picture as it is
        return _png(img), None
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    radius = int(6 * scale)
    width = max(2, int(OUTLINE_CSS_PX * scale))
    d.rounded_rectangle([x0, y0, x1, y1], radius=radius, fill=HIGHLIGHT + (TINT_ALPHA,), outline=HIGHLIGHT + (255,), width=width)
    img = Image.alpha_composite(img.convert("RGBA"), overlay)
    if number is not None:
        _badge(img, number, x0, y0, scale)
    return _png(img.convert("RGB")), Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)


def _badge(img: Image.Image, number: int, x: float, y: float, scale: float) -> None:
    r = int(13 * scale)
    cx = min(max(x, r + 1), img.width - r - 1)
    cy = min(max(y, r + 1), img.height - r - 1)
    d = ImageDraw.Draw(img)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=HIGHLIGHT + (255,), outline=(255, 255, 255, 255), width=max(1, int(2 * scale)))
    d.text((cx, cy), str(number), fill=(255, 255, 255, 255), font=font(int(14 * scale)), anchor="mm")


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
