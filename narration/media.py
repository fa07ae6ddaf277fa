"""Thin, checked wrappers around ffmpeg and ffprobe."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from capture.errors import GuidecastError


class MediaError(GuidecastError):
    """ffmpeg is missing or failed."""


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MediaError(f"{name} not found: install it with `apt-get install ffmpeg` (or run `make setup`)")
    return found


def run_ffmpeg(args: list[str], what: str) -> None:
    cmd = [tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise MediaError(f"ffmpeg failed while {what}: {tail}")


def probe(path: Path) -> dict:
    cmd = [tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
           "-show_chapters", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MediaError(f"{path}: not a readable media file ({proc.stderr.strip()[:200]})")
    return json.loads(proc.stdout)
