"""A step's screenshot as the camera sees it: on a canvas of the frame's aspect, zoomed toward the
target along a timeline, with the cursor and the click ripple drawn over it."""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from PIL import Image

from guidecast.kernel.boxes import Box
from guidecast.narration import motion, sprites
from guidecast.narration.frames import BACKGROUND
from guidecast.narration.manifest import RenderSettings
from guidecast.narration.motion import Rect, Timeline
from guidecast.narration.planes import Planes, Sprite, paste, planes_of, sprite_of

STAGE_MAX = 2.0  # screenshots larger than this many frames are scaled down first
CURSOR_H, RIPPLE_R = 0.045, 0.05  # share of the frame height


@lru_cache(maxsize=16)
def _cursor(height: int) -> Sprite:
    return sprite_of(sprites.cursor(height))


@lru_cache(maxsize=4)
def _ripples(radius: int, count: int) -> tuple[Sprite, ...]:
    return tuple(sprite_of(r) for r in sprites.ripples(radius, count))


class Stage:
    """The screenshot on a canvas of the frame's aspect, as planes, with the target in canvas pixels."""

    def __init__(self, img: Image.Image, highlight, image_size, settings: RenderSettings):
        self.out = (settings.width, settings.height)
        self.fps = settings.fps
        iw, ih = img.size
        aspect = settings.width / settings.height
        sw, sh = max(iw, round(ih * aspect)), max(ih, round(iw / aspect))
        scale = min(1.0, STAGE_MAX * settings.width / sw)
        sw, sh = round(sw * scale) // 2 * 2, round(sh * scale) // 2 * 2
        if scale < 1.0:
            img = img.resize((max(1, round(iw * scale)), max(1, round(ih * scale))), Image.Resampling.LANCZOS)
        ox, oy = (sw - img.width) // 2, (sh - img.height) // 2
        canvas = img
        if img.size != (sw, sh):
            canvas = Image.new("RGB", (sw, sh), BACKGROUND)
            canvas.paste(img, (ox, oy))
        self.size = (sw, sh)
        self.planes = planes_of(canvas)
        self.small = planes_of(canvas.resize(self.out, Image.Resampling.LANCZOS)) if sw >= 1.5 * self.out[0] else None
        self.target = None
        if highlight and highlight[2] > 0 and highlight[3] > 0:
            k = scale * (iw / image_size[0] if image_size and image_size[0] else 1.0)
            x, y, w, h = (v * k for v in highlight)
            self.target = Rect(x + ox, y + oy, w, h)
        self.full = Rect(0.0, 0.0, float(sw), float(sh))
        self._fine_y: Image.Image | None = None

    def view(self, r: Rect, passing: bool = False) -> Planes:
        sw, sh = self.size
        box = (max(0.0, r.x), max(0.0, r.y), min(float(sw), r.x + r.w), min(float(sh), r.y + r.h))
        if self.small is not None and r.w >= 1.5 * self.out[0]:
            k = self.out[0] / sw
            return self.small.region(tuple(v * k for v in box), self.out, passing)
        if passing and self.small is None and r.w <= self.out[0]:  # magnified, in motion
            if self._fine_y is None:
                self._fine_y = self.planes.y.resize((2 * sw, 2 * sh), Image.Resampling.BILINEAR)
            return self.planes.passing(self._fine_y, box, self.out)
        return self.planes.region(box, self.out, passing)

    def pictures(self, tl: Timeline, cursor_from: tuple[float, float]) -> Iterator[Planes]:
        """One picture per shot of the timeline."""
        goal = motion.target_view(self.size, self.target) if self.target else self.full
        views = [motion.between(self.full, goal, t) for t in tl.ladder]
        rungs: dict[int, Planes] = {}
        h = self.out[1]
        cursor, pressed = _cursor(round(h * CURSOR_H)), _cursor(round(h * CURSOR_H * 0.85))
        ripples = _ripples(round(h * RIPPLE_R), round(motion.RIPPLE_S * self.fps))
        start = (cursor_from[0] * self.size[0], cursor_from[1] * self.size[1])
        aim = self.target.centre if self.target else start
        for shot in tl.shots:
            if shot.rung not in rungs:
                rungs[shot.rung] = self.view(views[shot.rung], passing=0 < shot.rung < len(views) - 1)
            pic = rungs[shot.rung]
            view = views[shot.rung]
            undo = []
            if shot.ripple is not None:
                rx, ry = motion.to_frame(aim, view, self.out)
                r = ripples[min(shot.ripple, len(ripples) - 1)]
                undo.append(paste(pic, r, round(rx - r.y.width / 2), round(ry - r.y.height / 2)))
            if shot.cursor is not None:
                t = shot.cursor
                p = (start[0] + (aim[0] - start[0]) * t, start[1] + (aim[1] - start[1]) * t)
                fx, fy = motion.to_frame(p, view, self.out)
                undo.append(paste(pic, pressed if shot.pressed else cursor, round(fx) - 1, round(fy) - 1))
            yield pic  # the encoder takes its bytes before asking for the next picture
            for restore in reversed(undo):
                restore()


def target_centre(highlight: Box | None, image_size: tuple[int, int] | None,
                  settings: RenderSettings) -> tuple[float, float] | None:
    """Where a step's target sits in the whole frame (fractions), for the next step's cursor to start from."""
    if highlight is None or not image_size or highlight.width <= 0 or highlight.height <= 0:
        return None
    iw, ih = image_size
    aspect = settings.width / settings.height
    sw, sh = max(iw, ih * aspect), max(ih, iw / aspect)
    cx = (sw - iw) / 2 + highlight.x + highlight.width / 2
    cy = (sh - ih) / 2 + highlight.y + highlight.height / 2
    return round(cx / sw, 4), round(cy / sh, 4)
