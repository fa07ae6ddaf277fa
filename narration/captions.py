"""Captions (WebVTT, SRT) and chapters (WebVTT, ffmetadata) from segment timings."""
from __future__ import annotations

from guidecast.narration.manifest import Segment


def _ts(t: float, sep: str) -> str:
    ms = round(t * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def webvtt(cues: list[tuple[float, float, str]]) -> str:
    out = ["WEBVTT", ""]
    for i, (a, b, text) in enumerate(cues, 1):
        out += [str(i), f"{_ts(a, '.')} --> {_ts(b, '.')}", text.replace("-->", "->"), ""]
    return "\n".join(out)


def srt(cues: list[tuple[float, float, str]]) -> str:
    out = []
    for i, (a, b, text) in enumerate(cues, 1):
        out += [str(i), f"{_ts(a, ',')} --> {_ts(b, ',')}", text, ""]
    return "\n".join(out)


def caption_cues(segments: list[Segment], captions: dict[str, str]) -> list[tuple[float, float, str]]:
    return [(s.start, s.start + s.duration, captions[s.id]) for s in segments]


def ffmetadata(title: str, chapters: list[tuple[float, float, str]]) -> str:
    def esc(s: str) -> str:
        for ch in ("\\", "=", ";", "#", "\n"):
            s = s.replace(ch, "\\" + ch)
        return s

    out = [";FFMETADATA1", f"title={esc(title)}", ""]
    for a, b, name in chapters:
        out += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(a * 1000)}", f"END={round(b * 1000)}", f"title={esc(name)}", ""]
    return "\n".join(out)
