"""End-to-end benchmark: the sample workflow (11 steps, the sample app Expensely) from replay to finished
video, once narrated by espeak-ng and once by the neural voice, in one run; then each engine's TTS alone.

    .venv/bin/python bench/pipeline/run.py

Each build is `guidecast build` (core.build) into a fresh folder with a fresh cache: replay in Chromium,
compose, narrate (voice every clip, render every segment, join). Printed: wall seconds per stage and in
all, and each engine's TTS realtime factor: seconds of speech per wall second to voice every clip of the
guide's script into an empty cache, nothing else running (for the neural voice the model load is included:
it happens once per render), and the CPU seconds that took (on a shared machine the wall figures depend on
the others' load; speech per CPU second does much less). Last line:

    {"neural_tts_realtime": ..., "espeak_tts_realtime": ..., "build_s_neural": ..., "build_s_espeak": ...}

Goals on 2 cores: neural TTS >= 10x realtime; the build with the neural voice <= 30 s.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")

ENGINES = {"espeak": "pyttsx3", "neural": "piper"}


class TimedStages:
    """`Stages` that remember each stage's wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str, weight: float = 1.0, /) -> Iterator:
        t0 = time.perf_counter()
        try:
            yield lambda *_: None
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def build_once(engine: str, workflow: Path, out: Path, base_url: str) -> tuple[float, dict[str, float], object]:
    from guidecast.core.build import CaptureOptions, NarrateOptions, build

    stages = TimedStages()
    t0 = time.perf_counter()
    result = build(workflow, out, capture=CaptureOptions(base_url=base_url), narrate=NarrateOptions(engine=engine),
                   stages=stages)
    return time.perf_counter() - t0, stages.seconds, result.render


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the neural voice's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tts_alone(engine: str, guide_dir: Path, cache: Path) -> tuple[float, float, float, float, float]:
    """(realtime factor, seconds of speech, wall seconds, CPU seconds, of the wall seconds those spent loading
    the model) voicing the guide's whole script into `cache`."""
    from guidecast.composer.guide import load_guide
    from guidecast.narration.script import build_script
    from guidecast.narration.tts import SpeechCache, make_engine

    texts = [it.text for it in build_script(load_guide(guide_dir))]
    c0, t0 = cpu_seconds(), time.perf_counter()
    eng = make_engine(engine)
    voice = eng.resolve_voice(None)
    load = getattr(eng, "load", None)
    if load is not None:
        load(voice)  # the workers start and load the model: timed apart as well
    loaded = time.perf_counter() - t0
    speech = SpeechCache(cache, eng, voice, 165)
    speech.prefetch(texts)
    total = sum(speech.synthesize(t).duration for t in texts)
    speech.close()
    wall = time.perf_counter() - t0
    getattr(eng, "close", lambda: None)()  # the workers end: their CPU time is counted
    return total / wall, total, wall, cpu_seconds() - c0, loaded


def main() -> int:
    from guidecast.narration import voice_piper
    from guidecast.samples import WORKFLOWS_DIR
    from guidecast.samples.expense_app import start_sample_app

    if not (voice_piper.installed() and voice_piper.find_voices()):
        print(f"the neural voice is not installed: {voice_piper.INSTALL_HINT} (or `make setup`)", file=sys.stderr)
        return 2
    workflow = WORKFLOWS_DIR / "submit-expense.yaml"
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    print(f"pipeline benchmark: {workflow.name}, {cores} cores, load average {load:.1f} at the start")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="guidecast-bench-pipeline-") as tmp, start_sample_app("base") as app:
        root = Path(tmp)
        for label, engine in ENGINES.items():
            wall, stages, report = build_once(engine, workflow, root / label, app.url)
            results[label] = {"build_s": wall, "stages": stages, "voiced_s": report.voiced_s,
                              "voicing_s": report.voicing_s, "segments": len(report.rendered)}
        guide = root / "neural" / "guide"
        steps = len(json.loads((guide / "guide.json").read_text())["steps"])
        for label, engine in ENGINES.items():
            rt, speech, wall, cpu, loaded = tts_alone(engine, guide, root / f"tts-{label}")
            results[label].update(tts_realtime=rt, tts_speech_s=speech, tts_wall_s=wall, tts_cpu_s=cpu,
                                  tts_load_s=loaded)
    print(f"{steps} steps; wall seconds per stage (fresh build folder and cache each):")
    print(f"  {'voice':<8} {'capture':>8} {'compose':>8} {'narrate':>8} {'build':>8}   tts alone")
    for label, r in results.items():
        s = r["stages"]
        print(f"  {label:<8} {s.get('capture', 0):8.2f} {s.get('compose', 0):8.2f} {s.get('narrate', 0):8.2f} "
              f"{r['build_s']:8.2f}   {r['tts_speech_s']:.1f} s of speech in {r['tts_wall_s']:.2f} s = "
              f"{r['tts_realtime']:.1f}x realtime")
    for label, r in results.items():
        warm = r["tts_speech_s"] / max(1e-9, r["tts_wall_s"] - r["tts_load_s"])
        print(f"  {label}: TTS loading took {r['tts_load_s']:.2f} s; with the model loaded (as in a build, where it "
              f"loads during the replay) {warm:.1f}x realtime")
        print(f"  {label}: TTS used {r['tts_cpu_s']:.2f} CPU seconds: {r['tts_speech_s'] / r['tts_cpu_s']:.1f} s of "
              "speech per CPU second (what the wall figures would be on one idle core)")
    for label, r in results.items():
        print(f"  {label}: in the build, {r['voiced_s']:.1f} s of speech voiced by {r['voicing_s']:.2f} s into the "
              f"narrate stage, {r['segments']} segments rendered")
    neural, espeak = results["neural"], results["espeak"]
    print(f"goals (2 cores): neural TTS >= 10x realtime: {neural['tts_realtime']:.1f}x; neural build <= 30 s: "
          f"{neural['build_s']:.1f} s (load average {os.getloadavg()[0]:.1f} at the end)")
    print(json.dumps({"neural_tts_realtime": round(neural["tts_realtime"], 2),
                      "espeak_tts_realtime": round(espeak["tts_realtime"], 2),
                      "build_s_neural": round(neural["build_s"], 2), "build_s_espeak": round(espeak["build_s"], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
