"""Still frames for the video: screenshots fitted to the frame, title and end cards (Pillow)."""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from guidecast.kernel.fonts import font

BACKGROUND = (17, 24, 39)
ACCENT = (255, 122, 0)


def fit(img: Image.Image, width: int, height: int) -> Image.Image:
    """`img` scaled to fit inside width x height, centred on the background colour."""
    img = img.convert("RGB")
    scale = min(width / img.width, height / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if size != img.size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    if size == (width, height):
        return img
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    canvas.paste(img, ((width - size[0]) // 2, (height - size[1]) // 2))
    return canvas


def screenshot_frame(path: Path, width: int, height: int) -> Image.Image:
    with Image.open(path) as im:
        return fit(im, width, height)


def card(title: str, subtitle: str, width: int, height: int, background: Image.Image | None = None) -> Image.Image:
    """A title or end card: large title, a subtitle, over a dimmed picture or a plain background."""
    if background is not None:
        base = fit(background, width, height)
        base = Image.blend(base, Image.new("RGB", base.size, BACKGROUND), 0.78)
    else:
        base = Image.new("RGB", (width, height), BACKGROUND)
    d = ImageDraw.Draw(base)
    s = height / 720
    title_font, sub_font = font(int(52 * s)), font(int(26 * s))
    lines = textwrap.wrap(title, width=32) or [""]
    line_h = int(64 * s)
    y = height // 2 - (len(lines) * line_h) // 2 - int(20 * s)
    d.rectangle([int(96 * s), y - int(28 * s), int(96 * s) + int(72 * s), y - int(20 * s)], fill=ACCENT)
    for line in lines:
        d.text((int(96 * s), y), line, font=title_font, fill=(255, 255, 255))
        y += line_h
    d.text((int(96 * s), y + int(12 * s)), subtitle, font=sub_font, fill=(200, 205, 215))
    return base


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
