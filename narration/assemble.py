"""The narration track and the final MP4: segments joined without re-encoding, AAC audio, soft
subtitles (mov_text), chapters, index up front (faststart)."""
from __future__ import annotations

import wave
from pathlib import Path

from guidecast.narration.media import FFmpeg, encoder, run_ffmpeg
from guidecast.narration.tts import SAMPLE_RATE

# Speech is 24 kHz mono: AAC at its own rate and channel count costs a quarter of 48 kHz stereo.
AAC = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-ar", str(SAMPLE_RATE), "-ac", "1"]


def frame_count(seconds: float, fps: int) -> int:
    return max(1, round(seconds * fps))


def write_audio_track(parts: list[tuple[Path, int]], fps: int, out: Path) -> None:
    """Concatenate speech clips, each cut or padded with silence to exactly its segment's frame count."""
    per_frame = SAMPLE_RATE // fps
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(SAMPLE_RATE)
        for path, frames in parts:
            want = frames * per_frame
            with wave.open(str(path), "rb") as src:
                data = src.readframes(min(src.getnframes(), want))
            dst.writeframes(data + b"\0\0" * (want - len(data) // 2))


def start_audio_encode(track: Path, out: Path) -> FFmpeg:
    """Encode the narration track to AAC in the background (it runs while the segments render)."""
    return FFmpeg(["-i", str(track), *AAC, "-f", "mp4", str(out)], "encoding the narration audio", binary=encoder())


def assemble(segments: list[Path], audio: Path, subtitles: Path, metadata: Path, out: Path, work: Path) -> None:
    """One pass: join the segments and copy the audio, add subtitles and chapters, faststart."""
    listing = work / "segments.txt"
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in segments))
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio), "-i", str(subtitles),
         "-f", "ffmetadata", "-i", str(metadata),
         "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_metadata", "3", "-map_chapters", "3",
         "-c:v", "copy", "-c:a", "copy", "-c:s", "mov_text",
         "-metadata:s:s:0", "language=eng", "-metadata:s:a:0", "language=eng",
         "-movflags", "+faststart", str(out)],
        "joining the video", encoder(),
    )
