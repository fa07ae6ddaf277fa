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
BADGE_RADIUS_CSS_PX = 13
GAP_CSS_PX = 3  # between a marker and what it must not cover
# A target smaller than this (either side, CSS px) gets its click marker around and beside it, not on it:
# a ring drawn on a checkbox, a "1" link or a short menu entry would hide what the reader looks for.
SMALL_WIDTH_CSS_PX = 100
SMALL_HEIGHT_CSS_PX = 36
ARROW = [(0, 0), (0, 17), (4.5, 13), (7.5, 20), (10.5, 18.8), (7.6, 12.2), (13, 12)]  # CSS px, tip at (0, 0)
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass
class Marks:
    """What to draw on one screenshot (boxes in device pixels)."""

    targets: list[Box] = field(default_factory=list)  # highlighted; the badge goes on the first
    number: int | None = None
    marker: bool = False  # click marker in the middle of the first target
    blur: list[Box] = field(default_factory=list)
    crop: Box | None = None  # keep only this part
    zoom: bool = False  # keep the first target with context around it (ignored when `crop` is set)
    draw: bool = True  # False: the same picture (blur, crop, zoom) without highlight, marker or badge (practice)


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
    if not marks.draw:  # the practice picture: where the highlight would be, nothing drawn
        x0, y0, x1, y1 = rects[0]
        return _png(img), Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)
    img = img.convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in rects:
        d.rounded_rectangle([x0, y0, x1, y1], radius=int(6 * scale), fill=HIGHLIGHT + (TINT_ALPHA,),
                            outline=HIGHLIGHT + (255,), width=max(2, int(OUTLINE_CSS_PX * scale)))
    taken: list[Rect] = [rects[0]]
    if marks.marker:
        taken += _marker(d, rects[0], img.size, scale)
    img = Image.alpha_composite(img, overlay)
    x0, y0, x1, y1 = rects[0]
    if marks.number is not None:
        bx, by = badge_centre(rects[0], taken, img.size, scale)
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


def is_small(rect: Rect, scale: float) -> bool:
    x0, y0, x1, y1 = rect
    return x1 - x0 < SMALL_WIDTH_CSS_PX * scale or y1 - y0 < SMALL_HEIGHT_CSS_PX * scale


def click_point(rect: Rect, scale: float) -> tuple[float, float]:
    """Where the marker's pointer tip is: the middle of the target, or right of its label on a wide one;
    on a small target just outside its lower right corner (the ring goes around it instead)."""
    x0, y0, x1, y1 = rect
    if is_small(rect, scale):
        return x1 + GAP_CSS_PX * scale, y1 + GAP_CSS_PX * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if (x1 - x0) > 2.5 * (y1 - y0):
        cx = max(cx, min(cx + (x1 - x0) * 0.3, x1 - 14 * scale))
    return cx, cy


def _arrow(x: float, y: float, scale: float, left: bool = False, up: bool = False) -> list[tuple[float, float]]:
    """The pointer with its tip at (x, y), its body to the lower right (or mirrored: `left`, `up`)."""
    return [(x + (-ax if left else ax) * scale, y + (-ay if up else ay) * scale) for ax, ay in ARROW]


def _bbox(pts: list[tuple[float, float]]) -> Rect:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _fits(r: Rect, size: tuple[int, int]) -> bool:
    return r[0] >= 0 and r[1] >= 0 and r[2] <= size[0] and r[3] <= size[1]


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _marker(d: ImageDraw.ImageDraw, rect: Rect, size: tuple[int, int], scale: float) -> list[Rect]:
    """A click marker: a ripple ring and a mouse pointer whose tip is at the click point. On a small target
    the ring is an outline around it and the pointer sits outside a corner, pointing at it. Returns the
    rectangles the marker covers (the badge keeps off them)."""
    width = max(2, int(2 * scale))
    if not is_small(rect, scale):
        x, y = click_point(rect, scale)
        rr = 11 * scale
        d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=HIGHLIGHT + (70,), outline=HIGHLIGHT + (230,),
                  width=width)
        pts = _arrow(x, y, scale)
        d.polygon(pts, fill=(255, 255, 255, 255), outline=(29, 36, 48, 255), width=max(1, int(1.5 * scale)))
        return [_bbox(pts)]
    x0, y0, x1, y1 = rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    g = GAP_CSS_PX * scale
    # an ellipse through the rectangle's corners (semi-axes x sqrt 2), a gap further out
    a, b = (x1 - x0) / 2 * 1.4143 + g, (y1 - y0) / 2 * 1.4143 + g
    ring = (cx - a, cy - b, cx + a, cy + b)
    d.ellipse(list(ring), outline=HIGHLIGHT + (230,), width=width)
    # the pointer outside a corner, pointing at it, its body away from the target: lower right first
    tips = [(x1 + g, y1 + g, False, False), (x0 - g, y1 + g, True, False), (x1 + g, y0 - g, False, True),
            (x0 - g, y0 - g, True, True)]
    options = [_arrow(x, y, scale, left, up) for x, y, left, up in tips]
    pts = next((p for p in options if _fits(_bbox(p), size)), options[0])
    d.polygon(pts, fill=(255, 255, 255, 255), outline=(29, 36, 48, 255), width=max(1, int(1.5 * scale)))
    return [ring, _bbox(pts)]


def badge_centre(rect: Rect, taken: list[Rect], size: tuple[int, int], scale: float) -> tuple[float, float]:
    """Where the numbered badge goes: beside the highlight (left, then right, above, below), clear of the
    target and of the click marker, inside the picture; on the highlight's corner only when nothing fits."""
    x0, y0, x1, y1 = rect
    r = BADGE_RADIUS_CSS_PX * scale
    g = GAP_CSS_PX * scale
    left = min(t[0] for t in taken)
    right = max(t[2] for t in taken)
    cy = (y0 + y1) / 2 if y1 - y0 < 4 * r else y0 + r
    candidates = [(left - g - r, cy), (right + g + r, cy), (x0 + r, y0 - g - r), (x0 + r, y1 + g + r),
                  (x1 - r, y0 - g - r), (x1 - r, y1 + g + r)]
    for bx, by in candidates:
        disc = (bx - r, by - r, bx + r, by + r)
        if _fits(disc, size) and not any(_overlaps(disc, t) for t in taken):
            return bx, by
    return x0, y0


def _badge(img: Image.Image, number: int, x: float, y: float, scale: float) -> None:
    r = int(BADGE_RADIUS_CSS_PX * scale)
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
