"""Video segments: what each depends on (its key), and how it is drawn and encoded.

A step segment shows the annotated screenshot, zooms toward the target and back while an animated
cursor travels to it and clicks; intro and outro are title cards. Segments are cached under a hash of
everything that changes their pixels, so unchanged steps are never rendered twice.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import sha256_bytes
from guidecast.narration import motion
from guidecast.narration.encode import COLOUR, X264, Job, encode_segments
from guidecast.narration.frames import card
from guidecast.narration.manifest import RenderSettings
from guidecast.narration.planes import Planes, planes_of
from guidecast.narration.stage import Stage

RENDERER_VERSION = "gc-video-6"
PICTURE_BLOCKS = 16  # freed image blocks Pillow keeps for reuse while rendering


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
    deps.update(size=[settings.width, settings.height], fps=settings.fps, renderer=RENDERER_VERSION,
                x264=X264 + COLOUR, encoder=f"{os.path.basename(binary)}:{os.stat(binary).st_size}")
    return sha256_bytes(json.dumps(deps, sort_keys=True).encode())[:32]


def render_segments(work: list[tuple[SegmentSpec, Path]], settings: RenderSettings, binary: str,
                    cancel: threading.Event | None = None) -> None:
    """Draw and encode segments (with one encoder) into their files. Pictures are drawn lazily, as the
    encoder asks for them, so that decoding a screenshot overlaps encoding the previous segment."""
    encode_segments([_job(spec, out, settings) for spec, out in work], settings, binary, cancel)


_memory_lock = threading.Lock()
_memory_users = [0, 0]  # renders running, Pillow's setting before the first


@contextmanager
def pictures_memory(blocks: int = PICTURE_BLOCKS) -> Iterator[None]:
    """While rendering, Pillow keeps freed image memory for the next picture (its default returns every block
    to the system, and each new 720p picture then faults in 350 fresh pages); afterwards its setting (and so
    what a long-running process holds on to) is what it was."""
    with _memory_lock:
        if _memory_users[0] == 0:
            _memory_users[1] = Image.core.get_blocks_max()
            Image.core.set_blocks_max(max(blocks, _memory_users[1]))
        _memory_users[0] += 1
    try:
        yield
    finally:
        with _memory_lock:
            _memory_users[0] -= 1
            if _memory_users[0] == 0:
                Image.core.set_blocks_max(_memory_users[1])  # frees the blocks kept beyond it


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
    if spec.image is None:
        raise SegmentError(f"{spec.where}: the segment has no screenshot; compose the guide again")
    path = Path(spec.image)
    if not path.exists():
        raise SegmentError(f"{path}: screenshot of {spec.where} is missing; compose the guide again")
    try:
        with Image.open(path) as im:
            im.load()
            return im if im.mode == "RGB" else im.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise SegmentError(f"{path}: screenshot of {spec.where} cannot be read ({e}); compose the guide "
                           "again") from None


def card_picture(spec: SegmentSpec, settings: RenderSettings) -> Image.Image:
    bg = open_picture(spec) if spec.image else None
    return card(spec.title or "", spec.subtitle or "", settings.width, settings.height, background=bg)
