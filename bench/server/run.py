"""Load benchmark of the web app: the learner page (share link) and the oEmbed endpoint.

One command: `.venv/bin/python bench/server/run.py [--requests 600] [--concurrency 8] [--seconds 20]`.
It starts the sample app and a guidecast server on loopback with a temporary data directory, records
and publishes the sample workflow through the server's own jobs (silent voice), then sends a bounded
number of requests (and stops after a time bound) from a thread pool of keep-alive httpx clients.
Baseline, measured in the same run: a static file of the same size as the learner page, served by the
same server stack. Last line: one JSON object.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, publish, running_server, sign_in, upload, wait_jobs


def load(url: str, path: str, params: dict | None, requests: int, concurrency: int, seconds: float) -> dict:
    """Send up to `requests` GETs (stopping after `seconds`); latency per request and throughput."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            while True:
                with lock:
                    if remaining[0] <= 0 or time.monotonic() > deadline:
                        return
                    remaining[0] -= 1
                t0 = time.perf_counter()
                try:
                    ok = c.get(path, params=params).status_code == 200
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    errors[0] += not ok

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    wall = time.perf_counter() - start
    lat = sorted(latencies)
    return {"requests": len(lat), "errors": errors[0], "rps": round(len(lat) / wall, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 2),
            "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1000, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=600, help="requests per endpoint (default 600)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0, help="time bound per endpoint")
    args = ap.parse_args()

    from fastapi.staticfiles import StaticFiles

    from guidecast.samples import WORKFLOWS_DIR
    from guidecast.samples.expense_app import start_sample_app

    os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")
    with tempfile.TemporaryDirectory(prefix="gc-bench-") as tmp, start_sample_app("base") as sample:
        st = load_settings(environ={}, data_dir=Path(tmp) / "data", tts_engine="silent", video_width=640,
                           video_height=360, capture_allowed_hosts=[urlsplit(sample.url).netloc],
                           capture_env_vars=["EXPENSELY_PASSWORD"])
        with running_server(st) as (url, app):
            t0 = time.perf_counter()
            add_user(app, "bench@example.com", "editor")
            with httpx.Client(base_url=url, follow_redirects=True, timeout=120) as c:
                sign_in(c, "bench@example.com")
                wf = (WORKFLOWS_DIR / "submit-expense.yaml").read_bytes()
                gid = upload(c, "submit-expense.yaml", wf, sample.url).json()["guide"]["id"]
                wait_jobs(c, gid, 2, timeout=300)
                publish(c, gid)
                share = c.post(f"/api/guides/{gid}/links").json()["url"]
            print(f"setup (capture, compose, publish, render through the server's jobs): {time.perf_counter() - t0:.1f} s")
            path = urlsplit(share).path
            page = httpx.get(share).content
            static = Path(tmp) / "static"
            static.mkdir()
            (static / "same-size.html").write_bytes(b"x" * len(page))
            app.mount("/bench-static", StaticFiles(directory=static))
            print(f"learner page {len(page)} bytes; {args.requests} requests per endpoint, "
                  f"{args.concurrency} clients, at most {args.seconds:.0f} s each")
            httpx.get(url + "/bench-static/same-size.html").raise_for_status()
            results = {
                "baseline": load(url, "/bench-static/same-size.html", None, args.requests, args.concurrency, args.seconds),
                "learner_page": load(url, path, None, args.requests, args.concurrency, args.seconds),
                "oembed": load(url, "/oembed", {"url": share, "format": "json"}, args.requests, args.concurrency,
                               args.seconds),
            }
    base = results["baseline"]
    for name, r in results.items():
        print(f"{name:<13} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>7.2f} ms  p95 {r['p95_ms']:>7.2f} ms  "
              f"errors {r['errors']}  ({r['requests']} requests; {r['rps'] / base['rps']:.2f}x baseline req/s)")
    print(json.dumps({
        "learner_page_rps": results["learner_page"]["rps"], "learner_page_p95_ms": results["learner_page"]["p95_ms"],
        "oembed_rps": results["oembed"]["rps"], "oembed_p95_ms": results["oembed"]["p95_ms"],
        "baseline_rps": base["rps"], "baseline_p95_ms": base["p95_ms"],
        "learner_page_vs_baseline": round(results["learner_page"]["rps"] / base["rps"], 3),
        "oembed_vs_baseline": round(results["oembed"]["rps"] / base["rps"], 3),
        "errors": sum(r["errors"] for r in results.values()),
    }))


if __name__ == "__main__":
    main()
