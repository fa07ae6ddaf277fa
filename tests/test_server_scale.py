"""Scale-out on real engines: the server on PostgreSQL (migrations, jobs), jobs on Procrastinate run by
`guidecast worker` processes (one SIGKILLed mid-render), the anonymous rate limit shared by two web
processes. PostgreSQL is a private cluster of the session (tests/conftest.py `postgres`)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from guidecast.server.settings import load_settings
from guidecast.server.testing import (
    add_user,
    publish,
    running_server,
    serve_process,
    sign_in,
    upload,
    wait_jobs,
    zip_folder,
)

pytestmark = pytest.mark.slow
OWNER = "owner@example.com"


def test_migrations_run_on_postgres_and_match_the_models(postgres, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from guidecast.server.db import Database
    from guidecast.server.models import Base

    url = load_settings(environ={}, data_dir=tmp_path, database_url=postgres.create_database("migrations")).db_url
    assert url.startswith("postgresql+psycopg://")
    db = Database(url)
    db.migrate()
    db.migrate()  # a second start finds everything in place
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if "procrastinate" not in repr(d)] == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0007_link_notices"
        assert conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None


def test_a_bad_database_url_or_queue_without_postgres_is_a_clear_error(tmp_path):
    from guidecast.kernel.errors import SettingsError

    with pytest.raises(SettingsError, match="GUIDECAST_DATABASE_URL.*postgresql://"):
        load_settings(environ={"GUIDECAST_DATABASE_URL": "mysql://x/y"}, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="needs a PostgreSQL database_url"):
        load_settings(environ={"GUIDECAST_JOBS_BACKEND": "queue"}, data_dir=tmp_path)


def test_the_rate_limit_never_refills_negatively_when_another_process_wrote_the_bucket_just_after(tmp_path,
                                                                                                   monkeypatch):
    """Process A reads the clock, process B writes the bucket a moment later, then A's upsert runs: A finds
    `at` ahead of its own clock. That is no time passed (full bucket still full), not minus a refill: with
    a generous rate (1000/s) a 50 ms skew used to mean -50 tokens and a 429 for a client well under it."""
    import guidecast.server.limits as limits
    from guidecast.server.db import Database, sqlite_url

    db = Database(sqlite_url(tmp_path))
    db.migrate()
    rl = limits.RateLimit(db, per_s=1000.0, burst=10)
    clock = iter([100.0, 100.05, 100.0, 100.01])  # B's write (100.05) lands before A's (clocks read at 100.0)
    monkeypatch.setattr(limits.time, "time", lambda: next(clock))
    for _ in range(4):
        rl.hit("203.0.113.9")  # none refused: 4 requests against a burst of 10


def test_two_web_processes_share_the_anonymous_rate_limit(postgres, tmp_path):
    """Two `guidecast serve` (one of them with two web processes behind its port) on one PostgreSQL: the
    oEmbed route's burst of 6 is used up by requests spread over all of them, not 6 per process."""
    env = {"GUIDECAST_DATABASE_URL": postgres.create_database("ratelimit"), "GUIDECAST_DATA_DIR": str(tmp_path),
           "GUIDECAST_ANONYMOUS_BURST": "6", "GUIDECAST_ANONYMOUS_PER_S": "0.01", "GUIDECAST_TTS_ENGINE": "silent"}
    load_settings(environ=env)  # the shared secret key, once, before the processes start
    with serve_process(tmp_path, env) as one, serve_process(tmp_path, env, ("--web-processes", "2")) as two:
        import psutil

        assert len(psutil.Process(two.pid).children()) >= 2  # uvicorn's worker processes behind one port
        codes = []
        for i in range(12):
            with httpx.Client(timeout=10) as c:  # a new connection each: any process may take it
                base = (one, two)[i % 2]
                codes.append(c.get(f"{base}/oembed", params={"url": f"{base}/s/nothing"}).status_code)
        assert codes[:6] == [404] * 6 and codes[6:] == [429] * 6, codes  # 6 let through (no such link), then 429

        # a web process SIGKILLed: the others go on serving the port, and a new one takes its place
        def alive() -> set[int]:
            return {p.pid for p in psutil.Process(two.pid).children() if p.status() != psutil.STATUS_ZOMBIE}

        before = alive()
        os.kill(min(before), signal.SIGKILL)
        for _ in range(10):
            with httpx.Client(timeout=10) as c:
                assert c.get(f"{two}/signin").status_code == 200
        _wait(lambda: len(alive()) >= 2 and alive() != before, timeout=30)


# -- jobs on the queue ------------------------------------------------------------------------------------------

def _worker(env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # the worker's output, read when a test fails
    return subprocess.Popen([sys.executable, "-m", "guidecast", "worker"], env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _job(client, job_id: int) -> dict:
    return client.get(f"/api/jobs/{job_id}").json()


def _wait(what, timeout: float = 120, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {what.__doc__ or what}; {getattr(what, 'seen', '')}")
        time.sleep(every)


@pytest.mark.video
def test_jobs_run_in_two_workers_and_a_killed_render_is_retried_by_the_other(postgres, seaweed, tmp_path,
                                                                           submit_expense_capture, renders_video):
    """The cluster stack: PostgreSQL, the assets in SeaweedFS, the web process and two workers each with a
    folder of its own (nothing shared but the database and the bucket, as on three machines)."""
    from guidecast.server.app import settings_environ

    st = load_settings(environ={}, data_dir=tmp_path / "server", database_url=postgres.create_database("queue"),
                       jobs_backend="queue", **seaweed.settings(seaweed.create_bucket("queue-test")), tts_engine="silent", video_width=1280, video_height=720,
                       queue_heartbeat_s=0.5, queue_stalled_after_s=3, queue_stalled_cron="* * * * * */1")
    env = settings_environ(st)
    with running_server(st) as (url, app):
        assert app.state.ctx.jobs.alive() == 0  # this process runs no jobs: the workers do
        add_user(app, OWNER, "editor")
        workers = [_worker({**env, "GUIDECAST_DATA_DIR": str(tmp_path / f"worker{n}")}, tmp_path / f"worker{n}.log")
                   for n in range(2)]
        pids = {f"{os.uname().nodename}:{w.pid}"[:120]: w for w in workers}
        try:
            with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
                sign_in(c, OWNER)
                gid = upload(c, "c.zip", zip_folder(submit_expense_capture, "capture/")).json()["guide"]["id"]
                jobs = wait_jobs(c, gid)
                assert jobs[0]["kind"] == "compose" and jobs[0]["worker"] in pids
                publish(c, gid)
                v1 = c.get(f"/g/{gid}/v/1/files/video/guide.mp4")
                assert v1.status_code == 200 and v1.content[4:8] == b"ftyp"
                part = c.get(f"/g/{gid}/v/1/files/video/guide.mp4", headers={"Range": "bytes=0-99"})
                assert part.status_code == 206 and part.content == v1.content[:100]

                # a second version (a slower voice: every segment renders again), its render SIGKILLed mid-way
                # in whichever worker took it
                base = c.get(f"/api/guides/{gid}/edits").json()
                first = base["base"]["steps"][0]["id"]
                r = c.put(f"/api/guides/{gid}/edits", json={"base_revision": base["revision"],
                                                             "edits": {"rate": 120, "steps": {first: {"text": "Open **Expensely**."}}}})
                assert r.status_code == 200
                c.post(f"/api/guides/{gid}/publish", json={})

                def rendering():
                    """the version-2 render running with some progress"""
                    rendering.seen = c.get(f"/api/guides/{gid}/jobs").json()
                    js = [j for j in rendering.seen if j["kind"] == "render"
                          and j["result"] == {} and j["state"] == "running" and j["done"] > 0]
                    return js[0] if js else None

                job = _wait(rendering, timeout=60, every=0.05)
                victim = pids.pop(job["worker"])
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                v1_again = c.get(f"/g/{gid}/v/1/files/video/guide.mp4")
                assert v1_again.status_code == 200 and v1_again.content == v1.content  # the published video

                def finished():
                    """the killed render done by the other worker"""
                    j = _job(c, job["id"])
                    return j if j["state"] in ("done", "failed", "cancelled") else None

                end = _wait(finished, timeout=180, every=0.3)
                assert end["state"] == "done", end
                assert end["attempts"] == 2 and end["worker"] in pids  # the survivor
                # cancelling reaches the render in its worker process
                base = c.get(f"/api/guides/{gid}/edits").json()
                c.put(f"/api/guides/{gid}/edits", json={"base_revision": base["revision"],
                                                         "edits": {**base["edits"], "rate": 200}})
                c.post(f"/api/guides/{gid}/publish", json={})
                job3 = _wait(rendering, timeout=60, every=0.05)
                assert c.post(f"/api/jobs/{job3['id']}/cancel").status_code == 200
                cancelled = _wait(lambda: _job(c, job3["id"])["state"] in ("cancelled", "done", "failed"), timeout=60)
                assert cancelled and _job(c, job3["id"])["state"] == "cancelled"
                v2 = c.get(f"/g/{gid}/v/2/files/video/guide.mp4")
                assert v2.status_code == 200 and v2.content[4:8] == b"ftyp" and v2.content != v1.content
                probe = tmp_path / "v2.mp4"
                probe.write_bytes(v2.content)
                streams = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                                                     str(probe)], capture_output=True, check=True).stdout)
                assert {s["codec_type"] for s in streams["streams"]} >= {"video", "audio"}
            # every blob is in the bucket under its hash: the video the web process served came from there
            s3 = seaweed.client()
            keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="queue-test")
                    for o in page.get("Contents", [])}
            with app.state.ctx.db.session() as s:
                from guidecast.server.models import GuideVersion

                trees = [v.video_tree for v in s.query(GuideVersion).all() if v.video_tree]  # v3: cancelled
            assert len(trees) == 2
            for tree in trees:
                blobs = app.state.ctx.assets.tree(tree)
                assert {f"blobs/{h[:2]}/{h}" for h in [tree, *blobs.values()]} <= keys
        finally:
            for w in workers:
                if w.poll() is None:
                    _stop(w)


# -- fast learner pages ------------------------------------------------------------------------------------------

def _published_guide(app, c: httpx.Client, capture: Path) -> int:
    """The owner signed in on `c`; a guide uploaded from `capture`, composed and published: its id."""
    add_user(app, OWNER, "editor")
    sign_in(c, OWNER)
    gid = upload(c, "c.zip", zip_folder(capture, "capture/")).json()["guide"]["id"]
    wait_jobs(c, gid)
    publish(c, gid)
    return gid


def test_share_page_embed_and_oembed_render_once_per_version_with_etags_and_hashed_static(tmp_path, renders_video):
    from tests.fixtures.compose.synthetic import make_capture

    make_capture(tmp_path / "capture")
    st = load_settings(environ={}, data_dir=tmp_path / "server", tts_engine="silent", video_width=320, video_height=180)
    with running_server(st) as (url, app), httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c, \
            httpx.Client(base_url=url, timeout=30) as anon:
        gid = _published_guide(app, c, tmp_path / "capture")
        made = c.post(f"/api/guides/{gid}/links").json()
        link = made["url"]
        signed_in_page = c.get(f"/g/{gid}")
        assert signed_in_page.status_code == 200 and OWNER in signed_in_page.text  # a signed-in page names them
        pages = app.state.ctx.pages
        before = pages.renders
        first, second = anon.get(link), anon.get(link)
        assert first.status_code == second.status_code == 200 and first.text == second.text
        assert "set-cookie" not in first.headers  # nothing per visitor in it
        etag = first.headers["etag"]
        again = anon.get(link, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        embed = anon.get(link.replace("/s/", "/embed/"))
        assert embed.status_code == 200 and "frame-ancestors *" in embed.headers["content-security-policy"]
        served = pages.served
        oembed = [anon.get("/oembed", params={"url": link}) for _ in range(3)]
        assert {r.status_code for r in oembed} == {200} and oembed[0].json()["type"] == "video"
        assert oembed[1].json() == oembed[0].json() and oembed[1].headers["content-type"] == "application/json"
        assert pages.served - served == 2  # the second and third without the route
        narrow = anon.get("/oembed", params={"url": link, "maxwidth": 320})
        assert narrow.status_code == 200 and narrow.json()["width"] == 320  # another size: another answer
        assert anon.get("/oembed", params={"url": link, "format": "xml"}).status_code == 501  # the route says
        assert pages.renders - before == 4  # page, embed, oEmbed and the narrow oEmbed: once each
        # hashed static URLs: a year, immutable; the bare name revalidates
        css = next(u for u in first.text.split('"') if u.startswith("/static/app.css?v="))
        r = anon.get(css)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert anon.get("/static/app.css").headers["cache-control"] == "no-cache"
        guide_css = next(u for u in first.text.split('"') if u.startswith("/static/guide.css?v="))
        assert "immutable" in anon.get(guide_css).headers["cache-control"]
        # a revoked link stops at once, its page cached or not
        assert c.delete(f"/api/guides/{gid}/links/{made['id']}").status_code in (200, 204)
        assert anon.get(link).status_code in (404, 410)
        assert anon.get("/oembed", params={"url": link}).status_code in (404, 410)


def test_a_cached_share_page_costs_no_query_and_any_change_ends_it_in_every_process(postgres, tmp_path,
                                                                                  renders_video):
    """On PostgreSQL: the second and later visits of a share page make no query (LiveLinks); a revoke
    written by another process (its own connection, as a second web process or a worker would) ends the
    link within moments through the trigger's NOTIFY, though the answer would otherwise be kept a minute;
    an expiry is checked on every visit; a change made here ends it at once."""
    from datetime import timedelta

    from sqlalchemy import create_engine, text

    from tests.fixtures.compose.synthetic import make_capture

    make_capture(tmp_path / "capture")
    db_url = postgres.create_database("links")
    st = load_settings(environ={}, data_dir=tmp_path / "server", database_url=db_url, tts_engine="silent",
                       video_width=320, video_height=180)
    with running_server(st) as (url, app), httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c, \
            httpx.Client(base_url=url, timeout=30) as anon:
        def visit(link: str) -> int:
            anon.cookies.clear()  # an error page's session cookie would make the next visit a signed-in one
            return anon.get(link).status_code

        ctx = app.state.ctx
        ctx.links.ttl = 60.0  # only a notice or an expiry can end a known answer in this test
        gid = _published_guide(app, c, tmp_path / "capture")
        plain = c.post(f"/api/guides/{gid}/links").json()
        expiring = c.post(f"/api/guides/{gid}/links", params={"expires_days": 1}).json()
        for link in (plain["url"], expiring["url"]):
            assert visit(link) == 200  # rendered and cached
        before, served = ctx.links.lookups, ctx.pages.served
        for _ in range(10):
            assert visit(plain["url"]) == visit(expiring["url"]) == 200
        assert ctx.links.lookups - before <= 2  # each link looked up once at most, then known
        assert ctx.pages.served - served == 20  # every visit answered from the cache, without the route
        steady = ctx.links.lookups
        assert visit(plain["url"]) == 200 and ctx.links.lookups == steady
        # the expiry: checked on every visit, no notice needed
        real_clock = ctx.clock
        ctx.clock = lambda: real_clock() + timedelta(days=2)
        assert visit(expiring["url"]) == 410
        ctx.clock = real_clock
        # a revoke from another process: the trigger's notice reaches this one
        other = create_engine(db_url)
        with other.begin() as conn:
            conn.execute(text("UPDATE share_links SET revoked_at = now() WHERE id = :id"), {"id": plain["id"]})
        other.dispose()
        deadline = time.monotonic() + 5
        while visit(plain["url"]) == 200:
            assert time.monotonic() < deadline, "the revoke in another process was not heard"
            time.sleep(0.05)
        assert visit(plain["url"]) == 410
        # a change made in this process: at once
        assert visit(expiring["url"]) == 200
        assert c.delete(f"/api/guides/{gid}/links/{expiring['id']}").status_code in (200, 204)
        assert visit(expiring["url"]) in (404, 410)


@pytest.mark.browser
def test_scheduled_checks_come_from_the_queue_once_however_many_workers(postgres, seaweed, tmp_path, sample_app,
                                                                        submit_expense_workflow):
    """A workflow captured in a worker (Chromium there), then the queue's periodic tick (every second, in
    two workers) queues the due check: one at a time, each run once, the app unchanged."""
    from urllib.parse import urlsplit

    from guidecast.server.app import settings_environ

    st = load_settings(environ={}, data_dir=tmp_path / "server", database_url=postgres.create_database("ticks"),
                       jobs_backend="queue", **seaweed.settings(seaweed.create_bucket("ticks-test")),
                       tts_engine="silent", capture_allowed_hosts=[urlsplit(sample_app.url).netloc],
                       capture_env_vars=["EXPENSELY_PASSWORD"], check_interval_hours=0.002, check_cron="* * * * * */1")
    env = settings_environ(st)
    with running_server(st) as (url, app):
        assert app.state.ctx.scheduler._thread is None  # no scheduler thread in the web process
        add_user(app, OWNER, "editor")
        workers = [_worker({**env, "GUIDECAST_DATA_DIR": str(tmp_path / f"worker{n}")}, tmp_path / f"worker{n}.log")
                   for n in range(2)]
        try:
            with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
                sign_in(c, OWNER)
                r = upload(c, "submit-expense.yaml", submit_expense_workflow.read_bytes(), sample_app.url)
                assert r.status_code == 201, r.text
                gid = r.json()["guide"]["id"]
                wait_jobs(c, gid, 2, timeout=180)  # capture, compose

                def checks():
                    got = [j for j in c.get(f"/api/guides/{gid}/jobs").json() if j["kind"] == "check"]
                    return got if any(j["state"] == "done" for j in got) else None

                _wait(checks, timeout=120, every=0.5)
                time.sleep(3)  # three more ticks, each in two workers: the guide is due again, one check is queued
                jobs = sorted(checks(), key=lambda j: j["id"])
                assert sum(j["state"] in ("queued", "running") for j in jobs) <= 1, jobs  # never two at once
                for before, after in zip(jobs, jobs[1:], strict=False):  # each after the one before it ended
                    assert after["created_at"] >= before["finished_at"], jobs
                assert all(j["attempts"] == 1 and j["state"] != "failed" for j in jobs), jobs
                assert c.get(f"/api/guides/{gid}/checks").json()[0]["outcome"] == "unchanged"
        finally:
            for w in workers:
                if w.poll() is None:
                    _stop(w)
