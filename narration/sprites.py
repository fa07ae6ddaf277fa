"""Small RGBA pictures drawn over the screenshot: the mouse cursor and the click ripple (Pillow)."""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

from guidecast.narration.frames import ACCENT

_SUPERSAMPLE = 4
# an arrow cursor, tip at (0, 0), in units of its height
_ARROW = [(0, 0), (0, 0.78), (0.2, 0.6), (0.33, 0.92), (0.45, 0.87), (0.32, 0.56), (0.56, 0.56)]


@lru_cache(maxsize=8)
def cursor(height: int) -> Image.Image:
    """An arrow cursor `height` pixels tall: black with a white outline, its tip at the top-left pixel."""
    s = _SUPERSAMPLE
    size = (int(height * 0.62) + 4, height + 4)
    big = Image.new("RGBA", (size[0] * s, size[1] * s), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    pts = [(1.5 * s + x * height * s, 1.5 * s + y * height * s) for x, y in _ARROW]
    d.polygon(pts, fill=(20, 20, 24, 255), outline=(255, 255, 255, 255), width=max(2, height * s // 14))
    return big.resize(size, Image.Resampling.LANCZOS)


@lru_cache(maxsize=8)
def ripples(radius: int, count: int) -> tuple[Image.Image, ...]:
    """`count` pictures of a click ripple: a ring growing to `radius` and fading out."""
    s = _SUPERSAMPLE
    side = 2 * radius + 4
    out = []
    for i in range(count):
        t = (i + 1) / count
        r = radius * (0.25 + 0.75 * t)
        alpha = int(230 * (1 - t) ** 1.2)
        width = max(2, int(radius * 0.16 * (1 - 0.5 * t)))
        big = Image.new("RGBA", (side * s, side * s), (0, 0, 0, 0))
        d = ImageDraw.Draw(big)
        c = side * s / 2
        d.ellipse([c - r * s, c - r * s, c + r * s, c + r * s], fill=ACCENT + (alpha // 4,),
                  outline=ACCENT + (alpha,), width=width * s)
        out.append(big.resize((side, side), Image.Resampling.LANCZOS))
    return tuple(out)
