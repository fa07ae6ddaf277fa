"""Screenshot annotation rendered into the pixels (deterministic): blur, crop or zoom, highlight, click
marker and numbered badge.

Every box given here is in device pixels of the screenshot (CSS pixels x device scale); sizes of the
drawing (outline, badge, marker) are given in CSS pixels and scaled, so retina captures look the same.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

from guidecast.kernel.boxes import Box
from guidecast.kernel.fonts import font

HIGHLIGHT = (255, 122, 0)  # orange reads on light and dark UIs
TINT_ALPHA = 48
OUTLINE_CSS_PX = 3
PAD_CSS_PX = 4
ZOOM_CONTEXT_CSS_PX = 160  # how much of the page around the target a zoomed picture keeps
ZOOM_MIN_FRACTION = 0.45  # a zoomed picture is at least this share of the screenshot's width
PIXELATE_CSS_PX = 8
@dataclass
class Marks:
    """What to draw on one screenshot (boxes in device pixels)."""

    targets: list[Box] = field(default_factory=list)  # highlighted; the badge goes on the first
    number: int | None = None
    marker: bool = False  # click marker in the middle of the first target
    blur: list[Box] = field(default_factory=list)
    crop: Box | None = None  # keep only this part
    zoom: bool = False  # keep the first target with context around it (ignored when `crop` is set)


def annotate(png: bytes, box: Box | None, number: int | None, scale: float = 1.0) -> tuple[bytes, Box | None]:
    """Highlight `box` (device pixels) with a numbered badge; returns PNG bytes and the highlight
    rectangle in image pixels."""
    return render_marks(png, Marks(targets=[box] if box else [], number=number), scale)


def render_marks(png: bytes, marks: Marks, scale: float = 1.0) -> tuple[bytes, Box | None]:
    """Blur, crop, then draw highlights, marker and badge; returns PNG bytes and the first highlight
    rectangle in the output image's pixels (None when there is none on the picture)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    for b in marks.blur:
        _blur(img, b, scale)
    targets = [b for b in marks.targets if b is not None and b.width > 0 and b.height > 0]
    region = marks.crop or (zoom_region(targets[0], img.size, scale) if marks.zoom and targets else None)
    if region is not None:
        x0, y0, x1, y1 = _clamp(region, img.size)
        img = img.crop((x0, y0, x1, y1))
        targets = [Box(x=b.x - x0, y=b.y - y0, width=b.width, height=b.height) for b in targets]
    rects = [r for r in (_pad(b, img.size, scale) for b in targets) if r is not None]
    if not rects:
        return _png(img), None
    img = img.convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in rects:
        d.rounded_rectangle([x0, y0, x1, y1], radius=int(6 * scale), fill=HIGHLIGHT + (TINT_ALPHA,),
                            outline=HIGHLIGHT + (255,), width=max(2, int(OUTLINE_CSS_PX * scale)))
    if marks.marker:
        _marker(d, rects[0], scale)
    img = Image.alpha_composite(img, overlay)
    x0, y0, x1, y1 = rects[0]
    if marks.number is not None:
        r = 13 * scale
        small = x1 - x0 < 3 * r  # a small target (a checkbox): the badge sits left of it, not on it
        bx, by = (x0 - r - 2 * scale, (y0 + y1) / 2) if small else (x0, y0)
        _badge(img, marks.number, bx, by, scale)
    return _png(img.convert("RGB")), Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)


def zoom_region(box: Box, size: tuple[int, int], scale: float) -> Box:
    """The part of the picture around `box` with context, in the screenshot's aspect ratio."""
    iw, ih = size
    aspect = iw / ih
    ctx = ZOOM_CONTEXT_CSS_PX * scale
    w = max(box.width + 2 * ctx, iw * ZOOM_MIN_FRACTION)
    h = max(box.height + 2 * ctx, w / aspect)
    w = min(max(w, h * aspect), iw)
    h = min(h, ih)
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    x = min(max(0.0, cx - w / 2), iw - w)
    y = min(max(0.0, cy - h / 2), ih - h)
    return Box(x=round(x), y=round(y), width=round(w), height=round(h))


def inside(box: Box, size: tuple[int, int], tolerance: float = 0.5) -> bool:
    """Whether `box` lies within a picture of `size` pixels."""
    return (box.x >= 0 and box.y >= 0 and box.x + box.width <= size[0] + tolerance
            and box.y + box.height <= size[1] + tolerance)


def _clamp(b: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0 = int(max(0, min(b.x, size[0] - 1)))
    y0 = int(max(0, min(b.y, size[1] - 1)))
    x1 = int(max(x0 + 1, min(round(b.x + b.width), size[0])))
    y1 = int(max(y0 + 1, min(round(b.y + b.height), size[1])))
    return x0, y0, x1, y1


def _pad(box: Box, size: tuple[int, int], scale: float) -> tuple[float, float, float, float] | None:
    pad = PAD_CSS_PX * scale
    x0 = max(0.0, box.x - pad)
    y0 = max(0.0, box.y - pad)
    x1 = min(size[0] - 1.0, box.x + box.width + pad)
    y1 = min(size[1] - 1.0, box.y + box.height + pad)
    if x1 <= x0 or y1 <= y0:  # the target is off the picture: leave it as it is
        return None
    return x0, y0, x1, y1


def _blur(img: Image.Image, box: Box, scale: float) -> None:
    """Pixelate then blur the region so no text in it can be read back."""
    x0, y0, x1, y1 = _clamp(box, img.size)
    region = img.crop((x0, y0, x1, y1))
    cell = max(2, int(PIXELATE_CSS_PX * scale))
    small = region.resize((max(1, region.width // cell), max(1, region.height // cell)), Image.Resampling.BOX)
    region = small.resize(region.size, Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(cell / 2))
    img.paste(region, (x0, y0))


def click_point(rect: tuple[float, float, float, float], scale: float) -> tuple[float, float]:
    """Where the marker points: the middle of the target, or right of its label on a wide one."""
    x0, y0, x1, y1 = rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if (x1 - x0) > 2.5 * (y1 - y0):
        cx = max(cx, min(cx + (x1 - x0) * 0.3, x1 - 14 * scale))
    return cx, cy


def _marker(d: ImageDraw.ImageDraw, rect: tuple[float, float, float, float], scale: float) -> None:
    """A click marker: a ripple ring and a mouse pointer whose tip is at the click point."""
    x, y = click_point(rect, scale)
    ring = 11 * scale
    d.ellipse([x - ring, y - ring, x + ring, y + ring], fill=HIGHLIGHT + (70,), outline=HIGHLIGHT + (230,),
              width=max(2, int(2 * scale)))
    arrow = [(0, 0), (0, 17), (4.5, 13), (7.5, 20), (10.5, 18.8), (7.6, 12.2), (13, 12)]
    pts = [(x + ax * scale, y + ay * scale) for ax, ay in arrow]
    d.polygon(pts, fill=(255, 255, 255, 255), outline=(29, 36, 48, 255), width=max(1, int(1.5 * scale)))


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


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) read from the PNG header."""
    import struct

    w, h = struct.unpack(">II", png[16:24])
    return (w, h)
