"""Pictures as the encoder wants them: Y, Cb, Cr planes (BT.709, limited range, 4:2:0) as Pillow images.

Converting once per segment and zooming the planes is about half the work of zooming RGB and letting
ffmpeg convert every frame; overlays (cursor, ripple) are pasted into the planes with their alpha.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

KR, KB = 0.2126, 0.0722
KG = 1 - KR - KB
_YS, _CS = 219 / 255, 224 / 255
# RGB -> (Y, Cb, Cr) as an affine matrix Pillow applies in C
_TO_YCBCR = (KR * _YS, KG * _YS, KB * _YS, 16,
             -KR / (2 * (1 - KB)) * _CS, -KG / (2 * (1 - KB)) * _CS, 0.5 * _CS, 128,
             0.5 * _CS, -KG / (2 * (1 - KR)) * _CS, -KB / (2 * (1 - KR)) * _CS, 128)


@dataclass
class Planes:
    y: Image.Image
    cb: Image.Image  # half width and height
    cr: Image.Image

    @property
    def size(self) -> tuple[int, int]:
        return self.y.size

    def copy(self) -> Planes:
        return Planes(self.y.copy(), self.cb.copy(), self.cr.copy())

    def chunks(self) -> tuple[bytes, bytes, bytes]:
        """Raw yuv420p bytes of the picture, plane by plane."""
        return raw_bytes(self.y), raw_bytes(self.cb), raw_bytes(self.cr)

    def region(self, box: tuple[float, float, float, float], size: tuple[int, int], passing: bool = False) -> Planes:
        """The `box` (plane pixels, floats) of the picture scaled to `size`: what a camera showing it sees.
        `passing`: on screen for a single frame of a motion, where sharp colour edges go unseen (chroma is
        then resampled by nearest neighbour, a third of the work)."""
        if box == (0, 0, *self.size) and size == self.size:
            return self.copy()
        half = tuple(v / 2 for v in box)
        hs = (size[0] // 2, size[1] // 2)
        chroma = Image.Resampling.NEAREST if passing else Image.Resampling.BILINEAR
        return Planes(self.y.resize(size, Image.Resampling.BILINEAR, box=box),
                      self.cb.resize(hs, chroma, box=half), self.cr.resize(hs, chroma, box=half))

    def passing(self, fine_y: Image.Image, box: tuple[float, float, float, float], size: tuple[int, int]) -> Planes:
        """Like `region(box, size, passing=True)` for a magnifying `box`, at a seventh of the work: luma is
        sampled by nearest neighbour from `fine_y`, this picture's luma upscaled twice (bilinear) once for
        all pictures of a motion; it differs from resampling by a few levels (PSNR about 40 dB and more)."""
        half = tuple(v / 2 for v in box)
        hs = (size[0] // 2, size[1] // 2)
        return Planes(fine_y.resize(size, Image.Resampling.NEAREST, box=tuple(2 * v for v in box)),
                      self.cb.resize(hs, Image.Resampling.NEAREST, box=half), self.cr.resize(hs, Image.Resampling.NEAREST, box=half))


def raw_bytes(img: Image.Image) -> bytes:
    """`img.tobytes()` of an "L" image in one piece: tobytes encodes 64 KiB at a time and joins the pieces
    (about 1 ms for a 720p plane, as much as resampling it); one call to the same raw encoder with room for
    the whole plane takes a few dozen microseconds. Falls back to tobytes should Pillow's internals differ."""
    size = img.width * img.height
    if img.mode == "L" and size:
        try:
            enc = Image._getencoder("L", "raw", "L")
            enc.setimage(img.im)
            _, status, data = enc.encode(size)
            if status == 1 and len(data) == size:
                return data
        except Exception:  # noqa: BLE001 - any surprise: the public way
            pass
    return img.tobytes()


@dataclass
class Sprite:
    y: Image.Image
    alpha: Image.Image
    cb: Image.Image
    cr: Image.Image
    alpha_half: Image.Image


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * KR + rgb[..., 1] * KG + rgb[..., 2] * KB


def _chroma(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    luma = _luma(rgb)
    cb = 128 + (rgb[..., 2] - luma) / (2 * (1 - KB)) * _CS
    cr = 128 + (rgb[..., 0] - luma) / (2 * (1 - KR)) * _CS
    return cb, cr


def _half(a: np.ndarray) -> np.ndarray:
    """2x2 block sums."""
    return a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]


def _l(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def _even(img: Image.Image, fill) -> Image.Image:
    w, h = img.size
    if w % 2 == 0 and h % 2 == 0:
        return img
    out = Image.new(img.mode, (w + w % 2, h + h % 2), fill)
    out.paste(img, (0, 0))
    return out


def planes_of(img: Image.Image) -> Planes:
    """The picture (RGB) as limited-range BT.709 4:2:0 planes; odd sizes are padded by one pixel. Chroma is
    converted from the 2x2 averages of RGB (the same as averaging full-size chroma: the matrix is linear)."""
    rgb = _even(img if img.mode == "RGB" else img.convert("RGB"), (0, 0, 0))
    _, cb, cr = rgb.reduce(2).convert("RGB", _TO_YCBCR).split()
    return Planes(rgb.convert("L", _TO_YCBCR[:4]), cb, cr)


def sprite_of(img: Image.Image) -> Sprite:
    """An RGBA overlay as planes plus alpha masks (full size for luma, half size for chroma)."""
    img = _even(img.convert("RGBA"), (0, 0, 0, 0))
    rgba = np.asarray(img, dtype=np.float32)
    rgb, a = rgba[..., :3], rgba[..., 3]
    a_half = _half(a)
    weighted = _half(rgb * a[..., None]) / np.maximum(a_half, 1e-6)[..., None]
    cb, cr = _chroma(weighted)
    return Sprite(_l(16 + _luma(rgb) * _YS), _l(a), _l(cb), _l(cr), _l(a_half / 4))


def paste(p: Planes, s: Sprite, x: int, y: int) -> Callable[[], None]:
    """Draw `s` with its top-left corner at (x, y) of `p` (rounded down to even pixels); returns a function
    that puts back what it covered (cheaper than copying the whole picture first)."""
    x, y = x - x % 2, y - y % 2
    w, h = s.y.size
    box, half = (x, y, x + w, y + h), (x // 2, y // 2, x // 2 + w // 2, y // 2 + h // 2)
    under = (p.y.crop(box), p.cb.crop(half), p.cr.crop(half))
    p.y.paste(s.y, (x, y), s.alpha)
    p.cb.paste(s.cb, half[:2], s.alpha_half)
    p.cr.paste(s.cr, half[:2], s.alpha_half)

    def restore() -> None:
        p.y.paste(under[0], box[:2])
        p.cb.paste(under[1], half[:2])
        p.cr.paste(under[2], half[:2])

    return restore
