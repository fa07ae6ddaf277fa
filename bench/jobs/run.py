"""Render throughput of the job queue: 8 guides rendered by 1 and by 2 `guidecast worker` processes.

One command: `.venv/bin/python bench/jobs/run.py [--guides 8] [--size 640x360]`.
It starts a private PostgreSQL (server/services.py) and `guidecast serve` on it with the queue backend,
uploads `--guides` synthetic captures (drawn screenshots, no browser) and has them composed, then, per
round, publishes every guide with a narration speed of its own (so no two guides share a rendered
segment) and times publish -> every video rendered, first with 1 worker, then with 2 (each round's
workers have fresh folders: no render cache carried over). Baseline in the same run: one guide published
and rendered by the embedded mode (`guidecast serve` with job threads, SQLite) against one guide through
the queue with an idle worker: publish to playable video.
Last line, one JSON object: {"guides_per_min_1_worker", "guides_per_min_2_workers", "speedup",
"publish_to_playable_s_queue", "publish_to_playable_s_embedded"}. Goal on 2 cores: speedup >= 1.7, and the
queue's publish-to-playable no worse than the embedded mode's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from guidecast.server.services import Postgres, SeaweedS3
from guidecast.server.testing import seed_site, serve_process, sign_in, upload, wait_jobs, zip_folder
from tests.fixtures.compose.synthetic import make_capture

EMAIL, PASSWORD = "load@example.com", "password-123456"


def _workers(n: int, env: dict, folder: Path) -> list[subprocess.Popen]:
    exe = str(Path(sys.executable).with_name("guidecast"))
    folder.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([exe, "worker", "--data-dir", str(folder / f"w{k}")], env={**os.environ, **env},
                              stdout=open(folder / f"w{k}.log", "ab"), stderr=subprocess.STDOUT) for k in range(n)]
    deadline = time.monotonic() + 60  # timed from when they take jobs: their start-up is not the queue's speed
    while not all("waiting for jobs" in (folder / f"w{k}.log").read_text(errors="replace") for k in range(n)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            _stop(procs)
            raise SystemExit(f"the workers did not start: see {folder}/w*.log")
        time.sleep(0.1)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def _publish_all(c: httpx.Client, gids: list[int], rates: list[int]) -> float:
    """Publish each guide with its own narration speed; seconds until every render is done."""
    t0 = time.monotonic()
    for gid, rate in zip(gids, rates, strict=True):
        doc = c.get(f"/api/guides/{gid}/edits").json()
        r = c.put(f"/api/guides/{gid}/edits", json={"base_revision": doc["revision"], "edits": {"rate": rate}})
        assert r.status_code == 200, r.text
        assert c.post(f"/api/guides/{gid}/publish", json={}).status_code in (200, 201, 202)
    print(f"  {len(gids)} publish request(s) answered in {time.monotonic() - t0:.2f} s", flush=True)
    for gid in gids:
        wait_jobs(c, gid, timeout=1800)
    return time.monotonic() - t0


def _playable(c: httpx.Client, gid: int, rate: int) -> float:
    """Publish one guide; seconds until its new version's video is served."""
    t0 = time.monotonic()
    _publish_all(c, [gid], [rate])
    renders = [j for j in c.get(f"/api/guides/{gid}/jobs").json() if j["kind"] == "render"]
    n = max(renders, key=lambda j: j["id"])["result"]["version"]
    r = c.get(f"/g/{gid}/v/{n}/files/video/guide.mp4", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206, r.status_code
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guides", type=int, default=8)
    ap.add_argument("--size", default="640x360", help="video size WIDTHxHEIGHT")
    args = ap.parse_args()
    width, height = args.size.split("x")
    common = {"GUIDECAST_TTS_ENGINE": "silent", "GUIDECAST_VIDEO_WIDTH": width, "GUIDECAST_VIDEO_HEIGHT": height}
    per_min: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="gc-jobs-") as tmp:
        root = Path(tmp)
        make_capture(root / "capture")
        bundle = zip_folder(root / "capture", "capture/")

        # baseline: the embedded mode (job threads in the server, SQLite), one guide, publish -> playable
        with serve_process(root / "embedded", common) as url:
            site = seed_site(url, root / "embedded", root / "capture")
            embedded_s = _playable(site["client"], site["guide_id"], 150)
            site["client"].close()

        pg = Postgres(Path(tempfile.mkdtemp(prefix="gc-jobs-pg-"))).start()
        s3 = None
        try:
            # the scale-out stack (make cluster): every worker reads and writes the same object store
            s3 = SeaweedS3(root / "seaweed").start()
            s3.create_bucket("bench")
            env = {**common, "GUIDECAST_DATABASE_URL": pg.create_database("bench"), "GUIDECAST_JOBS_BACKEND": "queue",
                   **{f"GUIDECAST_{k.upper()}": str(v) for k, v in s3.settings("bench").items()}}
            os.environ.update(env)  # `guidecast user add` reaches the same database
            with serve_process(root / "web", env) as url:
                exe = str(Path(sys.executable).with_name("guidecast"))
                subprocess.run([exe, "user", "add", EMAIL, "--role", "editor", "--password", PASSWORD,
                                "--data-dir", str(root / "web")], check=True, capture_output=True)
                c = httpx.Client(base_url=url, follow_redirects=True, timeout=120)
                sign_in(c, EMAIL, PASSWORD)
                workers = _workers(2, env, root / "setup")
                try:
                    gids = [upload(c, "c.zip", bundle).json()["guide"]["id"] for _ in range(args.guides)]
                    for gid in gids:
                        wait_jobs(c, gid, timeout=600)  # composed
                finally:
                    _stop(workers)
                for n, rates in ((1, range(140, 140 + args.guides)), (2, range(180, 180 + args.guides))):
                    workers = _workers(n, env, root / f"round{n}")
                    try:
                        if n == 1:
                            queue_s = _playable(c, gids[0], 120)  # an idle worker: publish -> playable
                        secs = _publish_all(c, gids, list(rates))
                    finally:
                        _stop(workers)
                    per_min[n] = args.guides / secs * 60
                    print(f"{n} worker{'s' if n > 1 else ''}: {args.guides} guides published and rendered in "
                          f"{secs:.1f} s = {per_min[n]:.1f} guides/min", flush=True)
                c.close()
        finally:
            if s3 is not None:
                s3.stop()
            pg.stop()
    speedup = per_min[2] / per_min[1] if per_min[1] else 0.0
    print(f"publish -> playable video, one guide: queue {queue_s:.1f} s, embedded {embedded_s:.1f} s "
          f"({queue_s / embedded_s:.2f}x)")
    print(json.dumps({"guides_per_min_1_worker": round(per_min[1], 2), "guides_per_min_2_workers": round(per_min[2], 2),
                      "speedup": round(speedup, 3), "publish_to_playable_s_queue": round(queue_s, 2),
                      "publish_to_playable_s_embedded": round(embedded_s, 2), "guides": args.guides,
                      "video": args.size, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
