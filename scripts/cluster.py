"""`make cluster` / `make cluster-down`: the scale-out stack on this machine.

    up:   a private PostgreSQL cluster and SeaweedFS (server/services.py, their folders under /tmp and
          out/cluster/), the sample app, `guidecast serve --web-processes 2` and `guidecast worker
          --processes 2` on PostgreSQL + the S3 bucket; then the sample guide (submit-expense) built
          through the API (upload the workflow -> capture -> compose -> publish -> render, each job in a
          worker) and the URL printed.
    down: stops every process `up` started (their ids are in out/cluster/state.json) and nothing else.

Usage: .venv/bin/python scripts/cluster.py up|down [--dir out/cluster] [--port 8080]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN, PASSWORD = "admin@example.com", "cluster-password"


def _spawn(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # the process's own log, kept with the cluster's folder
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=ROOT)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cluster: {log.name[:-4]} exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"cluster: {url} did not answer within {timeout:.0f} s (see {log})")


def up(base: Path, port: int) -> None:
    import httpx

    from guidecast.samples import WORKFLOWS_DIR
    from guidecast.server.services import Postgres, SeaweedS3, free_port
    from guidecast.server.testing import sign_in, upload, wait_jobs

    state_file = base / "state.json"
    if state_file.exists():
        raise SystemExit(f"cluster: already up ({state_file}); `make cluster-down` first")
    base.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("guidecast"))
    state: dict = {"pids": []}

    def save() -> None:
        state_file.write_text(json.dumps(state, indent=2))

    try:
        print("cluster: starting PostgreSQL ...", flush=True)
        pg = Postgres(Path(tempfile.mkdtemp(prefix="guidecast-cluster-pg-"))).start()  # the postgres user reaches /tmp
        state["pids"].append(pg.proc.pid)
        state["pg_root"] = str(pg.root)
        save()
        print("cluster: starting SeaweedFS ...", flush=True)
        s3 = SeaweedS3(base / "seaweed").start()
        state["pids"].append(s3.proc.pid)
        save()
        app_port = free_port()
        sample = _spawn([exe, "sample-app", "--port", str(app_port)], {}, base / "sample-app.log")
        state["pids"].append(sample.pid)
        save()
        env = {"GUIDECAST_DATABASE_URL": pg.create_database("guidecast"), "GUIDECAST_JOBS_BACKEND": "queue",
               "GUIDECAST_S3_BUCKET": "guidecast", "GUIDECAST_S3_ENDPOINT_URL": s3.endpoint,
               "GUIDECAST_S3_ACCESS_KEY": s3.access_key, "GUIDECAST_S3_SECRET_KEY": s3.secret_key,
               "GUIDECAST_CAPTURE_ALLOWED_HOSTS": f"127.0.0.1:{app_port}",
               "GUIDECAST_CAPTURE_ENV_VARS": "EXPENSELY_PASSWORD", "EXPENSELY_PASSWORD": "demo-password",
               "GUIDECAST_SECRET_KEY": os.urandom(24).hex(), "GUIDECAST_TTS_ENGINE": "auto"}
        subprocess.run([exe, "user", "add", ADMIN, "--role", "admin", "--password", PASSWORD,
                        "--data-dir", str(base / "web")], env={**os.environ, **env}, check=True,
                       capture_output=True)
        web = _spawn([exe, "serve", "--port", str(port), "--web-processes", "2", "--data-dir", str(base / "web")],
                     env, base / "web.log")
        state["pids"].append(web.pid)
        workers = _spawn([exe, "worker", "--processes", "2", "--data-dir", str(base / "worker")], env,
                         base / "workers.log")
        state["pids"].append(workers.pid)
        save()
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/signin", web, base / "web.log")
        _wait_http(f"http://127.0.0.1:{app_port}/", sample, base / "sample-app.log")
        print("cluster: building the sample guide through the API (capture, compose, publish, render) ...",
              flush=True)
        with httpx.Client(base_url=url, follow_redirects=True, timeout=120) as c:
            sign_in(c, ADMIN, PASSWORD)
            r = upload(c, "submit-expense.yaml", (WORKFLOWS_DIR / "submit-expense.yaml").read_bytes(),
                       f"http://127.0.0.1:{app_port}")
            if r.status_code != 201:
                raise SystemExit(f"cluster: the upload failed: {r.status_code} {r.text[:300]}")
            gid = r.json()["guide"]["id"]
            wait_jobs(c, gid, count=2, timeout=600)  # capture, then compose
            c.post(f"/api/guides/{gid}/publish", json={})
            jobs = wait_jobs(c, gid, count=4, timeout=900)  # + publish, render
            workers_seen = sorted({j["worker"] for j in jobs if j.get("worker")})
        state.update(url=url, guide_id=gid)
        save()
    except BaseException:
        down(base)
        raise
    print(f"""
The cluster is up: PostgreSQL, SeaweedFS, 2 web processes, 2 workers.
  URL        {url}/g/{gid}       (sign in as {ADMIN} / {PASSWORD})
  jobs ran   in {', '.join(workers_seen)}
  logs       {base}/*.log
Stop it with `make cluster-down`.""")


def down(base: Path) -> None:
    import shutil

    state_file = base / "state.json"
    if not state_file.exists():
        print("cluster: nothing to stop")
        return
    state = json.loads(state_file.read_text())
    for pid in reversed(state.get("pids", [])):  # each leads its own process group (start_new_session)
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 15
    for pid in state.get("pids", []):
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if state.get("pg_root"):
        shutil.rmtree(state["pg_root"], ignore_errors=True)
    state_file.unlink()
    print("cluster: stopped")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("--dir", type=Path, default=ROOT / "out" / "cluster")
    ap.add_argument("--port", type=int, default=int(os.environ.get("GUIDECAST_PORT", "8080")))
    args = ap.parse_args()
    (up if args.action == "up" else lambda base, _port: down(base))(args.dir.resolve(), args.port)


if __name__ == "__main__":
    main()
