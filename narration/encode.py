"""Video segments encoded by ffmpeg (libx264) from pictures piped in as raw yuv420p.

Each distinct picture is sent once with how many frames it stays on screen; the timestamps carry the
hold (a picture held for 3 s is one frame lasting 3 s), so a still costs one frame to encode, not 75.
Several segments go through one ffmpeg (its start-up costs as much as encoding a dozen frames) and
its segment muxer cuts them apart at forced IDR frames, one MP4 each. Every segment has the same codec
parameters, time base and colour tags, starts on a key frame and ends exactly on its frame count, so
segments join without re-encoding.
"""
from __future__ import annotations

import csv
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from guidecast.kernel.files import scratch_prefix
from guidecast.narration.manifest import RenderSettings
from guidecast.narration.media import FFmpeg, MediaError
from guidecast.narration.planes import Planes

# The pictures' colour tags go on the input: given as output options, ffmpeg (7 and later) inserts a
# colour conversion that runs swscale over every frame (as much CPU as x264 itself) and shifts the colours.
COLOUR = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "20", "-bf", "0", "-threads", "1",
        "-x264-params", "chroma-me=0:forced-idr=1"]


class Cancelled(Exception):
    """Another segment failed or the run was interrupted: stop early."""


@dataclass
class Job:
    """One segment to encode: its pictures (one per hold), the holds in frames, and where it goes."""

    pictures: Iterable[Planes]
    holds: list[int]
    out: Path


def timestamps_expr(holds: list[int]) -> str:
    """A setpts expression placing picture N at the sum of the holds before it (in frames)."""
    terms = "".join(f"+gt(N\\,{i})*{h - 1}" for i, h in enumerate(holds) if h > 1)
    return f"(N{terms})/(FR*TB)"


def _with_end_marker(holds: list[int]) -> list[int]:
    """A held last picture is sent again one frame before the end, so the segment lasts exactly."""
    return holds if holds[-1] == 1 else holds[:-1] + [holds[-1] - 1, 1]


def encode_segments(jobs: list[Job], settings: RenderSettings, binary: str,
                    cancel: threading.Event | None = None) -> None:
    """Encode every job into its MP4 with one ffmpeg; each file appears (atomically) as soon as it is done."""
    sent = [_with_end_marker(j.holds) for j in jobs]
    starts = [sum(len(h) for h in sent[:k]) for k in range(len(jobs))]
    scratch = jobs[0].out.parent / f"{scratch_prefix('batch')}{threading.get_ident()}"
    scratch.mkdir(parents=True, exist_ok=True)
    listing = scratch / "done.csv"
    cut = []
    if len(jobs) > 1:
        cut = ["-force_key_frames", "expr:" + "+".join(f"eq(n,{s})" for s in starts[1:]),
               "-segment_frames", ",".join(map(str, starts[1:]))]
    ff = FFmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{settings.width}x{settings.height}",
                 "-framerate", str(settings.fps), *COLOUR, "-i", "-",
                 "-vf", f"setpts={timestamps_expr([h for s in sent for h in s])}", "-fps_mode", "passthrough",
                 *X264, *cut, "-an", "-f", "segment", "-segment_format", "mp4", "-reset_timestamps", "1",
                 "-segment_format_options", f"video_track_timescale={settings.fps * 512}",
                 "-segment_list", str(listing), "-segment_list_type", "csv", str(scratch / "%05d.mp4")],
                "encoding video segments", feed=True, binary=binary)
    promoted: set[int] = set()
    try:
        for k, job in enumerate(jobs):
            last = None
            for pic in _exactly(job.pictures, len(job.holds)):
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                last = pic.chunks()
                ff.write(*last)
            if len(sent[k]) > len(job.holds):
                ff.write(*last)
            _promote(jobs, scratch, listing, promoted)
        ff.wait()
        _promote(jobs, scratch, listing, promoted)
        if len(promoted) != len(jobs):
            raise MediaError(f"ffmpeg wrote {len(promoted)} of {len(jobs)} video segments")
    except BaseException:
        ff.kill()
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _promote(jobs: list[Job], scratch: Path, listing: Path, promoted: set[int]) -> None:
    """Move the segments ffmpeg has finished (listed in `listing`) to their places in the cache."""
    try:
        with open(listing, newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        return
    for row in rows:
        if not row or not row[0].endswith(".mp4"):
            continue
        k = int(row[0].split(".")[0])
        if k not in promoted and k < len(jobs):
            os.replace(scratch / row[0], jobs[k].out)
            promoted.add(k)


def _exactly(pictures: Iterable[Planes], n: int) -> Iterator[Planes]:
    count = 0
    for p in pictures:
        count += 1
        yield p
    if count != n:
        raise MediaError(f"internal error: {count} pictures for {n} holds")
