"""Camera and cursor motion of a step's segment, as a list of shots (pure arithmetic, no pixels).

A step segment starts on the whole screenshot, zooms and pans toward the target while the cursor
travels to it and clicks as the camera settles (a ripple), holds on the target while the narration runs,
and zooms back out so that the next segment starts from a whole picture again. Pictures that stay on
screen for several frames are one shot with a `hold`, so the encoder sees each distinct picture once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

ZOOM_MAX = 2.2  # never magnify more than this
FILL = (0.45, 0.40)  # when zoomed, the target takes at most this share of the frame's width / height
CLICK_ACTIONS = {"click", "fill", "select", "check", "uncheck"}
CURSOR_HOME = (0.62, 0.78)  # where the cursor rests before the first step (fraction of the frame)

# phase lengths in seconds at full length; shorter segments shrink them; zooming out takes half as long.
# Every moving picture is one more picture to draw and encode (a held one costs one): at 25 fps the zoom
# in is 9 eased pictures, the zoom out 5, and the ripple plays mostly while the camera still moves.
LEAD_S, ZOOM_S, RIPPLE_S = 0.16, 0.36, 0.24
ARRIVE = 0.7  # the cursor reaches the target (and clicks) at this share of the zoom
PRESSED_FRAMES = 3


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def box(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.x + self.w, self.y + self.h


@dataclass(frozen=True)
class Shot:
    rung: int  # which zoom step: 0 = the whole picture, len(ladder) - 1 = on the target
    cursor: float | None  # cursor travel from its start (0) to the target (1); None: no cursor
    ripple: int | None  # index of the click ripple's picture
    pressed: bool  # the cursor is pressed (drawn smaller)
    hold: int  # frames this picture stays on screen


@dataclass(frozen=True)
class Timeline:
    ladder: tuple[float, ...]  # zoom progress of each rung, 0 (whole picture) .. 1 (on target)
    shots: tuple[Shot, ...]

    @property
    def frames(self) -> int:
        return sum(s.hold for s in self.shots)


def ease(t: float) -> float:
    """Smooth start and stop."""
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def still(frames: int, cursor: float | None = None) -> Timeline:
    return Timeline((0.0,), (Shot(0, cursor, None, False, frames),))


def step_timeline(frames: int, fps: int, has_target: bool, action: str | None) -> Timeline:
    """The shots of a step segment of `frames` frames."""
    if not has_target:
        return still(frames)
    lead, zoom = max(1, round(LEAD_S * fps)), max(1, round(ZOOM_S * fps))
    ripple = round(RIPPLE_S * fps) if action in CLICK_ACTIONS else 0
    need = lead + zoom + zoom // 2 + ripple // 2 + 2
    if frames < need:
        k = frames / need
        lead, zoom, ripple = max(1, int(lead * k)), int(zoom * k), int(ripple * k)
    arrive = max(1, round(zoom * ARRIVE))
    back = list(range(zoom - 2, 0, -2))  # zoom out over every other rung
    after = max(0, ripple - (zoom - arrive))  # ripple pictures left when the camera has settled
    if zoom < 4 or lead + zoom + after + len(back) + 1 > frames:
        return still(frames, cursor=1.0)
    ladder = tuple(ease(i / zoom) for i in range(zoom + 1))

    def click(r: int) -> tuple[int | None, bool]:
        return (r, r < PRESSED_FRAMES) if 0 <= r < ripple else (None, False)

    shots = [Shot(0, 0.0, None, False, lead)]
    shots += [Shot(i, ease(i / arrive), *click(i - arrive - 1), 1) for i in range(1, zoom + 1)]
    shots += [Shot(zoom, 1.0, *click(r), 1) for r in range(ripple - after, ripple)]
    hold = frames - (lead + zoom + after + len(back) + 1)
    if hold > 0:
        shots.append(Shot(zoom, 1.0, None, False, hold))
    shots += [Shot(i, 1.0, None, False, 1) for i in back]
    shots.append(Shot(0, 1.0, None, False, 1))
    return Timeline(ladder, tuple(shots))


def target_view(stage: tuple[int, int], target: Rect) -> Rect:
    """The camera rectangle (stage pixels, the frame's aspect) that frames `target` comfortably."""
    sw, sh = stage
    z = min(ZOOM_MAX, FILL[0] * sw / max(target.w, 1.0), FILL[1] * sh / max(target.h, 1.0))
    z = max(1.0, z)
    w, h = sw / z, sh / z
    cx, cy = target.centre
    return Rect(min(max(cx - w / 2, 0.0), sw - w), min(max(cy - h / 2, 0.0), sh - h), w, h)


def between(a: Rect, b: Rect, t: float) -> Rect:
    return Rect(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.w + (b.w - a.w) * t, a.h + (b.h - a.h) * t)


def to_frame(point: tuple[float, float], view: Rect, size: tuple[int, int]) -> tuple[float, float]:
    """A stage point in output-frame pixels when the camera shows `view`."""
    return (point[0] - view.x) * size[0] / view.w, (point[1] - view.y) * size[1] / view.h
