"""The web app probed as an attacker (issue 14): every item reproduced against a real server on loopback
and asserted to hold. Uploaded files never run as script on the app's origin (checked in Chromium);
sign-in limits by account and real address; sessions that end; input budgets; no 500 for bad input."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, running_server, sign_in, upload
from tests.conftest import requires_browser

EDITOR, ADMIN, VIEWER = "ed@example.com", "admin@example.com", "viewer@example.com"
EVIL = {
    "evil.html": b'<!doctype html><script src="evil.js"></script><script>fetch("/pwned-inline")</script>'
                 b'<img src=x onerror="fetch(\'/pwned-onerror\')">',
    "evil.js": b'fetch("/pwned-js"); localStorage.setItem("pwned", "1");',
    "evil.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/pwned-svg-onload\')">'
                b'<script>fetch("/pwned-svg-script")</script></svg>',
    "page.png": b'<!doctype html><script>fetch("/pwned-png")</script>',  # a page named as a picture
    "evil.xhtml": b'<html xmlns="http://www.w3.org/1999/xhtml"><script>fetch("/pwned-xhtml")</script></html>',
}


class Site:
    def __init__(self, url, app):
        self.url, self.app, self.ctx = url, app, app.state.ctx
        self.clients: dict[str | None, httpx.Client] = {}

    def client(self, who: str | None = None) -> httpx.Client:
        if who not in self.clients:
            c = httpx.Client(base_url=self.url, follow_redirects=True, timeout=60)
            self.clients[who] = sign_in(c, who) if who else c
        return self.clients[who]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("security"), tts_engine="silent",
                       video_width=320, video_height=180, max_upload_pixels=60_000_000)
    with running_server(st) as (url, app):
        for email, role in ((EDITOR, "editor"), (ADMIN, "admin"), (VIEWER, "viewer")):
            add_user(app, email, role)
        s = Site(url, app)
        yield s
        for c in s.clients.values():
            c.close()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _entries(folder: Path, prefix: str = "") -> dict[str, bytes]:
    return {prefix + p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def output_entries(submit_expense_capture, submit_expense_guide) -> dict[str, bytes]:
    """A built output folder (capture/, guide/, video/, manifest.json) as zip entries. The video folder is
    written by hand (video.json naming the guide, an MP4 header): these tests are about names and types."""
    guide = json.loads((submit_expense_guide / "guide.json").read_text())
    video = {"schema_version": 2, "guide_id": guide["id"], "guide_title": guide["title"], "guide_dir": "../guide",
             "guide_version": 1, "workflow_path": "w.yaml", "workflow_sha256": "0" * 64, "capture_id": "cap-1",
             "engine": "silent", "engine_model": "silent", "voice": None, "rate": 165, "renderer_version": "gc-video-6",
             "settings": {"width": 320, "height": 180, "fps": 25, "pause": 0.6}, "segments": [], "duration": 1.0,
             "files": {"video": "guide.mp4", "captions_vtt": "guide.vtt", "captions_srt": "guide.srt",
                       "chapters": "chapters.vtt", "poster": "poster.png"}, "created_at": "2026-01-01T00:00:00+00:00"}
    poster = next((submit_expense_guide / "images").glob("*.png")).read_bytes()
    return {**_entries(submit_expense_capture, "capture/"), **_entries(submit_expense_guide, "guide/"),
            "manifest.json": b"{}", "CHANGELOG.md": b"# Changes\n", "video/video.json": json.dumps(video).encode(),
            "video/guide.mp4": b"\0\0\0\x18ftypmp42" + b"\0" * 64, "video/guide.vtt": b"WEBVTT\n\n",
            "video/guide.srt": b"1\n00:00:00,000 --> 00:00:01,000\nHi\n", "video/chapters.vtt": b"WEBVTT\n\n",
            "video/poster.png": poster, ".cache/segments/x.bin": b"cached"}


# -- 1. uploaded files never run as script ---------------------------------------------------------

def test_an_output_folder_upload_keeps_only_what_guidecast_uses(site, output_entries):
    r = upload(site.client(EDITOR), "out.zip", _zip(output_entries))
    assert r.status_code == 201, r.text
    from guidecast.server.models import Guide

    with site.ctx.db.session() as s:
        g = s.get(Guide, r.json()["guide"]["id"])
        trees = {"capture": g.capture_tree, "guide": g.base_tree, "video": g.base_video_tree}
    names = {k: set(site.ctx.assets.tree(t)) for k, t in trees.items()}
    assert "guide.json" in names["guide"] and not {"guide.html", "guide.md"} & names["guide"]
    assert not any(n.startswith("versions/") for n in names["guide"])
    assert names["video"] == {"video.json", "guide.mp4", "guide.vtt", "guide.srt", "chapters.vtt", "poster.png"}
    assert names["capture"] == {"capture.json"} | {n for n in names["capture"] if n.startswith("screenshots/")}


@pytest.mark.parametrize("where", ["video", "guide", "capture", "guide/images", ""])
@pytest.mark.parametrize("name", ["evil.html", "evil.js", "evil.svg"])
def test_an_upload_with_a_page_script_or_svg_is_refused(site, output_entries, where, name):
    rel = f"{where}/{name}" if where else name
    r = upload(site.client(EDITOR), "out.zip", _zip({**output_entries, rel: EVIL[name]}))
    assert r.status_code == 400, r.text
    assert f"refused: {rel} is not a file guidecast makes" in r.json()["detail"]


def test_a_capture_upload_with_a_stray_file_is_refused_and_a_page_named_png_is_not_stored(site, submit_expense_capture):
    entries = _entries(submit_expense_capture)
    r = upload(site.client(EDITOR), "c.zip", _zip({**entries, "notes.txt": b"hello"}))
    assert r.status_code == 400 and "refused: notes.txt" in r.json()["detail"]
    r = upload(site.client(EDITOR), "c.zip", _zip({**entries, "screenshots/page.png": EVIL["page.png"],
                                                   "screenshots/zeros.png": b"\0" * 400_000}))
    assert r.status_code == 201, r.text
    from guidecast.server.models import Guide

    with site.ctx.db.session() as s:
        tree = s.get(Guide, r.json()["guide"]["id"]).capture_tree
    assert not {"screenshots/page.png", "screenshots/zeros.png"} & set(site.ctx.assets.tree(tree))


def _published(ctx, tree: str, title: str) -> int:
    """A guide of EDITOR's, published, whose version 1 (guide and video) is the stored `tree`: its id."""
    from guidecast.server.models import Guide, GuideVersion, User

    with ctx.db.session() as s:
        owner = s.query(User).filter_by(email=EDITOR).one()
        g = Guide(title=title, owner_id=owner.id, status="published", base_tree=tree)
        s.add(g)
        s.flush()
        s.add(GuideVersion(guide_id=g.id, number=1, title=title, guide_tree=tree, video_tree=tree,
                           composed_guide_id="x"))
        return g.id


def _evil_guide(site, tmp_path) -> tuple[int, str]:
    """A published guide whose stored trees hold hostile files, as a store from before the upload allow-list
    may: returns (guide id, share token)."""
    folder = tmp_path / "evil"
    for sub in ("", "images/"):
        for name, data in EVIL.items():
            (folder / sub).mkdir(parents=True, exist_ok=True)
            (folder / sub / name).write_bytes(data)
    gid = _published(site.ctx, site.ctx.assets.put_tree(folder), "Evil")
    link = site.client(EDITOR).post(f"/api/guides/{gid}/links")
    assert link.status_code == 201, link.text
    return gid, link.json()["url"].rsplit("/", 1)[1]


def _file_urls(gid: int, token: str) -> list[str]:
    return [u for name in EVIL for sub in ("", "images/") for u in
            (f"/s/{token}/files/guide/{sub}{name}", f"/s/{token}/files/video/{sub}{name}",
             f"/g/{gid}/v/1/files/guide/{sub}{name}", f"/guides/{gid}/base/{sub}{name}")]


def test_asset_routes_serve_a_fixed_table_of_types(site, tmp_path):
    gid, token = _evil_guide(site, tmp_path)
    c = site.client(EDITOR)
    for url in _file_urls(gid, token):
        r = c.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff"
        csp = r.headers["content-security-policy"]
        assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp, url
        if url.endswith(".png"):
            assert r.headers["content-type"] == "image/png" and "content-disposition" not in r.headers
        else:
            assert r.headers["content-type"] == "application/octet-stream", url
            assert r.headers["content-disposition"].startswith("attachment"), url


@pytest.mark.browser
@requires_browser
def test_no_uploaded_file_runs_script_in_chromium(site, tmp_path):
    from playwright.sync_api import Error as PlaywrightError

    from guidecast.capture.browser import launch_browser

    gid, token = _evil_guide(site, tmp_path)
    cookie = site.client(ADMIN).cookies["guidecast_session"]
    requests: list[str] = []
    with launch_browser() as browser:
        ctx = browser.new_context(accept_downloads=True)
        ctx.add_cookies([{"name": "guidecast_session", "value": cookie, "url": site.url}])
        ctx.on("request", lambda req: requests.append(req.url))
        page = ctx.new_page()
        seen = 0
        for url in _file_urls(gid, token):
            try:
                page.goto(site.url + url, wait_until="load")
                page.wait_for_timeout(100)
                seen += 1
            except PlaywrightError as e:  # an attachment: Chromium downloads it and shows nothing
                assert "Download is starting" in str(e) or "ERR_ABORTED" in str(e), str(e)
        page.goto(site.url + "/api/me")
        stored = page.evaluate("() => localStorage.getItem('pwned')")
        ctx.close()
    assert seen >= 8  # the pictures (and the page named page.png) were opened, not downloaded
    assert stored is None
    assert [u for u in requests if "pwned" in u] == []
    assert any(u.endswith("/files/guide/evil.html") for u in requests)  # the hostile page was asked for


# -- 2. no lock-up: back-pressure, a job loop that survives anything ---------------------------------------

def test_the_gate_answers_503_with_retry_after_instead_of_stalling():
    import time

    import anyio

    from guidecast.server.capacity import Busy, Gate

    gate = Gate(slots=1, max_queued=1, wait_s=0.3)
    outcomes: list[str] = []

    async def hold():
        async with gate.slot():
            await anyio.sleep(1.0)

    async def ask(name: str):
        t0 = time.monotonic()
        try:
            async with gate.slot():
                outcomes.append(f"{name}: served")
        except Busy as e:
            assert e.status_code == 503 and e.headers["Retry-After"]
            outcomes.append(f"{name}: 503 after {time.monotonic() - t0:.1f}s")

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold)
            await anyio.sleep(0.05)
            tg.start_soon(ask, "waits")  # waits 0.3 s for the held slot, then 503
            await anyio.sleep(0.05)
            tg.start_soon(ask, "queue full")  # one already waits: 503 at once
        async with gate.slot():
            outcomes.append("after: served")

    anyio.run(main)
    assert outcomes[0] == "queue full: 503 after 0.0s"
    assert outcomes[1].startswith("waits: 503 after 0.")
    assert outcomes[2] == "after: served"


def _wait_state(site, job_id: int, timeout: float = 30) -> str:
    import time

    from guidecast.server.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with site.ctx.db.session() as s:
            state = s.get(Job, job_id).state
        if state in ("done", "failed", "cancelled"):
            return state
        time.sleep(0.1)
    return "still " + state


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the worker killed on purpose
def test_the_job_loop_survives_a_failing_database_and_a_dead_worker_is_started_again(site, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from guidecast.server.testing import start_ticking_job

    runner = site.ctx.jobs
    real_claim = runner._claim
    failures = iter([OperationalError("UPDATE jobs", {}, Exception("database is locked")), SystemExit(1)])

    def flaky_claim():
        e = next(failures, None)
        if e is not None:
            raise e  # first a database error (the loop logs it and goes on), then the worker thread dies
        return real_claim()

    monkeypatch.setattr(runner, "_claim", flaky_claim)
    job = start_ticking_job(site.app, None, ticks=2, every=0.05)
    assert _wait_state(site, job) == "done"
    assert runner.restarts >= 1 and runner.alive() == site.ctx.settings.job_workers


# -- 3. sign-in limits: the account as it is looked up, the real client address ---------------------------

def _signin(c: httpx.Client, email: str, password: str, headers: dict | None = None) -> int:
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text).group(1)
    return c.post("/signin", data={"email": email, "password": password, "csrf_token": token}, headers=headers,
                  follow_redirects=False).status_code


def test_signin_limit_counts_the_account_however_it_is_written(tmp_path):
    st = load_settings(environ={}, data_dir=tmp_path, signin_per_account=5, signin_per_ip=1000)
    with running_server(st) as (url, app), httpx.Client(base_url=url) as c:
        add_user(app, "rl@x.test", "viewer")
        variants = [" rl@x.test", "RL@X.TEST ", "rl@x.test\t", "Rl@x.test", "\u00a0rl@x.test", "ｒｌ@x.test",
                    "rl@x.test", " RL@x.test "]
        codes = [_signin(c, v, "wrong") for v in variants]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
        assert _signin(c, " rl@x.test", "password-123456") == 429  # locked, whatever the spelling


def test_signin_limit_per_address_ignores_forwarded_headers_unless_from_a_trusted_proxy(tmp_path):
    st = load_settings(environ={}, data_dir=tmp_path / "a", signin_per_ip=3, signin_per_account=100)
    with running_server(st) as (url, _app), httpx.Client(base_url=url) as c:
        codes = [_signin(c, f"u{i}@x.test", "x", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(4)]
    assert codes == [401, 401, 401, 429]  # the forged addresses bought no extra tries
    st = load_settings(environ={}, data_dir=tmp_path / "b", signin_per_ip=3, signin_per_account=100,
                       trusted_proxies=["127.0.0.1"])
    with running_server(st) as (url, _app), httpx.Client(base_url=url) as c:
        spread = [_signin(c, f"u{i}@x.test", "x", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(4)]
        same = [_signin(c, f"v{i}@x.test", "x", {"X-Forwarded-For": "198.51.100.7"}) for i in range(4)]
    assert spread == [401] * 4 and same == [401, 401, 401, 429]  # behind our proxy: per real client


def test_two_server_processes_on_one_database_share_the_sign_in_count(tmp_path):
    st = load_settings(environ={}, data_dir=tmp_path, signin_per_account=5, signin_per_ip=1000)
    with running_server(st) as (url_a, app), running_server(st) as (url_b, _), \
            httpx.Client(base_url=url_a) as a, httpx.Client(base_url=url_b) as b:
        add_user(app, "two@x.test", "viewer")
        codes = [_signin(c, "two@x.test", "wrong") for c in (a, b, a, b, a, b)]
    assert codes == [401] * 5 + [429]


def test_uvicorn_is_told_to_trust_no_proxy_headers():
    from fastapi import FastAPI

    from guidecast.server.app import uvicorn_config

    cfg = uvicorn_config(FastAPI(), "127.0.0.1", 8080)
    assert cfg.proxy_headers is False and cfg.forwarded_allow_ips in ("", [])


# -- 4. sessions that end ------------------------------------------------------------------------------------

def _copied(site, cookie: str) -> httpx.Client:
    c = httpx.Client(base_url=site.url, timeout=30)
    c.cookies.set("guidecast_session", cookie)
    return c


def test_sign_out_ends_every_session_of_the_user(site):
    add_user(site.app, "so@example.com", "viewer")
    a = sign_in(httpx.Client(base_url=site.url, follow_redirects=True, timeout=30), "so@example.com")
    b = sign_in(httpx.Client(base_url=site.url, follow_redirects=True, timeout=30), "so@example.com")
    stolen = _copied(site, a.cookies["guidecast_session"])
    assert stolen.get("/api/me").status_code == 200
    assert a.post("/signout").status_code == 200
    assert stolen.get("/api/me").status_code == 401  # the copied cookie no longer works
    assert b.get("/api/me").status_code == 401  # nor the other device's session
    assert sign_in(httpx.Client(base_url=site.url, follow_redirects=True, timeout=30),
                   "so@example.com").get("/api/me").status_code == 200


def test_a_new_password_and_deactivation_end_sessions(site):
    add_user(site.app, "pw@example.com", "editor")
    me = sign_in(httpx.Client(base_url=site.url, follow_redirects=True, timeout=30), "pw@example.com")
    other = _copied(site, me.cookies["guidecast_session"])
    r = me.post("/account/password", data={"current": "password-123456", "new": "another-password-1"})
    assert r.status_code == 200
    assert other.get("/api/me").status_code == 401 and me.get("/api/me").status_code == 200
    assert me.post("/account/password", data={"current": "wrong-password", "new": "x" * 12}).status_code == 403
    from guidecast.server.models import User

    with site.ctx.db.session() as s:
        uid = s.query(User).filter_by(email="pw@example.com").one().id
    admin = site.client(ADMIN)
    assert admin.post(f"/admin/users/{uid}", data={"role": "editor"}).status_code == 200  # active unticked
    assert me.get("/api/me").status_code == 401


# -- 5. YAML alias amplification ---------------------------------------------------------------------------

def test_a_workflow_of_aliases_is_refused_quickly(site):
    import time

    lines = ['a0: &a0 ["xxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxx", "xxxxxxxxxxxxxxxx"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 8) + "]" for i in range(1, 40)]
    lines += ["steps: [" + ", ".join(["*a39"] * 6000) + "]"]
    text = "\n".join(lines).encode()
    assert len(text) > 30_000
    t0 = time.monotonic()
    r = upload(site.client(EDITOR), "bomb.yaml", text, "http://127.0.0.1:1")
    assert r.status_code == 400 and "aliases" in r.json()["detail"], r.text
    assert time.monotonic() - t0 < 5


# -- 6. the beacon: a small body read incrementally, a rate limit ------------------------------------------

def _beacon_ctx(site, gid: int) -> str:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(site.ctx.settings.secret_key, salt="beacon").dumps([gid, 1, 3])  # guide, version, steps


def test_beacon_refuses_big_bodies_without_reading_them(site, tmp_path):
    c = site.client()
    assert c.post("/api/beacon", content=b"x" * 100_000).status_code == 413

    def stream():
        yield b'{"kind": "view", "sid": "'
        for _ in range(1000):
            yield b"x" * 1000
    assert c.post("/api/beacon", content=stream()).status_code == 413


def test_a_replayed_beacon_counts_once(site, tmp_path):
    from sqlalchemy import func, select

    from guidecast.server.models import Event

    gid, _ = _evil_guide(site, tmp_path)
    body = {"ctx": _beacon_ctx(site, gid), "kind": "view", "sid": "learner-1"}
    for _ in range(5):
        assert site.client().post("/api/beacon", json=body).status_code == 204
    with site.ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.guide_id == gid)) == 1


def test_anonymous_endpoints_are_rate_limited_per_client(tmp_path):
    st = load_settings(environ={}, data_dir=tmp_path, anonymous_per_s=1, anonymous_burst=10)
    with running_server(st) as (url, _app), httpx.Client(base_url=url) as c:
        codes = [c.post("/api/beacon", content=b"{}").status_code for _ in range(15)]
        oembed = c.get("/oembed", params={"url": url + "/s/x"})
    assert codes[:10] == [400] * 10 and set(codes[10:]) == {429}
    assert oembed.status_code == 429 and oembed.headers["Retry-After"]


# -- 7. decode budget per upload -----------------------------------------------------------------------------

def test_one_big_picture_named_by_every_step_is_refused_by_the_upload_budget(site, tmp_path):
    import time

    from PIL import Image

    from tests.fixtures.compose.synthetic import make_capture

    cap_dir = tmp_path / "cap"
    make_capture(cap_dir)
    data = json.loads((cap_dir / "capture.json").read_text())
    big = cap_dir / "screenshots" / "big.png"
    Image.new("RGB", (4000, 4000), (250, 250, 250)).save(big)
    for step in data["steps"]:
        step["screenshot"] = "big.png"
    if data.get("final_screenshot"):
        data["final_screenshot"] = "big.png"
    (cap_dir / "capture.json").write_text(json.dumps(data))
    for p in (cap_dir / "screenshots").iterdir():
        if p.name != "big.png":
            p.unlink()
    t0 = time.monotonic()
    r = upload(site.client(EDITOR), "big.zip", _zip(_entries(cap_dir)))
    assert r.status_code == 413 and "megapixels in all" in r.json()["detail"], r.text
    assert time.monotonic() - t0 < 10


# -- 9. bad input is a 4xx, never a 500 --------------------------------------------------------------------

def test_bad_zips_are_400(site):
    c = site.client(EDITOR)
    r = upload(c, "empty.zip", _zip({}))
    assert r.status_code == 400 and "empty" in r.json()["detail"]
    r = upload(c, "clash.zip", _zip({"capture.json": b"{}", "a": b"file", "a/b": b"inside"}))
    assert r.status_code == 400 and "clashes" in r.json()["detail"]
    r = upload(c, "clash.zip", _zip({"capture.json": b"{}", "a/b": b"inside", "a": b"file"}))
    assert r.status_code == 400 and "clashes" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/guides/{big}", "/g/{big}", "/g/1/v/{big}", "/api/jobs/{big}",
                                  "/api/guides/1/diff?a={big}&b=1", "/guides/{big}/base/x.png",
                                  "/g/1/v/{big}/files/guide/guide.json"])
def test_ids_beyond_64_bits_are_422(site, path):
    r = site.client(EDITOR).get(path.format(big=2**64), headers={"Accept": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text[:200])


def test_huge_revisions_and_odd_expiry_are_422(site, tmp_path):
    gid, _ = _evil_guide(site, tmp_path)
    c = site.client(EDITOR)
    r = c.put(f"/api/guides/{gid}/edits", json={"base_revision": 10**30, "edits": {}})
    assert r.status_code == 422
    r = c.post(f"/api/guides/{gid}/publish", json={"revision": 10**30})
    assert r.status_code == 422
    for days in ("nan", "inf", "-inf", "1e300", "0", "-1"):
        assert c.post(f"/api/guides/{gid}/links", params={"expires_days": days}).status_code == 422, days
        assert c.post(f"/guides/{gid}/links", data={"expires_days": days}).status_code == 422, days
    assert c.post(f"/api/guides/{gid}/links", params={"version": 10**30}).status_code == 422


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]:99999/s/x", "http://a:b:c/s/x", "x" * 3000])
def test_oembed_with_a_broken_url_is_4xx(site, url):
    r = site.client().get("/oembed", params={"url": url})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])


# -- 10. the lesser items --------------------------------------------------------------------------------------

def test_share_links_do_not_come_from_the_host_header(site, tmp_path):
    gid, _ = _evil_guide(site, tmp_path)
    r = site.client(EDITOR).post(f"/api/guides/{gid}/links", headers={"Host": "evil.example"})
    assert r.status_code == 201
    assert r.json()["url"].startswith(site.url + "/s/") and "evil.example" not in r.text


def test_viewers_see_no_draft_badge(site, tmp_path):
    from guidecast.server.models import GuideVersion

    gid, _ = _evil_guide(site, tmp_path)
    with site.ctx.db.session() as s:
        first = s.query(GuideVersion).filter_by(guide_id=gid, number=1).one()
        s.add(GuideVersion(guide_id=gid, number=2, title="Evil", guide_tree=first.guide_tree,
                           composed_guide_id="y", draft=True))
    viewer = {g["id"]: g for g in site.client(VIEWER).get("/api/guides").json()}[gid]
    editor = {g["id"]: g for g in site.client(EDITOR).get("/api/guides").json()}[gid]
    assert not any("draft" in b for b in viewer["badges"])
    assert "draft version 2 to review" in editor["badges"]
    assert "draft version" not in site.client(VIEWER).get("/").text


@pytest.mark.parametrize("url", ["http://127.0.0.1:8402\\@127.0.0.1:8401/", "http://u@127.0.0.1:8401/",
                                 "http://127.0.0.1:8401/a b", "http://127.0.0.1:8401/\t"])
def test_allowlist_refuses_urls_a_browser_reads_differently(url):
    from guidecast.server.allowlist import NotAllowed, check_url

    check_url("http://127.0.0.1:8401/", ["127.0.0.1:8401"])
    with pytest.raises(NotAllowed):
        check_url(url, ["127.0.0.1:8401"])


@pytest.mark.parametrize("addr", ["::ffff:169.254.169.254", "0.0.0.0", "::", "fe80::1", "224.0.0.1"])
def test_allowlisted_names_resolving_to_metadata_or_unspecified_addresses_are_refused(addr, monkeypatch):
    import socket

    from guidecast.server.allowlist import NotAllowed, check_url

    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(family, socket.SOCK_STREAM, 6, "", (addr, 80))])
    with pytest.raises(NotAllowed, match="refused"):
        check_url("http://app.internal/", ["app.internal"])


def test_errors_do_not_show_the_servers_folders(site, submit_expense_capture):
    entries = _entries(submit_expense_capture)
    entries["capture.json"] = b'{"schema_version": 1, "bogus": true}'
    r = upload(site.client(EDITOR), "c.zip", _zip(entries))
    assert r.status_code == 400 and "capture.json" in r.text
    assert str(site.ctx.settings.data_dir) not in r.text and "/tmp" not in r.text


# -- 8. storage: kept by what guidecast keeps; deleting a guide frees what only it used; bounded caches ----

def _age(folder: Path, seconds: float = 7200) -> None:
    import os
    import time

    old = time.time() - seconds
    for p in folder.rglob("*"):
        if p.is_file():
            os.utime(p, (old, old))


def test_deleting_a_guide_deletes_what_only_it_referenced(site, tmp_path):
    from PIL import Image

    from guidecast.server.models import Guide, Job
    from tests.fixtures.compose.synthetic import make_capture

    make_capture(tmp_path / "cap")
    c = site.client(EDITOR)
    shared = upload(c, "a.zip", _zip(_entries(tmp_path / "cap"))).json()["guide"]["id"]
    # the same capture with one screenshot of its own: only that one (and its tree) belong to the second guide
    data = json.loads((tmp_path / "cap" / "capture.json").read_text())
    Image.new("RGB", (64, 48), (1, 2, 3)).save(tmp_path / "cap" / "screenshots" / "own.png")
    data["steps"][0]["screenshot"] = "own.png"
    (tmp_path / "cap" / "capture.json").write_text(json.dumps(data))
    r = upload(c, "b.zip", _zip(_entries(tmp_path / "cap")))
    assert r.status_code == 201, r.text
    mine = r.json()["guide"]["id"]
    assets = site.ctx.assets
    with site.ctx.db.session() as s:
        trees = {g: s.get(Guide, g).capture_tree for g in (shared, mine)}
    own_blob = assets.tree(trees[mine])["screenshots/own.png"]
    shared_blobs = set(assets.tree(trees[shared]).values())
    _age(assets.root)
    assert c.post(f"/guides/{mine}/delete").status_code == 200
    with site.ctx.db.session() as s:
        gc_job = s.query(Job).filter_by(kind="gc").order_by(Job.id.desc()).first().id
    assert _wait_state(site, gc_job) == "done"
    assert not assets.blob_path(own_blob).exists() and not assets.blob_path(trees[mine]).exists()
    assert all(assets.blob_path(b).exists() for b in shared_blobs)
    assert assets.blob_path(trees[shared]).exists()


def test_the_cache_is_pruned_least_recently_used_first(tmp_path):
    import os
    import time

    from guidecast.server.storage import prune

    cache = tmp_path / "cache"
    (cache / "segments").mkdir(parents=True)
    now = time.time()
    for i in range(10):  # 10 files of 100 KB, used one hour apart
        p = cache / "segments" / f"s{i}.mp4"
        p.write_bytes(b"x" * 100_000)
        os.utime(p, (now - (10 - i) * 3600, now - (10 - i) * 3600))
    (cache / "segments" / ".work.p1.tmp").write_bytes(b"x" * 500_000)  # a scratch entry: not the cache's
    deleted, freed = prune(cache, 450_000)
    assert (deleted, freed) == (6, 600_000)
    assert sorted(p.name for p in (cache / "segments").glob("s*")) == ["s6.mp4", "s7.mp4", "s8.mp4", "s9.mp4"]


def test_guidecast_gc_command(tmp_path):
    from click.testing import CliRunner

    from guidecast.cli import cli
    from guidecast.server.app import make_context

    ctx = make_context(load_settings(environ={}, data_dir=tmp_path))
    orphan = ctx.assets.put_bytes(b"nobody refers to this")
    _age(ctx.assets.root)
    r = CliRunner().invoke(cli, ["gc", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "deleted 1 files" in r.output and not ctx.assets.blob_path(orphan).exists()


def test_share_tokens_are_not_stored_in_the_database(site, tmp_path):
    gid, token = _evil_guide(site, tmp_path)
    with site.ctx.db.engine.connect() as conn:
        dump = "\n".join(conn.connection.iterdump())
    assert token not in dump
    assert site.client().get(f"/s/{token}/files/guide/page.png").status_code == 200
    assert f"/s/{token}" in site.client(EDITOR).get(f"/guides/{gid}").text  # derived again for its editors


def test_a_link_made_before_tokens_were_hashed_still_opens(tmp_path):
    from alembic import command
    from alembic.config import Config
    from PIL import Image
    from sqlalchemy import text

    from guidecast.server.assets import AssetStore
    from guidecast.server.db import MIGRATIONS_DIR, make_engine, sqlite_url

    (tmp_path / "tree").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "tree" / "a.png")
    tree = AssetStore(tmp_path / "assets").put_tree(tmp_path / "tree")
    engine = make_engine(sqlite_url(tmp_path))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:  # a database as the revision before hashing left it, with a plain token
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text("INSERT INTO users (id, email, password_hash, role, active, created_at, session_gen) "
                          "VALUES (1, 'old@x.test', 'x', 'editor', 1, '2026-01-01', 0)"))
        conn.execute(text("INSERT INTO guides (id, title, owner_id, status, tags_json, created_at, updated_at, "
                          "search_text) VALUES (1, 'Old', 1, 'published', '[]', '2026-01-01', '2026-01-01', '')"))
        conn.execute(text("INSERT INTO guide_versions (guide_id, number, title, guide_tree, composed_guide_id, "
                          "edits_json, edits_revision, created_at, draft) VALUES (1, 1, 'Old', :t, 'x', '{}', 0, "
                          "'2026-01-01', 0)"), {"t": tree})
        conn.execute(text("INSERT INTO share_links (guide_id, token, created_at) VALUES (1, 'plain-old-token', "
                          "'2026-01-01')"))
    engine.dispose()
    st = load_settings(environ={}, data_dir=tmp_path)
    with running_server(st) as (url, app), httpx.Client(base_url=url) as c:  # migrates to the newest revision
        assert c.get("/s/plain-old-token/files/guide/a.png").status_code == 200
        with app.state.ctx.db.engine.connect() as conn:
            assert "plain-old-token" not in "\n".join(conn.connection.iterdump())


# -- user files from a separate origin (USER_FILES_URL) --------------------------------------------------
@pytest.mark.browser
@requires_browser
def test_with_a_files_origin_pictures_and_video_come_from_it_with_signed_links(tmp_path, submit_expense_guide):
    """127.0.0.1 and localhost are two origins of one server: the app on the first, files on the second. The
    learner page's pictures load in Chromium from the files origin; a link opened on the app's origin, a forged
    or an expired one is refused; the models' JSON stays on the app's origin."""
    from guidecast.capture.browser import launch_browser
    from guidecast.server import user_files
    from guidecast.server.testing import free_port

    port = free_port()
    st = load_settings(environ={}, data_dir=tmp_path / "data", tts_engine="silent",
                       user_files_url=f"http://localhost:{port}")
    with running_server(st, port=port) as (url, app):
        add_user(app, EDITOR, "editor")
        ctx = app.state.ctx
        tree = ctx.assets.put_tree(submit_expense_guide)
        gid = _published(ctx, tree, "Expenses")
        c = sign_in(httpx.Client(base_url=url, timeout=60), EDITOR)
        link = c.post(f"/api/guides/{gid}/links").json()["url"]
        image = next(p.relative_to(submit_expense_guide) for p in (submit_expense_guide / "images").glob("*.png"))
        r = httpx.get(f"{link}/files/guide/{image}")
        assert r.status_code == 307 and r.headers["location"].startswith(f"http://localhost:{port}/files/")
        moved = r.headers["location"]
        got = httpx.get(moved)
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert got.content == (submit_expense_guide / image).read_bytes()
        assert "sandbox" in got.headers["content-security-policy"]
        assert httpx.get(moved.replace("localhost", "127.0.0.1")).status_code == 404  # never on the app origin
        token = moved.split("/files/")[1].split("/")[0]
        assert httpx.get(moved.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))).status_code == 404
        stale = user_files._signer(ctx).dumps([tree, str(image), 1_000_000])
        assert httpx.get(f"http://localhost:{port}/files/{stale}/x.png").status_code == 403
        assert httpx.get(f"{link}/files/guide/guide.json").status_code == 200  # the app's scripts read it here
        loaded: list[str] = []
        with launch_browser() as browser:
            page = browser.new_page()
            page.on("response", lambda resp: loaded.append(resp.url) if resp.status == 200 and
                    resp.headers.get("content-type") == "image/png" else None)
            page.goto(link, wait_until="load")
            page.wait_for_load_state("networkidle")
            broken = page.evaluate("() => [...document.images].filter(i => i.complete && !i.naturalWidth).length")
        assert broken == 0
        assert loaded and all(u.startswith(f"http://localhost:{port}/files/") for u in loaded), loaded
