"""Learner traffic against a real `guidecast serve` process with 1 and with 2 web processes (wrk).

One command: `.venv/bin/python bench/serve/run.py [--seconds 10]`.
It starts a private PostgreSQL (server/services.py) and `guidecast serve` on it in its own process (the
scale-out configuration; the anonymous rate limit opened wide so that it counts but never refuses), seeds
a published guide through the API (bench/server_load's helpers: a synthetic capture, silent voice) and a
share link, then runs Debian's wrk with 8 and 64 keep-alive connections for `--seconds` each against the
learner page through the share link, oEmbed of that link and a static asset (`/static/app.css?v=HASH`, the
baseline), first with one web process, then with two (`--web-processes 2`, the same database and folder).
Per route: req/s, p50/p99, errors; the learner page's rate against the static asset's and the 2-process
rate against the 1-process one. Last line, one JSON object (the figures for 2 processes):
{"learner_page_rps_c64", "learner_page_p99_ms_c64", "static_rps_c64", "web_processes": 2, "errors", ...}.
Goal on 2 cores: learner page >= 2000 req/s at -c64 with 2 processes, p99 <= 50 ms, 0 errors, >= 0.5x static.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from guidecast.server.services import Postgres, free_port
from guidecast.server.testing import seed_site, serve_process, wrk
from tests.fixtures.compose.synthetic import make_capture

CONNECTIONS = (8, 64)
PROCESSES = (1, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per route, connection count and process count")
    args = ap.parse_args()
    results: dict[tuple[int, str, int], dict] = {}
    with tempfile.TemporaryDirectory(prefix="gc-serve-") as tmp:
        root = Path(tmp)
        pg = Postgres(Path(tempfile.mkdtemp(prefix="gc-serve-pg-"))).start()
        try:
            env = {"GUIDECAST_DATABASE_URL": pg.create_database("bench"), "GUIDECAST_TTS_ENGINE": "silent",
                   "GUIDECAST_VIDEO_WIDTH": "320", "GUIDECAST_VIDEO_HEIGHT": "180",
                   "GUIDECAST_ANONYMOUS_PER_S": "1000000", "GUIDECAST_ANONYMOUS_BURST": "1000000"}
            os.environ.update(env)  # `guidecast user add` (seed_site) reaches the same database
            make_capture(root / "capture")
            routes: dict[str, str] = {}
            port = free_port()  # both runs on one port: the share link and oEmbed name it
            for n in PROCESSES:
                with serve_process(root / "data", env, ("--web-processes", str(n)), port=port) as url:
                    if not routes:
                        site = seed_site(url, root / "data", root / "capture")
                        link = site["client"].post(f"/api/guides/{site['guide_id']}/links").json()["url"]
                        site["client"].close()
                        page = __import__("httpx").get(link).text
                        css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page)
                        if css is None:
                            raise SystemExit("bench: the learner page links no hashed app.css")
                        routes = {"static": css.group(1), "learner_page": link.removeprefix(url),
                                  "oembed": f"/oembed?url={quote(link, safe='')}"}
                    for c in CONNECTIONS:
                        for name, path in routes.items():
                            results[(n, name, c)] = wrk(url + path, connections=c, seconds=args.seconds)
        finally:
            pg.stop()
    out: dict[str, float | int] = {}
    for n in PROCESSES:
        for c in CONNECTIONS:
            base = results[(n, "static", c)]
            for name in routes:
                r = results[(n, name, c)]
                vs_static = r["rps"] / base["rps"] if base["rps"] else 0.0
                vs_one = r["rps"] / results[(1, name, c)]["rps"] if results[(1, name, c)]["rps"] else 0.0
                print(f"{n} web  -c{c:<3} {name:<13} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>7.2f} ms  "
                      f"p99 {r['p99_ms']:>7.2f} ms  errors {r['errors']} (4xx {r['http_4xx']})  "
                      f"{vs_static:.2f}x static, {vs_one:.2f}x 1 process")
                if n == PROCESSES[-1]:
                    out[f"{name}_rps_c{c}"] = r["rps"]
                    out[f"{name}_p99_ms_c{c}"] = r["p99_ms"]
                    if name != "static":
                        out[f"{name}_vs_static_c{c}"] = round(vs_static, 3)
                    out[f"{name}_vs_1_process_c{c}"] = round(vs_one, 3)
                else:
                    out[f"{name}_rps_c{c}_1_process"] = r["rps"]
    out["web_processes"] = PROCESSES[-1]
    out["errors"] = sum(r["errors"] + r["http_4xx"] for (n, _, _), r in results.items() if n == PROCESSES[-1])
    out["errors_1_process"] = sum(r["errors"] + r["http_4xx"] for (n, _, _), r in results.items() if n == 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
