"""No lock-up under load (issue 14, item 2): `guidecast serve` in its own process, Debian's wrk with 64
keep-alive connections for 10 s on signed-in routes (session cookie in the request headers): no 5xx, no
socket errors, and the job loop still runs a job queued afterwards."""
from __future__ import annotations

import shutil

import pytest

from guidecast.server.testing import seed_site, serve_process, wait_jobs, wrk

pytestmark = [pytest.mark.slow, pytest.mark.video,
              pytest.mark.skipif(shutil.which("wrk") is None, reason="no wrk: run `make setup`")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from tests.fixtures.compose.synthetic import make_capture

    root = tmp_path_factory.mktemp("load")
    make_capture(root / "capture")
    env = {"GUIDECAST_TTS_ENGINE": "silent", "GUIDECAST_VIDEO_WIDTH": "320", "GUIDECAST_VIDEO_HEIGHT": "180"}
    with serve_process(root / "data", env) as url:
        site = seed_site(url, root / "data", root / "capture")
        yield url, site
        site["client"].close()


@pytest.mark.parametrize("path", ["/api/me", "/", "/g/{gid}"])
def test_64_signed_in_connections_get_answers_not_5xx(served, path):
    url, site = served
    r = wrk(url + path.format(gid=site["guide_id"]), connections=64, seconds=10, cookie=site["cookie"])
    assert r["requests"] > 100, r
    assert r["http_5xx"] == 0 and r["socket_errors"] == 0 and r["timeouts"] == 0, r
    assert r["http_4xx"] == 0, r  # still signed in: every answer was the page itself


def test_the_job_loop_runs_a_job_queued_after_the_load(served):
    url, site = served
    wrk(url + "/api/me", connections=64, seconds=3, cookie=site["cookie"])
    c, gid = site["client"], site["guide_id"]
    job = c.post(f"/api/guides/{gid}/publish", json={})
    assert job.status_code == 202, job.text
    jobs = {j["id"]: j for j in wait_jobs(c, gid, timeout=120)}
    assert jobs[job.json()["id"]]["state"] == "done"
