"""Load benchmark of the web app under many signed-in connections: Debian's wrk against `guidecast serve`.

One command: `.venv/bin/python bench/server_load/run.py [--seconds 10]`.
It starts `guidecast serve` in its own process with a temporary data directory, adds an editor, uploads a
synthetic capture (drawn screenshots, no browser) and publishes it through the server's jobs (silent
voice), then runs wrk with 8 and with 64 keep-alive connections for `--seconds` each against the learner
page (`/g/N`), the library (`/`) and `/api/me`, signed in through the session cookie. Baseline, measured
in the same run and the same way: a static file of the same server (`/static/app.css`). Per route:
req/s, p50/p99 latency, errors (5xx, socket errors, timeouts), and req/s and p99 against the baseline.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from guidecast.server.testing import seed_site, serve_process, wrk
from tests.fixtures.compose.synthetic import make_capture

CONNECTIONS = (8, 64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per route and connection count")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gc-load-") as tmp:
        root = Path(tmp)
        make_capture(root / "capture")
        env = {"GUIDECAST_TTS_ENGINE": "silent", "GUIDECAST_VIDEO_WIDTH": "320", "GUIDECAST_VIDEO_HEIGHT": "180"}
        with serve_process(root / "data", env) as url:
            site = seed_site(url, root / "data", root / "capture")
            site["client"].close()
            routes = {"baseline_static": "/static/app.css", "learner_page": f"/g/{site['guide_id']}",
                      "library": "/", "api_me": "/api/me"}
            results: dict[str, dict] = {}
            for c in CONNECTIONS:
                for name, path in routes.items():
                    r = wrk(url + path, connections=c, seconds=args.seconds, cookie=site["cookie"])
                    results[f"{name}_c{c}"] = r
    out: dict[str, float | int] = {}
    for c in CONNECTIONS:
        base = results[f"baseline_static_c{c}"]
        for name in routes:
            r = results[f"{name}_c{c}"]
            rps_ratio = r["rps"] / base["rps"] if base["rps"] else 0.0
            p99_ratio = r["p99_ms"] / base["p99_ms"] if base["p99_ms"] else 0.0
            print(f"-c{c:<3} {name:<16} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>8.2f} ms  p99 {r['p99_ms']:>8.2f} ms  "
                  f"errors {r['errors']} (5xx {r['http_5xx']}, 4xx {r['http_4xx']})  "
                  f"{rps_ratio:.2f}x baseline req/s, {p99_ratio:.2f}x baseline p99")
            key = f"{name}_c{c}"
            out.update({f"{key}_rps": r["rps"], f"{key}_p99_ms": r["p99_ms"], f"{key}_errors": r["errors"]})
            if name != "baseline_static":
                out[f"{key}_rps_vs_baseline"] = round(rps_ratio, 3)
                out[f"{key}_p99_vs_baseline"] = round(p99_ratio, 3)
    out["errors"] = sum(r["errors"] for r in results.values())
    out["http_4xx"] = sum(r["http_4xx"] for r in results.values())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
