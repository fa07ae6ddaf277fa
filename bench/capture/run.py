"""Capture benchmark: per-step cost of `capture_workflow` against a bare Playwright action + screenshot
on the same page in the same run, and peak memory (RSS of this process and the browser's) of a
100-step capture.

    .venv/bin/python bench/capture/run.py [--steps 100]

Last line: {"capture_overhead_ratio": ..., "peak_rss_mib_100_steps": ...}  (goal: ratio <= 1.2, issue 11)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")

CATEGORIES = ["Travel", "Meals", "Office supplies", "Software"]
LOGIN = 3  # steps before the repeated ones: email, password, sign in; then one goto


def repeated_actions(n: int) -> list[dict]:
    """`n` steps on the New expense page: tick/untick, type into fields, pick categories."""
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            out.append({"action": "check", "target": {"label": "Billable to client"}})
        elif k == 1:
            out.append({"action": "fill", "target": {"label": "Description"}, "value": f"Taxi to client site {i}"})
        elif k == 2:
            out.append({"action": "select", "target": {"label": "Category"}, "value": CATEGORIES[i % 4]})
        elif k == 3:
            out.append({"action": "uncheck", "target": {"label": "Billable to client"}})
        else:
            out.append({"action": "fill", "target": {"label": "Notes"}, "value": f"Receipt {i} attached"})
    return out


def workflow_yaml(total: int) -> str:
    import yaml

    steps = [
        {"action": "fill", "target": {"label": "Email"}, "value": "alex.morgan@example.com"},
        {"action": "fill", "target": {"label": "Password"}, "secret": "password"},
        {"action": "click", "target": {"role": "button", "name": "Sign in"}},
        {"action": "goto", "url": "/expenses/new"},
    ] + repeated_actions(total - LOGIN - 1)
    return yaml.safe_dump({"title": "Benchmark", "start_url": "/login",
                           "secrets": {"password": "EXPENSELY_PASSWORD"}, "steps": steps}, sort_keys=False)


def baseline(app_url: str, actions: list[dict]) -> list[float]:
    """Per-step ms of a bare Playwright action + screenshot, same page, same actions."""
    from guidecast.capture.browser import launch_browser

    times = []
    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(app_url + "/login")
        page.get_by_label("Email").fill("alex.morgan@example.com")
        page.get_by_label("Password").fill(os.environ["EXPENSELY_PASSWORD"])
        page.get_by_role("button", name="Sign in").click()
        page.goto(app_url + "/expenses/new")
        for a in actions:
            t0 = time.perf_counter()
            loc = page.get_by_label(a["target"]["label"])
            if a["action"] == "check":
                loc.check()
            elif a["action"] == "uncheck":
                loc.uncheck()
            elif a["action"] == "fill":
                loc.fill(a["value"])
            else:
                loc.select_option(label=a["value"])
            page.screenshot()
            times.append((time.perf_counter() - t0) * 1000)
    return times


class PeakRSS:
    """Samples the RSS of this process and all its children (the browser) every 20 ms."""

    def __init__(self):
        import psutil

        self.me = psutil.Process()
        self.peak = 0
        self.peak_pss = 0  # proportional set size: shared pages counted once across the processes
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        tick = 0
        while not self._stop.is_set():
            total = pss = 0
            procs = [self.me] + self.me.children(recursive=True)
            for p in procs:
                try:
                    total += p.memory_info().rss
                    if tick % 10 == 0:  # PSS reads smaps: costlier, so less often
                        pss += p.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    pass
            self.peak = max(self.peak, total)
            if tick % 10 == 0:
                self.peak_pss = max(self.peak_pss, pss)
            tick += 1
            self._stop.wait(0.02)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2, help="baseline/capture rounds, interleaved (less noise)")
    args = ap.parse_args()

    from guidecast.capture.replay import capture_workflow
    from guidecast.samples.expense_app import start_sample_app

    actions = repeated_actions(args.steps - LOGIN - 1)
    with tempfile.TemporaryDirectory() as tmp, start_sample_app("base") as app:
        wf = Path(tmp) / "bench.yaml"
        wf.write_text(workflow_yaml(args.steps))
        with PeakRSS() as base_rss:
            base_ms = baseline(app.url, actions)
        cap_ms, peaks, pss = [], [], []
        for r in range(args.rounds):  # baseline, capture, baseline, capture, baseline: both see the same load
            with PeakRSS() as rss:
                t0 = time.perf_counter()
                bundle = capture_workflow(wf, Path(tmp) / f"cap{r}", base_url=app.url)
                wall = time.perf_counter() - t0
            peaks.append(rss.peak)
            pss.append(rss.peak_pss)
            cap_ms += [s.timing_ms for s in bundle.steps[LOGIN + 1:]]
            base_ms += baseline(app.url, actions)
    cap_med, base_med = statistics.median(cap_ms), statistics.median(base_ms)
    ratio = cap_med / base_med
    peak_mib = max(peaks) / 2**20
    print(f"steps captured: {len(bundle.steps)} in {wall:.1f} s (incl. browser start)")
    print(f"per step, median over {len(cap_ms)} captured and {len(base_ms)} bare steps on the same page:")
    print(f"  capture_workflow step            {cap_med:7.1f} ms  (p90 {statistics.quantiles(cap_ms, n=10)[-1]:.1f})")
    print(f"  bare action + page.screenshot()  {base_med:7.1f} ms  (p90 {statistics.quantiles(base_ms, n=10)[-1]:.1f})")
    print(f"  ratio                            {ratio:7.2f} x  (goal <= 1.2)")
    base_mib = base_rss.peak / 2**20
    print(f"peak RSS during the {len(bundle.steps)}-step capture (python + browser, summed): {peak_mib:.0f} MiB; "
          f"bare Playwright run of the same steps: {base_mib:.0f} MiB; ratio {peak_mib / base_mib:.2f} x")
    print(f"peak PSS (shared pages counted once): capture {max(pss) / 2**20:.0f} MiB, "
          f"bare {base_rss.peak_pss / 2**20:.0f} MiB")
    print(json.dumps({"capture_overhead_ratio": round(ratio, 3), "peak_rss_mib_100_steps": round(peak_mib, 1),
                      "peak_pss_mib_100_steps": round(max(pss) / 2**20, 1),
                      "rss_ratio_vs_bare": round(peak_mib / base_mib, 2)}))


if __name__ == "__main__":
    main()
