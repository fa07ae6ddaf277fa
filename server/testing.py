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
def running_server(settings: Settings) -> Iterator[tuple[str, object]]:
    """uvicorn serving create_app(settings) in a thread; yields (base URL, app)."""
    import uvicorn

    from guidecast.server.app import create_app

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
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
