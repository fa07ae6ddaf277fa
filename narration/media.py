"""Thin, checked wrappers around ffmpeg and ffprobe."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from guidecast.kernel.errors import GuidecastError


class MediaError(GuidecastError):
    """ffmpeg is missing or failed."""


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MediaError(f"{name} not found: install it with `apt-get install ffmpeg` (or run `make setup`)")
    return found


def encoder() -> str:
    """The ffmpeg that encodes segments: $GUIDECAST_FFMPEG, else the static build that moviepy installs
    (imageio-ffmpeg: it starts in 15 ms where Debian's, linked against ~200 libraries, takes 75 ms, and
    a render starts one per segment), else the system's ffmpeg."""
    chosen = os.environ.get("GUIDECAST_FFMPEG")
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise MediaError(f"GUIDECAST_FFMPEG={chosen}: not an executable; unset it to use the default")
        return chosen
    return _bundled() or tool("ffmpeg")


@lru_cache(maxsize=1)
def _bundled() -> str | None:
    try:
        from imageio_ffmpeg import get_ffmpeg_exe

        exe = get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - not installed or no binary for this platform: use the system's
        return None
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


def _cmd(args: list[str], binary: str | None = None) -> list[str]:
    return [binary or tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y", *args]


def _failed(what: str, stderr: str) -> MediaError:
    tail = (stderr.strip().splitlines() or ["no output"])[-1]
    return MediaError(f"ffmpeg failed while {what}: {tail}")


def run_ffmpeg(args: list[str], what: str, binary: str | None = None) -> None:
    proc = subprocess.run(_cmd(["-nostdin", *args], binary), capture_output=True, text=True)
    if proc.returncode != 0:
        raise _failed(what, proc.stderr)


PIPE_BYTES = 1 << 20  # a fed ffmpeg's pipe holds most of a 720p picture: a tenth of the wake-ups of 64 KiB
# glibc's malloc in ffmpeg: keep freed picture-sized buffers for the next picture instead of handing them back
# to the kernel and faulting fresh zeroed pages in for every frame
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


class FFmpeg:
    """ffmpeg running in the background, optionally fed through its standard input."""

    def __init__(self, args: list[str], what: str, feed: bool = False, binary: str | None = None):
        self.what = what
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(_cmd(args if feed else ["-nostdin", *args], binary), stderr=self._err,
                                     stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                                     env={**os.environ, **MALLOC_ENV} if feed else None)
        resize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux
        if feed and PIPE_BYTES and resize is not None:
            try:
                fcntl.fcntl(self.proc.stdin.fileno(), resize, PIPE_BYTES)
            except OSError:  # a lower limit (/proc/sys/fs/pipe-max-size): the default size works too
                pass

    def write(self, *chunks: bytes) -> None:
        try:
            for c in chunks:
                self.proc.stdin.write(c)
        except (BrokenPipeError, ValueError):
            self.wait()  # raises with ffmpeg's own message
            raise MediaError(f"ffmpeg stopped reading while {self.what}") from None

    def wait(self) -> None:
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        code = self.proc.wait()
        self._err.seek(0)
        err = self._err.read().decode("utf-8", "replace")
        self._err.close()
        if code != 0:
            raise _failed(self.what, err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not self._err.closed:
            self._err.close()


def probe(path: Path) -> dict:
    cmd = [tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
           "-show_chapters", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MediaError(f"{path}: not a readable media file ({proc.stderr.strip()[:200]})")
    return json.loads(proc.stdout)
