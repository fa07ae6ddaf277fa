"""Video segments (one still + exact frame count, cached by content hash) and the final MP4 assembly."""
from __future__ import annotations

import tempfile
import wave
from pathlib import Path

from capture.files import sha256_bytes
from narration.manifest import RenderSettings
from narration.media import run_ffmpeg
from narration.tts import SAMPLE_RATE

RENDERER_VERSION = "gc-video-1"


def frame_count(seconds: float, fps: int) -> int:
    return max(1, round(seconds * fps))


def segment_key(frame_png: bytes, frames: int, settings: RenderSettings) -> str:
    return sha256_bytes(
        frame_png + f"\0{frames}\0{settings.width}x{settings.height}@{settings.fps}\0{RENDERER_VERSION}".encode()
    )[:32]


def render_segment(frame_png: bytes, frames: int, settings: RenderSettings, cache: Path) -> tuple[Path, str]:
    """The H.264 segment for a still frame shown for `frames` frames; reused when already rendered."""
    key = segment_key(frame_png, frames, settings)
    out = Path(cache) / f"{key}.mp4"
    if out.exists():
        return out, key
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        frame = Path(tmp) / "frame.png"
        frame.write_bytes(frame_png)
        part = Path(tmp) / "segment.mp4"
        run_ffmpeg(
            ["-loop", "1", "-framerate", str(settings.fps), "-i", str(frame), "-frames:v", str(frames),
             "-vf", f"scale={settings.width}:{settings.height},format=yuv420p",
             "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "20",
             "-g", str(settings.fps * 2), "-video_track_timescale", str(settings.fps * 512), "-an", str(part)],
            "rendering a video segment",
        )
        part.replace(out)
    return out, key


def write_audio_track(parts: list[tuple[Path, int]], settings: RenderSettings, out: Path) -> None:
    """Concatenate speech files, each padded with silence to exactly its segment's frame count."""
    per_frame = SAMPLE_RATE // settings.fps
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(SAMPLE_RATE)
        for path, frames in parts:
            want = frames * per_frame
            with wave.open(str(path), "rb") as src:
                data = src.readframes(min(src.getnframes(), want))
            dst.writeframes(data + b"\0\0" * (want - len(data) // 2))


def assemble(segments: list[Path], audio: Path, subtitles: Path, metadata: Path, out: Path, work: Path) -> None:
    """Join segments without re-encoding them, add AAC audio (loudness-normalised), soft subtitles and
    chapters, with the index up front (faststart)."""
    listing = work / "segments.txt"
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in segments))
    joined = work / "video-only.mp4"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(joined)], "joining segments")
    run_ffmpeg(
        ["-i", str(joined), "-i", str(audio), "-i", str(subtitles), "-f", "ffmetadata", "-i", str(metadata),
         "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_metadata", "3", "-map_chapters", "3",
         "-c:v", "copy", "-af", "loudnorm=I=-16:TP=-1.5:LRA=11,aresample=48000",
         "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-c:s", "mov_text",
         "-metadata:s:s:0", "language=eng", "-metadata:s:a:0", "language=eng",
         "-movflags", "+faststart", str(out)],
        "muxing the final video",
    )
