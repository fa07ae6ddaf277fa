"""Helpers for tests and benchmarks: a real server on a free loopback port, signed-in HTTP clients,
zipped bundles, waiting for jobs."""
from __future__ import annotations

import io
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from guidecast.server.settings import Settings


def _found(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    if m is None:
        raise AssertionError(f"the page has no {pattern!r}")
    return m.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(settings: Settings, port: int | None = None) -> Iterator[tuple[str, object]]:
    """uvicorn serving create_app(settings) in a thread, on `port` (default: a free one); yields (base URL,
    app)."""
    import uvicorn

    from guidecast.server.app import create_app, uvicorn_config

    port = port or free_port()
    settings.port = port  # where share links and oEmbed say the server is (BASE_URL unset)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(15)


def add_user(app, email: str, role: str, password: str = "password-123456"):
    from guidecast.server.routes_auth import create_user

    with app.state.ctx.db.session() as s:
        return create_user(s, email, role, password).id


def sign_in(client, email: str, password: str = "password-123456"):
    """Sign `client` (httpx.Client or TestClient) in through the form; sets its CSRF header."""
    r = client.get("/signin")
    token = _found(r'name="csrf_token" value="([^"]+)"', r.text)
    r = client.post("/signin", data={"email": email, "password": password, "csrf_token": token, "next": "/"})
    if r.status_code not in (200, 303) or "Wrong email" in r.text:
        raise AssertionError(f"sign-in of {email} failed: {r.status_code}")
    page = client.get("/account")
    client.headers["X-CSRF-Token"] = _found(r'name="csrf-token" content="([^"]+)"', page.text)
    return client


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                zf.write(p, prefix + p.relative_to(folder).as_posix())
    return buf.getvalue()


def wait_jobs(client, guide_id: int, count: int = 1, timeout: float = 120) -> list[dict]:
    """Wait until the guide has at least `count` jobs and all have ended; fails on a failed job."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = client.get(f"/api/guides/{guide_id}/jobs").json()
        if len(jobs) >= count and all(j["state"] in ("done", "failed", "cancelled") for j in jobs):
            bad = [j for j in jobs if j["state"] != "done"]
            if bad:
                raise AssertionError(f"jobs did not succeed: {bad}")
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still running after {timeout}s: {jobs}")
        time.sleep(0.3)


def ticking_job(ctx, job, progress) -> dict:
    """A job kind for tests of live progress: `ticks` progress steps `every` seconds apart."""
    ticks, every = job.params.get("ticks", 5), job.params.get("every", 0.3)
    for i in range(ticks):
        progress(i, ticks, f"tick {i + 1} of {ticks}")
        time.sleep(every)
    progress(ticks, ticks, "ticked")
    return {"ticks": ticks}


def start_ticking_job(app, guide_id: int | None, ticks: int = 5, every: float = 0.3) -> int:
    """Queue a `ticking_job` (kind "test-ticks") on the guide (its editors may follow it); returns the job id."""
    ctx = app.state.ctx
    ctx.jobs.handlers["test-ticks"] = ticking_job
    with ctx.db.session() as s:
        return ctx.jobs.submit(s, "test-ticks", guide_id, {"ticks": ticks, "every": every}).id


def upload(client, name: str, data: bytes, base_url: str = "") -> httpx.Response:
    return client.post("/api/guides", files={"file": (name, data, "application/octet-stream")},
                       data={"base_url": base_url})


def publish(client, guide_id: int) -> dict:
    """Publish the saved edits and wait for the version and its video; returns the publish job."""
    job = client.post(f"/api/guides/{guide_id}/publish", json={}).json()
    # the render job is queued before the publish job is marked done, so "all ended" covers both
    return next(j for j in wait_jobs(client, guide_id) if j["id"] == job["id"])


WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s5xx = 0; s4xx = 0 end
function response(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1 end
end
function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s5xx"); b = b + t:get("s4xx") end
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "http_5xx": %d, "http_4xx": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, a, b, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def wrk(url: str, *, connections: int, seconds: int, cookie: str | None = None, threads: int = 2,
        timeout_s: int = 5) -> dict:
    """Run Debian's `wrk` against `url` (a real load generator, keep-alive connections) and return requests,
    req/s, p50/p99/max latency (ms), 5xx and 4xx counts, socket errors and timeouts."""
    import json
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed: run `make setup` (scripts/system-deps.sh installs it)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
    try:
        cmd = [exe, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
               "-s", f.name]
        if cookie:
            cmd += ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        Path(f.name).unlink(missing_ok=True)
    raw = json.loads(next(line for line in out.splitlines() if line.startswith("WRK "))[4:])
    secs = raw["duration_us"] / 1e6
    return {"requests": raw["requests"], "rps": round(raw["requests"] / secs, 1),
            "p50_ms": round(raw["p50_us"] / 1000, 2), "p99_ms": round(raw["p99_us"] / 1000, 2),
            "max_ms": round(raw["max_us"] / 1000, 2), "http_5xx": raw["http_5xx"], "http_4xx": raw["http_4xx"],
            "errors": raw["http_5xx"] + raw["socket_errors"] + raw["timeouts"],
            "socket_errors": raw["socket_errors"], "timeouts": raw["timeouts"]}


class Served(str):
    """A served process's URL, with the process id (`pid`)."""

    pid: int = 0


@contextmanager
def serve_process(data_dir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                  port: int | None = None) -> Iterator[str]:
    """`guidecast serve` in its own process on a free loopback port (what a deployment runs), `args` added
    (e.g. `--web-processes 2`); yields its URL. Its output goes to DATA_DIR/serve.log."""
    import os
    import subprocess
    import sys

    port = port or free_port()
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(data_dir) / "serve.log", "ab")
    exe = Path(sys.executable).with_name("guidecast")
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
                             *args],
                            env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = Served(f"http://127.0.0.1:{port}")
    url.pid = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/signin", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"guidecast serve did not start: {(Path(data_dir) / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def seed_site(url: str, data_dir: Path, capture_dir: Path, email: str = "load@example.com",
              password: str = "password-123456") -> dict:
    """For load tests of a served process: an editor (made with `guidecast user add`), the capture uploaded,
    composed and published through the server's jobs. Returns the session cookie (for wrk's -H), the guide id
    and the signed-in httpx client."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("guidecast")
    subprocess.run([str(exe), "user", "add", email, "--role", "editor", "--password", password, "--data-dir",
                    str(data_dir)], check=True, capture_output=True)
    client = httpx.Client(base_url=url, follow_redirects=True, timeout=120)
    sign_in(client, email, password)
    r = upload(client, "capture.zip", zip_folder(capture_dir, "capture/"))
    if r.status_code != 201:
        raise AssertionError(f"upload failed: {r.status_code} {r.text[:300]}")
    gid = r.json()["guide"]["id"]
    wait_jobs(client, gid, timeout=300)
    publish(client, gid)
    return {"cookie": f"guidecast_session={client.cookies['guidecast_session']}", "guide_id": gid, "client": client}
