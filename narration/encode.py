"""One video segment encoded by ffmpeg (libx264) from pictures piped in as raw yuv420p.

Each distinct picture is sent once with how many frames it stays on screen; the timestamps carry the
hold (a picture held for 3 s is one frame lasting 3 s), so a still costs one frame to encode, not 75.
Every segment has the same codec parameters, time base and colour tags, starts on a key frame and ends
exactly on its frame count, so segments join without re-encoding.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Iterator

from narration.manifest import RenderSettings
from narration.media import FFmpeg, MediaError
from narration.planes import Planes
from narration.scratch import scratch_prefix

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "20", "-bf", "0", "-threads", "1", "-x264-params", "chroma-me=0",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


class Cancelled(Exception):
    """Another segment failed or the run was interrupted: stop early."""


def timestamps_expr(holds: list[int]) -> str:
    """A setpts expression placing picture N at the sum of the holds before it (in frames)."""
    terms = "".join(f"+gt(N\\,{i})*{h - 1}" for i, h in enumerate(holds) if h > 1)
    return f"(N{terms})/(FR*TB)"


def _with_end_marker(holds: list[int]) -> list[int]:
    """A held last picture is sent again one frame before the end, so the segment lasts exactly."""
    return holds if holds[-1] == 1 else holds[:-1] + [holds[-1] - 1, 1]


def encode_segment(pictures: Iterable[Planes], holds: list[int], settings: RenderSettings, out: Path,
                   cancel: threading.Event | None = None, binary: str | None = None) -> None:
    """Encode `pictures` (one per entry of `holds`) into the MP4 `out`, written atomically."""
    sent = _with_end_marker(holds)
    tmp = out.with_name(f"{scratch_prefix('segment')}{threading.get_ident()}.{out.name}")
    ff = FFmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{settings.width}x{settings.height}",
                 "-framerate", str(settings.fps), "-i", "-", "-vf", f"setpts={timestamps_expr(sent)}",
                 "-fps_mode", "passthrough", *X264, "-video_track_timescale", str(settings.fps * 512),
                 "-an", "-f", "mp4", str(tmp)], "encoding a video segment", feed=True, binary=binary)
    try:
        last = None
        for pic in _exactly(pictures, len(holds)):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            last = pic.chunks()
            ff.write(*last)
        if len(sent) > len(holds):
            ff.write(*last)
        ff.wait()
        os.replace(tmp, out)
    except BaseException:
        ff.kill()
        tmp.unlink(missing_ok=True)
        raise


def _exactly(pictures: Iterable[Planes], n: int) -> Iterator[Planes]:
    count = 0
    for p in pictures:
        count += 1
        yield p
    if count != n:
        raise MediaError(f"internal error: {count} pictures for {n} holds")
