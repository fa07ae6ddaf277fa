"""The web app over real HTTP (uvicorn on loopback): accounts, permissions on every route, CSRF,
optimistic concurrency, XSS, sharing, oEmbed, analytics, uploads and the capture allowlist."""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from guidecast.server.models import Job
from guidecast.server.settings import load_settings
from guidecast.server.testing import (
    add_user,
    publish,
    running_server,
    sign_in,
    start_ticking_job,
    upload,
    wait_jobs,
    zip_folder,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ADMIN, OWNER, OTHER, MEMBER, VIEWER = "admin@example.com", "owner@example.com", "other@example.com", \
    "member@example.com", "viewer@example.com"


class Env:
    """The running server, one signed-in client per user, a published guide and a draft guide."""

    def __init__(self, url, app):
        self.url, self.app = url, app
        self.clients: dict[str | None, httpx.Client] = {}

    def client(self, who: str | None) -> httpx.Client:
        if who not in self.clients:
            c = httpx.Client(base_url=self.url, follow_redirects=who is not None, timeout=60)
            self.clients[who] = sign_in(c, who) if who else c
        return self.clients[who]

    def fresh(self, who: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=self.url, follow_redirects=True, timeout=60)
        return sign_in(c, who) if who else c


@pytest.fixture(scope="module")
def env(tmp_path_factory, submit_expense_capture, sample_app, renders_video):
    host = urlsplit(sample_app.url).netloc
    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("server"), tts_engine="silent",
                       video_width=320, video_height=180, capture_allowed_hosts=[host],
                       capture_env_vars=["EXPENSELY_PASSWORD"])
    with running_server(st) as (url, app):
        e = Env(url, app)
        for email, role in ((ADMIN, "admin"), (OWNER, "editor"), (OTHER, "editor"), (MEMBER, "editor"),
                            (VIEWER, "viewer")):
            add_user(app, email, role)
        e.bundle = zip_folder(submit_expense_capture, "capture/")
        owner = e.client(OWNER)
        e.published = upload(owner, "capture.zip", e.bundle).json()["guide"]["id"]
        e.draft = upload(owner, "capture.zip", e.bundle).json()["guide"]["id"]
        wait_jobs(owner, e.published)
        wait_jobs(owner, e.draft)
        publish(owner, e.published)
        r = owner.post(f"/guides/{e.published}/members", data={"email": MEMBER})
        assert r.status_code == 200
        e.link = owner.post(f"/api/guides/{e.published}/links").json()
        e.token = e.link["url"].rsplit("/", 1)[1]
        yield e
        for c in e.clients.values():
            c.close()


def edits(client, gid):
    return client.get(f"/api/guides/{gid}/edits").json()


# -- accounts, sessions, CSRF, tokens -------------------------------------------------------------

def test_signin_rejects_wrong_password_and_rate_limits_per_account(env):
    c = env.fresh()
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text).group(1)
    codes = [c.post("/signin", data={"email": VIEWER.upper(), "password": "wrong", "csrf_token": token}).status_code
             for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # the right password is refused too while the account is locked
    assert c.post("/signin", data={"email": VIEWER, "password": "password-123456", "csrf_token": token}).status_code == 429
    env.app.state.ctx.limiter.succeeded(VIEWER)  # unlock for the other tests


def test_signin_rate_limit_per_ip(tmp_path):
    st = load_settings(environ={}, data_dir=tmp_path, signin_per_ip=3, signin_per_account=100)
    with running_server(st) as (url, _app), httpx.Client(base_url=url) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text).group(1)
        codes = [c.post("/signin", data={"email": f"u{i}@example.com", "password": "x", "csrf_token": token}).status_code
                 for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_signin_needs_csrf_and_next_stays_on_site(env):
    c = env.fresh()
    assert c.post("/signin", data={"email": ADMIN, "password": "password-123456"}).status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/signin").text).group(1)
    r = c.post("/signin", data={"email": ADMIN, "password": "password-123456", "csrf_token": token,
                                "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_mutations_without_csrf_token_are_refused(env):
    owner = env.client(OWNER)
    no_csrf = {"X-CSRF-Token": "wrong"}
    r = owner.put(f"/api/guides/{env.draft}/edits", json={"base_revision": 0, "edits": {}}, headers=no_csrf)
    assert r.status_code == 403
    r = owner.post(f"/guides/{env.draft}/settings", data={"status": "draft", "csrf_token": "nope"}, headers=no_csrf)
    assert r.status_code == 403


def test_api_token_hashed_at_rest_works_without_csrf_and_can_be_revoked(env):
    c = env.fresh(OTHER)
    html = c.post("/account/tokens", data={"name": "ci"}).text
    token = re.search(r'id="new-token">([^<]+)<', html).group(1)
    with env.app.state.ctx.db.engine.connect() as conn:
        dump = "\n".join(conn.connection.iterdump())
    assert token not in dump
    with httpx.Client(base_url=env.url) as api:
        auth = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/me", headers=auth).json()["email"] == OTHER
        r = api.post("/api/guides", headers=auth, files={"file": ("c.zip", env.bundle)})
        assert r.status_code == 201, r.text
        tid = re.search(r'/account/tokens/(\d+)/revoke', c.get("/account").text).group(1)
        c.post(f"/account/tokens/{tid}/revoke")
        assert api.get("/api/me", headers=auth).status_code == 401


def test_cli_user_add_creates_the_first_admin(tmp_path):
    from click.testing import CliRunner

    from guidecast.cli import cli

    args = ["user", "add", "first@example.com", "--role", "admin", "--data-dir", str(tmp_path)]
    r = CliRunner().invoke(cli, args, input="long-enough-pw\nlong-enough-pw\n")
    assert r.exit_code == 0, r.output
    assert "first@example.com (admin) created" in r.output
    st = load_settings(environ={}, data_dir=tmp_path)
    with running_server(st) as (url, _app), httpx.Client(base_url=url, follow_redirects=True) as c:
        sign_in(c, "first@example.com", "long-enough-pw")
        assert c.get("/api/me").json()["role"] == "admin"


# -- permissions: every route ---------------------------------------------------------------------

# (method, path) -> who may use it: public | viewer (any signed-in user; guide visibility applies) |
# editor (editor of that guide) | admin. Every route of the app must be listed here.
ACCESS = {
    ("GET", "/signin"): "public", ("POST", "/signin"): "public", ("POST", "/signout"): "public",
    ("GET", "/openapi.json"): "public", ("GET", "/docs"): "public", ("GET", "/redoc"): "public", ("GET", "/static/guide.css"): "public",
    ("GET", "/s/{token}"): "public", ("GET", "/s/{token}/files/{path:path}"): "public",
    ("GET", "/embed/{token}"): "public", ("GET", "/oembed"): "public", ("POST", "/api/beacon"): "public",
    ("GET", "/files/{token}/{name}"): "public",  # signed links on USER_FILES_URL (test_server_security)
    ("GET", "/favicon.ico"): "public",
    ("GET", "/account"): "viewer", ("POST", "/account/tokens"): "viewer",
    ("POST", "/account/tokens/{token_id}/revoke"): "viewer", ("GET", "/api/me"): "viewer",
    ("POST", "/account/password"): "viewer",
    ("GET", "/"): "viewer", ("GET", "/api/guides"): "viewer", ("GET", "/api/guides/{guide_id}"): "viewer",
    ("GET", "/g/{guide_id}"): "viewer", ("GET", "/g/{guide_id}/v/{number}"): "viewer",
    ("GET", "/g/{guide_id}/v/{number}/files/{path:path}"): "viewer",
    ("GET", "/admin/users"): "admin", ("POST", "/admin/users"): "admin", ("POST", "/admin/users/{user_id}"): "admin",
    ("POST", "/guides/upload"): "editor", ("POST", "/api/guides"): "editor",
    ("GET", "/guides/{guide_id}"): "editor", ("POST", "/guides/{guide_id}/settings"): "editor",
    ("POST", "/guides/{guide_id}/members"): "editor", ("POST", "/guides/{guide_id}/members/{user_id}/remove"): "editor",
    ("POST", "/guides/{guide_id}/capture"): "editor", ("POST", "/guides/{guide_id}/delete"): "editor",
    ("GET", "/guides/{guide_id}/edit"): "editor", ("GET", "/api/guides/{guide_id}/edits"): "editor",
    ("PUT", "/api/guides/{guide_id}/edits"): "editor", ("POST", "/api/guides/{guide_id}/publish"): "editor",
    ("POST", "/api/guides/{guide_id}/voice-preview"): "editor", ("GET", "/api/guides/{guide_id}/versions"): "editor",
    ("GET", "/api/voices"): "editor",
    ("GET", "/api/guides/{guide_id}/diff"): "editor", ("GET", "/guides/{guide_id}/diff"): "editor",
    ("GET", "/guides/{guide_id}/base/{path:path}"): "editor", ("POST", "/guides/{guide_id}/links"): "editor",
    ("POST", "/api/guides/{guide_id}/links"): "editor", ("POST", "/guides/{guide_id}/links/{link_id}/revoke"): "editor",
    ("DELETE", "/api/guides/{guide_id}/links/{link_id}"): "editor", ("GET", "/guides/{guide_id}/analytics.csv"): "editor",
    ("GET", "/api/jobs/{job_id}"): "editor", ("POST", "/api/jobs/{job_id}/cancel"): "editor",
    ("GET", "/api/jobs/{job_id}/events"): "editor",
    ("GET", "/api/guides/{guide_id}/jobs"): "editor",
    ("POST", "/api/guides/{guide_id}/check"): "editor", ("POST", "/guides/{guide_id}/check"): "editor",
    ("GET", "/api/guides/{guide_id}/checks"): "editor", ("GET", "/api/guides/{guide_id}/checks/{check_id}"): "editor",
    ("GET", "/guides/{guide_id}/checks/{check_id}/report"): "editor",
    ("POST", "/api/guides/{guide_id}/refresh"): "editor", ("POST", "/guides/{guide_id}/refresh"): "editor",
    ("POST", "/api/guides/{guide_id}/versions/{number}/publish"): "editor",
    ("POST", "/guides/{guide_id}/versions/{number}/publish"): "editor",
    ("GET", "/api/guides/{guide_id}/versions/{number}/export/html"): "editor",
    ("GET", "/api/guides/{guide_id}/versions/{number}/export/markdown"): "editor",
    ("GET", "/api/guides/{guide_id}/versions/{number}/export/scorm"): "editor",
    ("POST", "/api/guides/{guide_id}/versions/{number}/exports"): "editor",
    ("GET", "/api/guides/{guide_id}/exports/{job_id}"): "editor",
    # learning: practice, the knowledge check, records (server/routes_practice.py)
    ("GET", "/g/{guide_id}/v/{number}/practice"): "viewer", ("GET", "/g/{guide_id}/v/{number}/check"): "viewer",
    ("GET", "/s/{token}/practice"): "public", ("GET", "/s/{token}/check"): "public",
    ("GET", "/embed/{token}/practice"): "public", ("GET", "/embed/{token}/check"): "public",
    ("POST", "/api/learn/opened"): "public", ("POST", "/api/learn/practice"): "public",
    ("POST", "/api/learn/check"): "public",
    ("GET", "/api/guides/{guide_id}/quiz"): "editor", ("PUT", "/api/guides/{guide_id}/quiz"): "editor",
    ("POST", "/api/guides/{guide_id}/quiz/generate"): "editor", ("GET", "/guides/{guide_id}/quiz"): "editor",
    ("GET", "/api/guides/{guide_id}/learners"): "editor", ("GET", "/guides/{guide_id}/learners"): "editor",
    ("GET", "/guides/{guide_id}/learners.csv"): "editor",
    # the browser extension's recordings (server/routes_recordings.py): an upload belongs to its editor
    ("POST", "/api/recordings"): "editor", ("GET", "/api/recordings/{upload_id}"): "editor",
    ("PUT", "/api/recordings/{upload_id}"): "editor", ("POST", "/api/recordings/{upload_id}/finish"): "editor",
    ("GET", "/recorder"): "editor", ("GET", "/recorder/guidecast-recorder.zip"): "editor",
}


def app_routes(app) -> set[tuple[str, str]]:
    out = set()

    def walk(routes):
        for r in routes:
            if hasattr(r, "original_router"):
                walk(r.original_router.routes)
            elif hasattr(r, "methods") and r.methods:
                out.update((m, r.path) for m in r.methods if m != "HEAD")
    walk(app.routes)
    return out


def _url(path: str, guide: int, env: Env) -> str:
    values = {"guide_id": guide, "number": 1, "token": env.token, "path": "guide/guide.json", "token_id": 1,
              "user_id": 1, "link_id": 999, "job_id": 1, "check_id": 1, "upload_id": "0" * 32,
              "name": "x.png"}
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: str(values[m.group(1)]), path)


def _call(client, method, url):
    kw = {"data": {"email": "x@example.com", "status": "draft", "role": "viewer", "password": "p" * 12}} \
        if method == "POST" and not url.startswith("/api/") else {}
    if method == "PUT" or (method == "POST" and url.startswith("/api/") and "beacon" not in url):
        kw = {"json": {"base_revision": 0, "edits": {}, "text": "hi"}}
    return client.request(method, url, params={"a": 1, "b": 1, "url": "x"}, **kw)


# What a signed-out visitor gets from each public route, called as `_call` calls it.
PUBLIC_STATUS = {
    ("GET", "/signin"): 200, ("POST", "/signin"): 403, ("POST", "/signout"): 403, ("GET", "/openapi.json"): 200,
    ("GET", "/docs"): 200, ("GET", "/redoc"): 200, ("GET", "/static/guide.css"): 200, ("GET", "/s/{token}"): 200,
    ("GET", "/s/{token}/files/{path:path}"): 200, ("GET", "/embed/{token}"): 200, ("GET", "/oembed"): 404,
    ("POST", "/api/beacon"): 400, ("GET", "/files/{token}/{name}"): 404,  # no USER_FILES_URL here
    ("GET", "/favicon.ico"): 200,
    ("GET", "/s/{token}/practice"): 200, ("GET", "/s/{token}/check"): 200, ("GET", "/embed/{token}/practice"): 200,
    ("GET", "/embed/{token}/check"): 200,
    # the learner's records need the signed token of a learner page (`ctx`)
    ("POST", "/api/learn/opened"): 422, ("POST", "/api/learn/practice"): 422, ("POST", "/api/learn/check"): 422,
}


def test_every_route_is_in_the_access_table(env):
    assert app_routes(env.app) == set(ACCESS)


@pytest.mark.parametrize("route", sorted(ACCESS), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_access(env, route):
    method, path = route
    level = ACCESS[route]
    anon = env.client(None)
    r = _call(anon, method, _url(path, env.draft, env))
    if level == "public":
        assert r.status_code == PUBLIC_STATUS[route], (r.status_code, r.text[:200])
    else:  # signed out: redirected to sign in (pages) or 401 (API); never the draft
        assert r.status_code in (401, 403, 303), (r.status_code, r.text[:200])
        if r.status_code == 303:
            assert r.headers["location"].startswith("/signin")
    if level in ("editor", "admin"):
        # editor routes of one guide (or its jobs): the viewer and an editor it is not shared with are refused
        scoped = "{guide_id}" in path or "{job_id}" in path
        for who in (VIEWER, OTHER) if level == "editor" and scoped else (VIEWER,) if level == "editor" else (VIEWER, OWNER):
            r = _call(env.client(who), method, _url(path, env.draft, env))
            assert r.status_code in (403, 404), (who, r.status_code, r.text[:200])
    if level == "viewer" and "{guide_id}" in path:  # a viewer sees published guides only
        r = _call(env.client(VIEWER), method, _url(path, env.draft, env))
        assert r.status_code == 404


def test_visibility_in_the_library(env):
    def titles(who):
        return {g["id"] for g in env.client(who).get("/api/guides").json()}

    assert env.published in titles(VIEWER) and env.draft not in titles(VIEWER)
    assert {env.published, env.draft} <= titles(OWNER) and {env.published, env.draft} <= titles(ADMIN)
    assert env.draft not in titles(OTHER)
    # a member (shared with them) may edit; a non-member editor may only view the published guide
    assert env.client(MEMBER).get(f"/api/guides/{env.published}/edits").status_code == 200
    assert env.client(OTHER).get(f"/api/guides/{env.published}/edits").status_code == 403
    assert env.client(VIEWER).get(f"/g/{env.published}").status_code == 200


# -- editing ----------------------------------------------------------------------------------------

def test_concurrent_edits_conflict_and_nothing_is_lost(env):
    a, b = env.fresh(OWNER), env.fresh(ADMIN)
    sa, sb = edits(a, env.draft), edits(b, env.draft)
    assert sa["revision"] == sb["revision"]
    first, second = sa["base"]["steps"][0]["id"], sa["base"]["steps"][1]["id"]
    doc_a = {"steps": {first: {"text": "Owner's wording."}}}
    r = a.put(f"/api/guides/{env.draft}/edits", json={"base_revision": sa["revision"], "edits": doc_a})
    assert r.status_code == 200 and r.json()["revision"] == sa["revision"] + 1
    doc_b = {"steps": {second: {"hidden": True}}}
    stale = b.put(f"/api/guides/{env.draft}/edits", json={"base_revision": sb["revision"], "edits": doc_b})
    assert stale.status_code == 409
    body = stale.json()
    assert body["revision"] == sa["revision"] + 1 and body["edits"] == doc_a  # the current state, unchanged
    assert edits(a, env.draft)["edits"] == doc_a  # the stale save overwrote nothing
    merged = {"steps": {**body["edits"]["steps"], **doc_b["steps"]}}
    r = b.put(f"/api/guides/{env.draft}/edits", json={"base_revision": body["revision"], "edits": merged})
    assert r.status_code == 200
    assert edits(a, env.draft)["edits"] == merged  # both changes kept
    b.put(f"/api/guides/{env.draft}/edits", json={"base_revision": r.json()["revision"], "edits": {}})


def test_invalid_edits_are_refused_with_a_message(env):
    owner = env.client(OWNER)
    rev = edits(owner, env.draft)["revision"]
    r = owner.put(f"/api/guides/{env.draft}/edits", json={"base_revision": rev, "edits": {"steps": {"x": {"bogus": 1}}}})
    assert r.status_code == 422 and "bogus" in r.text


def test_xss_in_titles_steps_and_callouts_is_escaped_everywhere(env, tmp_path):
    owner = env.client(OWNER)
    gid = upload(owner, "c.zip", env.bundle).json()["guide"]["id"]
    wait_jobs(owner, gid)
    s = edits(owner, gid)
    sid = s["base"]["steps"][0]["id"]
    doc = {"title": "Guide " + XSS, "steps": {sid: {"text": "Click " + XSS, "callouts": [{"kind": "tip", "text": XSS}],
                                                     "narration": "Say " + XSS}}}
    assert owner.put(f"/api/guides/{gid}/edits", json={"base_revision": s["revision"], "edits": doc}).status_code == 200
    owner.post(f"/guides/{gid}/settings", data={"tags": XSS, "review_by": "", "status": "draft"})
    publish(owner, gid)
    link = owner.post(f"/api/guides/{gid}/links").json()
    pages = {p: owner.get(p) for p in ("/", f"/guides/{gid}", f"/g/{gid}", f"/guides/{gid}/edit")}
    pages["share"] = env.fresh().get(link["url"])
    pages["embed"] = env.fresh().get(link["url"].replace("/s/", "/embed/"))
    for name, r in pages.items():
        assert r.status_code == 200, name
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, name
        assert "script-src 'self'" in r.headers["content-security-policy"], name
    assert "&lt;script&gt;alert" in pages["share"].text
    oembed = env.fresh().get("/oembed", params={"url": link["url"]}).json()
    assert "<script" not in oembed["html"] and "&lt;script&gt;" in oembed["html"]


def test_versions_and_diff(env):
    owner = env.client(OWNER)
    gid = env.published
    s = edits(owner, gid)
    sid = s["base"]["steps"][2]["id"]
    owner.put(f"/api/guides/{gid}/edits", json={"base_revision": s["revision"],
                                                 "edits": {**s["edits"], "steps": {sid: {"text": "Press **Sign in**."}}}})
    publish(owner, gid)
    versions = owner.get(f"/api/guides/{gid}/versions").json()
    n = versions[-1]["number"]
    d = owner.get(f"/api/guides/{gid}/diff", params={"a": n - 1, "b": n}).json()
    assert [c["id"] for c in d["changed"]] == [sid] and d["changed"][0]["new"] == "Press **Sign in**."
    page = owner.get(f"/guides/{gid}/diff", params={"a": n - 1, "b": n}).text
    assert "<ins>Press <strong>Sign in</strong>.</ins>" in page
    assert f"Step {d['changed'][0]['number']} (text)" in page and "<code>" not in page  # no step ids
    # a link pinned to the first version keeps showing it; the default link follows the latest
    pinned = owner.post(f"/api/guides/{gid}/links", params={"version": 1}).json()
    anon = env.fresh()
    assert "Press <strong>Sign in</strong>." not in anon.get(pinned["url"]).text
    assert "Press <strong>Sign in</strong>." in anon.get(env.link["url"]).text


def test_voice_preview_returns_audio(env):
    r = env.client(OWNER).post(f"/api/guides/{env.draft}/voice-preview", json={"text": "Click **Save**."})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF"


def test_voice_preview_says_names_as_the_lexicon_says(env):
    import io
    import wave

    def seconds(body: dict) -> float:
        r = env.client(OWNER).post(f"/api/guides/{env.draft}/voice-preview", json=body)
        assert r.status_code == 200, r.text
        with wave.open(io.BytesIO(r.content)) as w:
            return w.getnframes() / w.getframerate()

    text = "Use SSO to sign in to Expensely quickly and safely."
    plain = seconds({"text": text})
    said = seconds({"text": text, "pronunciations": {"sso": "single sign on with your company account"}})
    assert said > plain * 1.3  # the silent engine's clip is as long as its words: the lexicon's words were read
    bad = env.client(OWNER).post(f"/api/guides/{env.draft}/voice-preview", json={"text": text, "pronunciations": {"SSO": " "}})
    assert bad.status_code == 422 and "pronunciation" in bad.text
    fast = seconds({"text": text, "rate": 330})
    assert fast == pytest.approx(plain / 2, rel=0.05)  # at twice the speed


def test_a_guide_keeps_its_voice_and_speed_in_its_edits(env):
    owner = env.client(OWNER)
    assert [v["id"] for v in owner.get("/api/voices").json()] == ["silence"]  # the server's engine's voices
    doc = edits(owner, env.draft)
    put = owner.put(f"/api/guides/{env.draft}/edits", json={"base_revision": doc["revision"],
                                                             "edits": {**doc["edits"], "voice": "silence", "rate": 200}})
    assert put.status_code == 200 and (put.json()["edits"]["voice"], put.json()["edits"]["rate"]) == ("silence", 200)
    slow = owner.put(f"/api/guides/{env.draft}/edits", json={"base_revision": put.json()["revision"],
                                                              "edits": {**doc["edits"], "rate": 20}})
    assert slow.status_code == 422 and "rate" in slow.text
    restored = owner.put(f"/api/guides/{env.draft}/edits", json={"base_revision": put.json()["revision"],
                                                                  "edits": doc["edits"]})
    assert restored.status_code == 200


# -- sharing and oEmbed ------------------------------------------------------------------------------

def test_share_link_revoke_expiry_and_draft(env):
    owner, anon = env.client(OWNER), env.fresh()
    link = owner.post(f"/api/guides/{env.published}/links").json()
    assert anon.get(link["url"]).status_code == 200
    assert anon.get(link["url"] + "/files/video/guide.vtt").text.startswith("WEBVTT")
    owner.delete(f"/api/guides/{env.published}/links/{link['id']}")
    for url in (link["url"], link["url"] + "/files/video/guide.mp4", link["url"].replace("/s/", "/embed/")):
        assert anon.get(url).status_code == 410
    assert anon.get("/oembed", params={"url": link["url"]}).status_code == 410
    short = owner.post(f"/api/guides/{env.published}/links", params={"expires_days": 1}).json()
    assert anon.get(short["url"]).status_code == 200
    real = env.app.state.ctx.clock
    env.app.state.ctx.clock = lambda: real() + timedelta(days=1, seconds=1)  # a day later, without waiting a day
    try:
        assert anon.get(short["url"]).status_code == 410
        assert anon.get(link_url := env.link["url"]).status_code == 200, link_url  # a link with no expiry lives on
    finally:
        env.app.state.ctx.clock = real
    assert anon.get(short["url"]).status_code == 200
    assert anon.get(env.url + "/s/" + "x" * 32).status_code == 404
    # taking the guide back to draft closes every link; publishing again reopens them
    owner.post(f"/guides/{env.published}/settings", data={"status": "draft"})
    assert anon.get(env.link["url"]).status_code == 410
    owner.post(f"/guides/{env.published}/settings", data={"status": "published"})
    assert anon.get(env.link["url"]).status_code == 200


def test_oembed(env):
    anon = env.fresh()
    r = anon.get("/oembed", params={"url": env.link["url"], "format": "json", "maxwidth": 480})
    data = r.json()
    assert data["type"] == "video" and data["version"] == "1.0" and data["width"] == 480 and data["height"] == 270
    assert f'src="{env.url}/embed/{env.token}"' in data["html"]
    assert anon.get(data["thumbnail_url"]).headers["content-type"] == "image/png"
    embed = anon.get(f"/embed/{env.token}")
    assert "frame-ancestors *" in embed.headers["content-security-policy"] and "x-frame-options" not in embed.headers
    assert "frame-ancestors 'none'" in anon.get(env.link["url"]).headers["content-security-policy"]
    assert anon.get("/oembed", params={"url": env.link["url"], "format": "xml"}).status_code == 501
    assert anon.get("/oembed", params={"url": "http://elsewhere.example/s/" + env.token}).status_code == 404


# -- analytics ---------------------------------------------------------------------------------------

def test_analytics_beacons_summary_chart_and_csv(env):
    anon, owner = env.fresh(), env.client(OWNER)
    page = anon.get(env.link["url"]).text
    ctx = re.search(r'data-beacon="([^"]+)"', page).group(1)
    steps = int(re.search(r'data-steps="(\d+)"', page).group(1))

    def send(kind, sid, step=None):
        r = anon.post("/api/beacon", content=f'{{"ctx": "{ctx}", "kind": "{kind}", "sid": "{sid}", '
                                             f'"step": {"null" if step is None else step}}}')
        assert r.status_code == 204

    for sid, furthest, done in (("a", steps, True), ("b", 3, False), ("c", 3, False), ("d", 5, False)):
        send("view", sid)
        send("play", sid)
        for n in range(1, furthest + 1):
            send("step", sid, n)
        if done:
            send("stepmode", sid, steps)  # reached the last step in step-by-step mode: completed
    assert anon.post("/api/beacon", content='{"ctx": "forged", "kind": "view", "sid": "z"}').status_code == 400
    # the client cannot say "completed" itself, nor name a step the guide does not have
    for kind, step in (("complete", steps), ("step", steps + 1), ("watch", 101)):
        r = anon.post("/api/beacon", content=f'{{"ctx": "{ctx}", "kind": "{kind}", "sid": "e", "step": {step}}}')
        assert r.status_code == 400, kind
    rows = owner.get(f"/guides/{env.published}/analytics.csv").text.splitlines()
    assert rows[0].startswith("guide_id,version,views,plays,completions")
    latest = [r for r in rows[1:] if r.split(",")[1] == str(len(owner.get(f"/api/guides/{env.published}/versions").json()))]
    views, plays, done, rate, drop = latest[0].split(",")[2:7]
    assert int(views) >= 4 and int(plays) >= 4 and int(done) >= 1 and drop == "3"
    assert '<svg class="chart"' in owner.get(f"/guides/{env.published}").text


# -- library -----------------------------------------------------------------------------------------

def test_search_tags_and_badges(env):
    owner = env.client(OWNER)
    owner.post(f"/guides/{env.draft}/settings", data={"tags": "finance, onboarding", "review_by": "2000-01-01",
                                                      "status": "draft"})
    found = owner.get("/api/guides", params={"q": "amount"}).json()  # step text of the sample guide
    assert env.draft in {g["id"] for g in found}
    assert {g["id"] for g in owner.get("/api/guides", params={"q": "no-such-words-here"}).json()} == set()
    tagged = owner.get("/api/guides", params={"tag": "finance"}).json()
    assert [g["id"] for g in tagged] == [env.draft]
    assert "review overdue" in tagged[0]["badges"]
    html = owner.get("/", params={"q": "amount"}).text
    assert "review overdue" in html and "#finance" in html
    bad = owner.post(f"/guides/{env.draft}/settings", data={"review_by": "soon", "status": "draft"})
    assert bad.status_code == 422


def test_stale_badge_when_the_video_is_behind(env):
    owner = env.client(OWNER)
    from sqlalchemy import select

    from guidecast.server.models import GuideVersion

    with env.app.state.ctx.db.session() as s:
        v = s.scalars(select(GuideVersion).where(GuideVersion.guide_id == env.published)
                      .order_by(GuideVersion.number.desc())).first()
        saved, v.video_tree = v.video_tree, None
    try:
        assert "video behind" in owner.get(f"/api/guides/{env.published}").json()["badges"]
    finally:
        with env.app.state.ctx.db.session() as s:
            s.get(GuideVersion, v.id).video_tree = saved
    assert "video behind" not in owner.get(f"/api/guides/{env.published}").json()["badges"]


# -- workflow upload, capture job, allowlist ----------------------------------------------------------

@pytest.mark.browser
def test_workflow_upload_runs_a_capture_job_on_an_allowlisted_host(env, sample_app, submit_expense_workflow):
    owner = env.client(OWNER)
    data = submit_expense_workflow.read_bytes()
    r = upload(owner, "submit-expense.yaml", data, sample_app.url)
    assert r.status_code == 201, r.text
    gid = r.json()["guide"]["id"]
    jobs = wait_jobs(owner, gid, 2, timeout=180)
    assert sorted(j["kind"] for j in jobs) == ["capture", "compose"]
    assert owner.get(f"/api/guides/{gid}").json()["last_verified"]
    assert edits(owner, gid)["base"]["steps"]


@pytest.mark.parametrize("base", ["http://localhost:{port}", "http://127.0.0.2:{port}", "http://169.254.169.254",
                                  "file:///etc/passwd"])
def test_workflow_upload_refuses_hosts_off_the_allowlist(env, sample_app, submit_expense_workflow, base):
    port = urlsplit(sample_app.url).port
    r = upload(env.client(OWNER), "wf.yaml", submit_expense_workflow.read_bytes(), base.format(port=port))
    assert r.status_code == 403 and ("may not capture the app at" in r.text or "http and https" in r.text), (r.status_code, r.text)


def test_allowlist_checks_resolved_addresses():
    from guidecast.server.allowlist import NotAllowed, check_url

    check_url("http://127.0.0.1:8000/login", ["127.0.0.1:8000"])
    check_url("https://localhost/x", ["localhost"])
    for url, allowed in (("http://127.0.0.1:9000/", ["127.0.0.1:8000"]), ("http://no-such-host.invalid/", ["no-such-host.invalid"]),
                         ("http://169.254.169.254/", ["metadata"])):
        with pytest.raises(NotAllowed):
            check_url(url, allowed)


# -- restart safety ------------------------------------------------------------------------------------

def test_jobs_left_running_by_a_killed_server_are_resumed_or_failed(tmp_path, submit_expense_capture):
    st = load_settings(environ={}, data_dir=tmp_path, tts_engine="silent", job_max_attempts=2)
    with running_server(st) as (url, app):
        add_user(app, OWNER, "editor")
        with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
            sign_in(c, OWNER)
            gid = upload(c, "c.zip", zip_folder(submit_expense_capture)).json()["guide"]["id"]
            wait_jobs(c, gid)
    # what a killed server leaves behind: rows still "running" (the runner above had stopped)
    from guidecast.server.app import make_context

    ctx = make_context(st)
    with ctx.db.session() as s:
        s.add_all([Job(kind="compose", guide_id=gid, state="running", attempts=1, what="step 3/11"),
                   Job(kind="compose", guide_id=gid, state="running", attempts=2, what="step 5/11")])
    with running_server(st) as (url, app), httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
        sign_in(c, OWNER)
        deadline = time.monotonic() + 60
        while True:
            jobs = {j["id"]: j for j in c.get(f"/api/guides/{gid}/jobs").json()}
            resumed, failed = jobs[max(jobs) - 1], jobs[max(jobs)]
            if resumed["state"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert resumed["state"] == "done" and resumed["attempts"] == 2
    assert failed["state"] == "failed" and "restart" in failed["error"]


def test_cancel_a_queued_job(env):
    owner = env.client(OWNER)
    runner = env.app.state.ctx.jobs
    runner.stop()  # no workers: the job stays queued
    try:
        job = owner.post(f"/api/guides/{env.draft}/publish", json={}).json()
        assert owner.post(f"/api/jobs/{job['id']}/cancel").json()["state"] == "cancelled"
    finally:
        runner.start()
    assert owner.get(f"/api/jobs/{job['id']}").json()["state"] == "cancelled"


def test_openapi_documents_the_json_api(env):
    spec = env.fresh().get("/openapi.json").json()
    for path in ("/api/guides", "/api/guides/{guide_id}/edits", "/api/guides/{guide_id}/publish", "/oembed",
                 "/api/jobs/{job_id}", "/api/beacon"):
        assert path in spec["paths"], path
    assert env.fresh().get("/docs").status_code == 200


def test_cancel_a_running_job(env):
    owner = env.client(OWNER)
    runner = env.app.state.ctx.jobs
    started = []

    def slow(ctx, job, progress):
        for i in range(600):
            started.append(i)
            progress(i, 600, f"tick {i}")
            time.sleep(0.05)

    runner.handlers["slow"] = slow
    with env.app.state.ctx.db.session() as s:
        job_id = runner.submit(s, "slow", env.draft).id
    deadline = time.monotonic() + 20
    while not started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert owner.get(f"/api/jobs/{job_id}").json()["state"] == "running"
    owner.post(f"/api/jobs/{job_id}/cancel")
    while owner.get(f"/api/jobs/{job_id}").json()["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    job = owner.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "cancelled" and len(started) < 600


def test_workflow_with_an_upload_step_is_refused(env, sample_app):
    wf = (b"schema_version: 1\ntitle: Steal\nstart_url: /login\nsteps:\n"
          b"  - {action: upload, target: {label: Receipt}, files: [/etc/passwd]}\n")
    r = upload(env.client(OWNER), "steal.yaml", wf, sample_app.url)
    assert r.status_code == 403 and "upload" in r.text


# -- live job progress (server-sent events) --------------------------------------------------------------

def job_events(client, job_id: int, timeout: float = 120, streams: list | None = None
               ) -> tuple[httpx.Response, list[tuple[str, dict]]]:
    """Follow a job's event stream to its `end` event, connecting again when a stream closes before it (as
    EventSource does): the first response and every (event, data) pair; `streams` gets every response."""
    events: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        with client.stream("GET", f"/api/jobs/{job_id}/events", timeout=timeout) as r:
            first = first or r
            if streams is not None:
                streams.append(r)
            name = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[len("data: "):])))
        if r.status_code != 200 or (events and events[-1][0] == "end"):
            return first, events
    raise AssertionError(f"no end event for job {job_id} within {timeout}s: {events[-3:]}")


def test_job_events_stream_progress_then_the_final_state(env, monkeypatch):
    from guidecast.server import routes_jobs

    job = start_ticking_job(env.app, env.draft, ticks=6, every=0.4)
    monkeypatch.setattr(routes_jobs, "STREAM_S", 1.0)  # streams close early; following them reconnects
    streams: list = []
    r, events = job_events(env.client(OWNER), job, streams=streams)
    assert len(streams) >= 2
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    names = [n for n, _ in events]
    assert names[-1] == "end" and set(names[:-1]) == {"progress"} and len(names) >= 3, names
    running = [d for n, d in events if n == "progress" and d["state"] == "running"]
    assert len(running) >= 2 and [d["done"] for d in running] == sorted(d["done"] for d in running)
    assert len({d["what"] for d in running}) >= 2 and all(d["id"] == job for _, d in events)
    end = events[-1][1]
    assert end["state"] == "done" and end["result"] == {"ticks": 6} and end["what"] == "done"
    # an ended job answers at once with its final state
    assert [n for n, _ in job_events(env.client(ADMIN), job)[1]] == ["end"]


def test_job_events_need_the_same_access_as_the_job(env):
    job = start_ticking_job(env.app, env.draft, ticks=1, every=0.1)
    assert job_events(env.client(None), job)[0].status_code == 401
    for who, status in ((VIEWER, 403), (OTHER, 404)):
        r, events = job_events(env.client(who), job)
        assert r.status_code == status and events == [], who
    assert job_events(env.client(OWNER), 999999)[0].status_code == 404
    assert job_events(env.client(ADMIN), job)[1][-1][0] == "end"


# -- server-side capture stays on the allowlist -------------------------------------------------------------

@pytest.mark.browser
def test_capture_and_check_jobs_cannot_follow_the_app_off_the_allowlist(tmp_path):
    """The app (allowlisted) sends the browser to a second server on another port (not allowlisted): the
    capture job fails naming the step and the host, the check could not verify, and the second server
    never sees a request."""
    from tests.fixtures.capture.pages_server import serve_pages

    with serve_pages() as app_site, serve_pages() as other:
        other.pages["/x"] = "<!doctype html><title>Other</title><h1>Other</h1>"
        app_site.pages["/"] = '<!doctype html><title>Home</title><h1>Home</h1><a href="/next">Next</a>'
        app_site.pages["/next"] = "<!doctype html><title>Next</title><h1>Next</h1>"
        st = load_settings(environ={}, data_dir=tmp_path / "srv", tts_engine="silent",
                           capture_allowed_hosts=[app_site.host])
        workflow = b"title: Hosts\nstart_url: /\nsteps:\n  - action: click\n    target: {role: link, name: Next}\n"
        with running_server(st) as (url, app), httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
            add_user(app, OWNER, "editor")
            sign_in(c, OWNER)
            gid = upload(c, "hosts.yaml", workflow, app_site.url).json()["guide"]["id"]
            assert sorted(j["kind"] for j in wait_jobs(c, gid, 2)) == ["capture", "compose"]  # allowed: works

            # the app now redirects the same link to the other server
            app_site.pages["/"] = '<!doctype html><title>Home</title><h1>Home</h1><a href="/go">Next</a>'
            app_site.pages["/go"] = ("redirect", other.url + "/x")
            refused = f"went to {other.url}/x, but {other.host} is not an allowed host for this capture"
            job = c.post(f"/api/guides/{gid}/check", json={}).json()
            end = job_events(c, job["id"], timeout=120)[1][-1][1]
            assert end["state"] == "done" and end["result"]["outcome"] == "unverified"
            assert "step 1 (click-next)" in end["result"]["error"] and refused in end["result"]["error"]

            c.post(f"/guides/{gid}/capture")
            job = c.get(f"/api/guides/{gid}/jobs").json()[0]
            assert job["kind"] == "capture"
            end = job_events(c, job["id"], timeout=120)[1][-1][1]
            assert end["state"] == "failed" and "step 1 (click-next)" in end["error"] and refused in end["error"]
    assert other.hits == []
