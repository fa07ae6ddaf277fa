"""Render benchmark: a 20-step guide (synthetic screenshots, the silent voice for both) rendered in one run
by a naive moviepy baseline (ImageClip per segment with its audio, concatenate_videoclips,
write_videofile) and by guidecast (zoom, cursor, captions, chapters); then the time to re-render after one
step's text changed, and the peak memory of a 100-step render.

    .venv/bin/python bench/render/run.py [--steps 20] [--big 100] [--runs 3]

Realtime factor = video seconds / wall seconds. Goals on 2 cores: guidecast >= 20x realtime and >= 5x the
baseline; one-step re-render <= 2 s; 100-step peak RSS (this render's process tree) <= 500 MiB.
Last line: {"realtime_factor": ..., "baseline_realtime_factor": ..., "speedup_vs_baseline": ...,
"one_step_rerender_s": ..., "peak_rss_mib_100_steps": ...}
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from guidecast.composer.guide import load_guide, save_guide  # noqa: E402
from guidecast.narration.narrate import RenderReport, narrate_guide  # noqa: E402
from guidecast.samples.synthetic_guide import make_guide  # noqa: E402

EDITED = "In **Amount**, enter the total of the receipt including tax, as one number."


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def guidecast_render(guide: Path, root: Path) -> tuple[float, float, float]:
    """Cold caches: (video seconds, wall seconds, cpu seconds)."""
    shutil.rmtree(root, ignore_errors=True)
    c, t = cpu_seconds(), time.perf_counter()
    m = narrate_guide(guide, root / "video", engine="silent", cache_dir=root / "cache")
    return m.duration, time.perf_counter() - t, cpu_seconds() - c


def baseline_render(guide: Path, speech_dir: Path, root: Path) -> tuple[float, float, float]:
    """The naive way: one still ImageClip per segment with its speech, joined and encoded by moviepy."""
    import numpy as np
    from moviepy import AudioFileClip, ImageClip, concatenate_videoclips

    from guidecast.narration.frames import card, screenshot_frame
    from guidecast.narration.manifest import RenderSettings
    from guidecast.narration.script import build_script
    from guidecast.narration.tts import SilentEngine, SpeechCache

    s = RenderSettings()
    g = load_guide(guide)
    speech = SpeechCache(speech_dir, SilentEngine(), None, 165)
    items = [(it, speech.synthesize(it.text)) for it in build_script(g)]  # the same clips guidecast voices
    root.mkdir(parents=True, exist_ok=True)
    c, t = cpu_seconds(), time.perf_counter()
    clips = []
    for it, sp in items:
        if it.kind == "step":
            picture = screenshot_frame(guide / it.image, s.width, s.height)
        else:
            picture = card(g.title if it.kind == "intro" else "You're done", it.caption[:80], s.width, s.height)
        audio = AudioFileClip(str(sp.path))
        clips.append(ImageClip(np.asarray(picture)).with_duration(sp.duration + s.pause).with_audio(audio))
    video = concatenate_videoclips(clips)
    video.write_videofile(str(root / "baseline.mp4"), fps=s.fps, codec="libx264", audio_codec="aac", logger=None)
    duration = video.duration
    video.close()
    for cl in clips:
        cl.close()
    return duration, time.perf_counter() - t, cpu_seconds() - c


def rerender_one_step(guide: Path, root: Path) -> tuple[float, RenderReport]:
    narrate_guide(guide, root / "video", engine="silent", cache_dir=root / "cache")  # current
    g = load_guide(guide)
    g.steps[len(g.steps) // 2].text = EDITED
    save_guide(g, guide)
    report = RenderReport()
    t = time.perf_counter()
    narrate_guide(guide, root / "video", engine="silent", cache_dir=root / "cache", report=report)
    return time.perf_counter() - t, report


def peak_rss_of_render(guide: Path, root: Path) -> tuple[float, float]:
    """Render in a fresh process; sample the RSS of it and its children (ffmpeg) every 20 ms.
    Returns (peak MiB of the process tree, wall seconds)."""
    import psutil

    code = ("import sys; sys.path.insert(0, sys.argv[3]); from narration.narrate import narrate_guide; "
            "narrate_guide(sys.argv[1], sys.argv[2] + '/video', engine='silent', cache_dir=sys.argv[2] + '/cache')")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(guide), str(root), str(REPO)])
    peak, ps = 0, psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [ps] + ps.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    if proc.returncode != 0:
        raise SystemExit(f"the {guide.name} render failed")
    return peak / 2**20, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--big", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3, help="guidecast renders (the median counts)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gc-bench-render-") as tmp:
        tmp = Path(tmp)
        guide = make_guide(tmp / "guide", steps=args.steps)
        print(f"{args.steps}-step guide, silent voice, 1280x720 @25 fps, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)

        b_video, b_wall, b_cpu = baseline_render(guide, tmp / "speech", tmp / "baseline")
        b_rtf = b_video / b_wall
        print(f"baseline (moviepy): {b_video:.1f} s of video in {b_wall:.2f} s = {b_rtf:.1f}x realtime "
              f"(cpu {b_cpu:.1f} s)", flush=True)

        runs = [guidecast_render(guide, tmp / f"gc{i}") for i in range(args.runs)]
        g_video = runs[0][0]
        g_wall = statistics.median(r[1] for r in runs)
        g_cpu = statistics.median(r[2] for r in runs)
        rtf = g_video / g_wall
        print(f"guidecast: {g_video:.1f} s of video in {g_wall:.2f} s = {rtf:.1f}x realtime (cpu {g_cpu:.1f} s; "
              f"runs {', '.join(f'{r[1]:.2f}' for r in runs)} s)", flush=True)
        # the CPU ratio is less sensitive to other load on the machine than the wall-clock ratio (the goal)
        print(f"speedup vs baseline: {rtf / b_rtf:.1f}x (CPU seconds per video second: "
              f"{(b_cpu / b_video) / (g_cpu / g_video):.1f}x fewer)", flush=True)

        rerender, report = rerender_one_step(guide, tmp / "gc0")
        print(f"one step's text changed: re-rendered in {rerender:.2f} s (voiced {report.voiced}, rendered "
              f"{report.rendered}, reused {len(report.reused)} segments)", flush=True)

        big = make_guide(tmp / "big-guide", steps=args.big)
        rss, big_wall = peak_rss_of_render(big, tmp / "big")
        big_video = json.loads((tmp / "big" / "video" / "video.json").read_text())["duration"]
        print(f"{args.big}-step guide: {big_video:.1f} s of video in {big_wall:.2f} s "
              f"({big_video / big_wall:.1f}x realtime), peak RSS {rss:.0f} MiB (process tree)", flush=True)

    print(json.dumps({"realtime_factor": round(rtf, 2), "baseline_realtime_factor": round(b_rtf, 2),
                      "speedup_vs_baseline": round(rtf / b_rtf, 2), "one_step_rerender_s": round(rerender, 3),
                      "peak_rss_mib_100_steps": round(rss, 1)}))


if __name__ == "__main__":
    main()
