"""Video segments: what each depends on (its key), and how it is drawn and encoded.

A step segment shows the annotated screenshot, zooms toward the target and back while an animated
cursor travels to it and clicks; intro and outro are title cards. Segments are cached under a hash of
everything that changes their pixels, so unchanged steps are never rendered twice.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from PIL import Image, UnidentifiedImageError

from capture.bundle import Box
from capture.errors import GuidecastError
from capture.files import sha256_bytes
from narration import motion, sprites
from narration.encode import X264, Job, encode_segments
from narration.frames import BACKGROUND, card
from narration.manifest import RenderSettings
from narration.motion import Rect, Timeline
from narration.planes import Planes, Sprite, paste, planes_of, sprite_of

RENDERER_VERSION = "gc-video-2"
STAGE_MAX = 2.0  # screenshots larger than this many frames are scaled down first
CURSOR_H, RIPPLE_R = 0.045, 0.05  # share of the frame height


class SegmentError(GuidecastError):
    """A segment's picture cannot be drawn (missing or unreadable screenshot)."""


@dataclass(frozen=True)
class SegmentSpec:
    id: str
    kind: str  # intro | step | outro
    frames: int
    audio_sha256: str
    image: str | None = None  # path of the screenshot (step) or card background (outro)
    image_sha256: str | None = None
    highlight: tuple[float, float, float, float] | None = None  # x, y, w, h in image pixels
    image_size: tuple[int, int] | None = None  # the size `highlight` refers to
    action: str | None = None
    cursor_from: tuple[float, float] | None = None  # where the cursor starts (fraction of the frame)
    title: str | None = None  # card text
    subtitle: str | None = None
    where: str = ""  # how to name this segment in messages


def segment_key(spec: SegmentSpec, settings: RenderSettings, binary: str) -> str:
    """A hash of everything the segment's bytes depend on (not its id: two equal steps share a segment)."""
    deps = {k: v for k, v in asdict(spec).items() if k not in ("image", "where", "id")}
    deps.update(size=[settings.width, settings.height], fps=settings.fps, renderer=RENDERER_VERSION, x264=X264,
                encoder=f"{os.path.basename(binary)}:{os.stat(binary).st_size}")
    return sha256_bytes(json.dumps(deps, sort_keys=True).encode())[:32]


def render_segments(work: list[tuple[SegmentSpec, Path]], settings: RenderSettings, binary: str,
                    cancel: threading.Event | None = None) -> None:
    """Draw and encode segments (with one encoder) into their files. Pictures are drawn lazily, as the
    encoder asks for them, so that decoding a screenshot overlaps encoding the previous segment."""
    encode_segments([_job(spec, out, settings) for spec, out in work], settings, binary, cancel)


def _job(spec: SegmentSpec, out: Path, settings: RenderSettings) -> Job:
    if spec.kind == "step" and spec.image:
        has_target = bool(spec.highlight and spec.highlight[2] > 0 and spec.highlight[3] > 0)
        tl = motion.step_timeline(spec.frames, settings.fps, has_target, spec.action)

        def pictures() -> Iterator[Planes]:
            stage = Stage(open_picture(spec), spec.highlight, spec.image_size, settings)
            yield from stage.pictures(tl, spec.cursor_from or motion.CURSOR_HOME)
    else:
        tl = motion.still(spec.frames)

        def pictures() -> Iterator[Planes]:
            yield planes_of(card_picture(spec, settings))
    return Job(pictures(), [s.hold for s in tl.shots], out)


def open_picture(spec: SegmentSpec) -> Image.Image:
    path = Path(spec.image)
    if not path.exists():
        raise SegmentError(f"{path}: screenshot of {spec.where} is missing; compose the guide again")
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise SegmentError(f"{path}: screenshot of {spec.where} cannot be read ({e}); compose the guide "
                           "again") from None


def card_picture(spec: SegmentSpec, settings: RenderSettings) -> Image.Image:
    bg = open_picture(spec) if spec.image else None
    return card(spec.title or "", spec.subtitle or "", settings.width, settings.height, background=bg)


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
            img = img.resize((max(1, round(iw * scale)), max(1, round(ih * scale))), Image.LANCZOS)
        canvas = Image.new("RGB", (sw, sh), BACKGROUND)
        ox, oy = (sw - img.width) // 2, (sh - img.height) // 2
        canvas.paste(img, (ox, oy))
        self.size = (sw, sh)
        self.planes = planes_of(canvas)
        self.small = planes_of(canvas.resize(self.out, Image.LANCZOS)) if sw >= 1.5 * self.out[0] else None
        self.target = None
        if highlight and highlight[2] > 0 and highlight[3] > 0:
            k = scale * (iw / image_size[0] if image_size and image_size[0] else 1.0)
            x, y, w, h = (v * k for v in highlight)
            self.target = Rect(x + ox, y + oy, w, h)
        self.full = Rect(0.0, 0.0, float(sw), float(sh))

    def view(self, r: Rect, passing: bool = False) -> Planes:
        sw, sh = self.size
        box = (max(0.0, r.x), max(0.0, r.y), min(float(sw), r.x + r.w), min(float(sh), r.y + r.h))
        if self.small is not None and r.w >= 1.5 * self.out[0]:
            k = self.out[0] / sw
            return self.small.region(tuple(v * k for v in box), self.out, passing)
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
