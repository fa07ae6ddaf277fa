"""Learning outcomes in the web app, in real Chromium against a real server: a learner practises the sample
guide (one wrong click, then right) and passes the knowledge check; the manager's dashboard shows it; the
xAPI statements arrive in a real LRS (Ralph, its filesystem backend) with the right verbs and version, and
wait in the outbox while the LRS is down; a refresh from the changed sample app marks the learner
"re-check needed" for the changed step only and e-mails them (a local SMTP sink); a quiz edit that breaks a
rule is a 422 naming the field and loses nothing."""
from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from guidecast.server.learning_models import LearnerRecord, XapiOutbox
from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, free_port, publish, running_server, sign_in, upload, wait_jobs
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]

REPO = Path(__file__).resolve().parent.parent
LRS_VENV = Path(os.environ.get("GUIDECAST_LRS_VENV") or REPO / ".cache" / "apps" / "lrs")
OWNER, LEARNER = "owner@example.com", "learner@example.com"
LRS_USER, LRS_PASSWORD = "guidecast", "lrs-password-123"
VERB = "http://adlnet.gov/expapi/verbs/"


class Lrs:
    """Ralph's LRS (filesystem backend, tests/lrs_server.py) in its own process on a free port; `stop()`/`start()` keep the port
    and the statements file, so the server sees the same LRS go down and come back."""

    def __init__(self, workdir: Path):
        self.dir, self.port, self.proc = workdir, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        (workdir / "data").mkdir(parents=True)
        h = subprocess.run([str(LRS_VENV / "bin" / "python"), "-c",
                            f"import bcrypt; print(bcrypt.hashpw({LRS_PASSWORD!r}.encode(), bcrypt.gensalt()).decode())"],
                           capture_output=True, text=True, check=True).stdout.strip()
        (workdir / "auth.json").write_text(json.dumps([{"agent": {"mbox": "mailto:guidecast@example.com"},
                                                        "scopes": ["all"], "hash": h, "username": LRS_USER}]))

    def start(self) -> None:
        env = {**os.environ, "RALPH_AUTH_FILE": str(self.dir / "auth.json"), "RALPH_APP_DIR": str(self.dir / "app"),
               "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.dir / "data")}
        self.log = open(self.dir / "lrs.log", "ab")
        self.proc = subprocess.Popen([str(LRS_VENV / "bin" / "python"), str(REPO / "tests" / "lrs_server.py"),
                                      str(self.port)], cwd=self.dir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the LRS did not start: {(self.dir / 'lrs.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None
            self.log.close()

    def statements(self) -> list[dict]:
        r = httpx.get(f"{self.url}/statements", params={"limit": 500}, auth=(LRS_USER, LRS_PASSWORD),
                      headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
        r.raise_for_status()
        return r.json()["statements"]


@contextmanager
def smtp_sink():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages: list[dict] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append({"to": envelope.rcpt_tos, "body": envelope.content.decode("utf-8", "replace")})
            return "250 OK"

    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        yield sink, ctl.port
    finally:
        ctl.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory, submit_expense_workflow):
    if not (LRS_VENV / "bin" / "ralph").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"Ralph (the LRS) is not installed in {LRS_VENV}: run `make setup`")
        pytest.skip(f"Ralph (the LRS) is not installed in {LRS_VENV}: run `make setup` (scripts/apps-deps.sh)")
    from guidecast.samples.expense_app import start_sample_app

    lrs = Lrs(tmp_path_factory.mktemp("lrs"))
    lrs.start()
    with start_sample_app("base") as base, start_sample_app("changed") as changed, smtp_sink() as (sink, smtp_port):
        st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("server"), tts_engine="silent",
                           video_width=320, video_height=180, capture_allowed_hosts=["127.0.0.1"],
                           capture_env_vars=["EXPENSELY_PASSWORD"], lrs_url=lrs.url, lrs_username=LRS_USER,
                           lrs_password=LRS_PASSWORD, lrs_retry_max_s=1, smtp_host="127.0.0.1", smtp_port=smtp_port)
        os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")
        with running_server(st) as (url, app):
            add_user(app, OWNER, "editor")
            add_user(app, LEARNER, "viewer")
            owner = sign_in(httpx.Client(base_url=url, follow_redirects=True, timeout=60), OWNER)
            r = upload(owner, "submit-expense.yaml", submit_expense_workflow.read_bytes(), base.url)
            assert r.status_code == 201, r.text
            gid = r.json()["guide"]["id"]
            wait_jobs(owner, gid, 2, timeout=240)  # capture, then compose
            publish(owner, gid)  # version 1
            yield {"url": url, "app": app, "ctx": app.state.ctx, "gid": gid, "owner": owner, "lrs": lrs,
                   "sink": sink, "changed": changed}
            owner.close()
    lrs.stop()


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser(headless=True) as b:
        yield b


@pytest.fixture(scope="module")
def page(env, browser):
    return signed_in_page(browser, env["url"], LEARNER)


def signed_in_page(browser, url: str, email: str):
    p = browser.new_page(viewport={"width": 1200, "height": 900})
    p.goto(f"{url}/signin")
    p.fill("input[name=email]", email)
    p.fill("input[name=password]", "password-123456")
    p.click("button[type=submit]")
    p.wait_for_load_state()
    return p


def answer_all(page, quiz: dict) -> None:
    """Answer every question of `quiz` (the manager's view, with the answers) right, and send them."""
    for q in quiz["questions"]:
        sel = f".question[data-question='{q['id']}']"
        if q["kind"] == "choice":
            for i, c in enumerate(q["choices"]):
                if c["correct"]:
                    page.check(f"{sel} input[value='{i}']")
        else:
            b = q["box"]
            click_image_at(page, f"{sel} img", b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, q["image_size"])
    page.click("#check-submit")


def click_image_at(page, selector: str, x: float, y: float, size) -> None:
    """Click the picture `selector` at (x, y) of its own pixels, wherever the page shows it and however big."""
    loc = page.locator(selector)
    loc.scroll_into_view_if_needed()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=loc.element_handle())
    box = loc.bounding_box()
    page.mouse.click(box["x"] + x * box["width"] / size[0], box["y"] + y * box["height"] / size[1])


def test_learner_practises_passes_the_check_and_the_dashboard_shows_it(env, page):
    gid, owner = env["gid"], env["owner"]
    page.goto(f"{env['url']}/g/{gid}")
    page.click("text=Practise it yourself")
    page.wait_for_selector(".learn-mode[data-state='step-1']")
    practice = json.loads(page.locator(".learn-mode").get_attribute("data-practice"))
    steps = practice["steps"]
    assert len(steps) == 11 and practice["version"] == 1
    for k, s in enumerate(steps):
        assert page.locator("#practice-instruction").inner_text() == s["instruction"]
        assert "**" not in s["instruction"]
        b, size = s["box"], s["image_size"]
        if k == 0:  # one wrong click first: far from the field
            click_image_at(page, "#practice-img", size[0] - 5, size[1] - 5, size)
            assert "Not there" in page.locator("#practice-feedback").inner_text()
            assert page.locator(".learn-mode").get_attribute("data-tries") == "1"
        if k == 2:  # the keyboard works too: arrow keys move the pointer, Enter clicks
            page.focus("#practice-shot")
            cx, cy = size[0] / 2, size[1] / 2
            tx, ty = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
            for _ in range(round(abs(tx - cx) / 10)):
                page.keyboard.press("ArrowRight" if tx > cx else "ArrowLeft")
            for _ in range(round(abs(ty - cy) / 10)):
                page.keyboard.press("ArrowDown" if ty > cy else "ArrowUp")
            page.keyboard.press("Enter")
        else:
            click_image_at(page, "#practice-img", b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, size)
        if s["kind"] == "type":
            page.wait_for_selector("#practice-type:not([hidden])")
            page.fill("#practice-input", s["value"] or "my password")
            page.keyboard.press("Enter")
        want = "saved" if k == len(steps) - 1 else f"step-{k + 2}"
        page.wait_for_selector(f".learn-mode[data-state='{want}']", timeout=10000)
    assert page.locator(".learn-mode").get_attribute("data-score") == str(round(100 * 10 / 11))
    # the check: the right answers (the manager's view of the quiz knows them)
    page.click("text=Take the check")
    page.wait_for_selector("#check-form")
    quiz = owner.get(f"/api/guides/{gid}/quiz").json()["quiz"]
    assert quiz["questions"] and all("**" not in q["prompt"] for q in quiz["questions"])
    answer_all(page, quiz)
    _check_passed(page)
    assert "You scored 100%" in page.locator("#check-score").inner_text()
    # the dashboard
    data = owner.get(f"/api/guides/{gid}/learners").json()
    assert data["funnel"] == [{"version": 1, "opened": 1, "practised": 1, "passed": 1, "failed": 0}]
    assert data["missed"][0]["id"] == steps[0]["id"] and data["missed"][0]["count"] == 1
    rec = data["learners"][0]
    assert rec["email"] == LEARNER and rec["passed"] is True and rec["check_score"] == 100 and rec["attempts"] == 1
    assert rec["practice_score"] == round(100 * 10 / 11) and rec["practice"][0]["tries"] == 2
    practised_s = sum(st["seconds"] for st in rec["practice"])  # a robot's clicks: under a second in all
    assert practised_s > 0 and rec["time_spent_s"] >= int(practised_s)
    html = owner.get(f"/guides/{gid}/learners").text
    assert 'class="passed">1<' in html and "passed (100%)" in html and LEARNER in html
    csv_text = owner.get(f"/guides/{gid}/learners.csv").text
    assert f"{gid},1,user:" in csv_text and ",100,yes,1," in csv_text


def test_statements_arrive_in_the_lrs_with_the_verbs_and_the_version(env):
    lrs = env["lrs"]
    deadline = time.monotonic() + 30
    while True:
        got = lrs.statements()
        verbs = {s["verb"]["id"].removeprefix(VERB) for s in got}
        if {"experienced", "attempted", "answered", "passed"} <= verbs or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"experienced", "attempted", "answered", "passed"} <= verbs, verbs
    for s in got:
        assert s["context"]["revision"] == "1" and s["context"]["extensions"]
        assert s["actor"]["mbox"] == f"mailto:{LEARNER}"
    passed = next(s for s in got if s["verb"]["id"] == VERB + "passed")
    assert passed["result"]["score"]["raw"] == 100 and passed["result"]["success"] is True
    assert passed["object"]["id"] == f"{env['url']}/g/{env['gid']}/check"
    attempted = next(s for s in got if s["verb"]["id"] == VERB + "attempted")
    assert attempted["result"]["score"]["raw"] == round(100 * 10 / 11)


def test_statements_wait_in_the_outbox_while_the_lrs_is_down(env):
    ctx, lrs, gid = env["ctx"], env["lrs"], env["gid"]
    learner = sign_in(httpx.Client(base_url=env["url"], follow_redirects=True, timeout=60), LEARNER)
    page = learner.get(f"/g/{gid}/v/1/check").text
    token = page.split('data-ctx="', 1)[1].split('"', 1)[0]
    assert learner.post("/api/learn/check", json={"ctx": token, "answers": {}},
                        headers={"X-CSRF-Token": "not-the-token"}).status_code == 403  # the session's own page only
    lrs.stop()
    before = len([s for s in _sent(ctx)])
    r = learner.post("/api/learn/check", json={"ctx": token, "answers": {}, "seconds": 3})
    assert r.status_code == 200 and r.json()["passed"] is False and r.json()["attempts"] == 2
    deadline = time.monotonic() + 20
    while True:  # the sender tried and failed: the statements are kept, with the reason
        with ctx.db.session() as s:
            waiting = s.scalars(select(XapiOutbox).where(XapiOutbox.sent_at.is_(None)).order_by(XapiOutbox.id)).all()
        tried = [w for w in waiting if w.attempts]
        if tried or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert len(waiting) == len(_quiz_ids(env)) + 1  # one "answered" per question and the "failed"
    assert tried and all("the LRS could not be reached" in (w.last_error or "") for w in tried)
    lrs.start()
    with ctx.db.session() as s:
        s.execute(update(XapiOutbox).values(next_try_at=0))
    ctx.xapi.poke()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _pending(ctx):
        time.sleep(0.3)
        ctx.xapi.poke()
    assert _pending(ctx) == 0 and len(_sent(ctx)) > before
    failed = [s for s in lrs.statements() if s["verb"]["id"] == VERB + "failed"]
    assert len(failed) == 1 and failed[0]["result"]["score"]["raw"] == 0 and failed[0]["context"]["revision"] == "1"
    with ctx.db.session() as s:  # a failed attempt after a pass keeps the pass
        rec = s.scalar(select(LearnerRecord).where(LearnerRecord.guide_id == gid))
        assert rec.check_passed is True and rec.check_attempts == 2 and rec.check_score == 0
    learner.close()


def _quiz_ids(env) -> list[str]:
    return [q["id"] for q in env["owner"].get(f"/api/guides/{env['gid']}/quiz").json()["quiz"]["questions"]]


def _pending(ctx) -> int:
    with ctx.db.session() as s:
        return len(s.scalars(select(XapiOutbox.id).where(XapiOutbox.sent_at.is_(None))).all())


def _sent(ctx) -> list[int]:
    with ctx.db.session() as s:
        return list(s.scalars(select(XapiOutbox.id).where(XapiOutbox.sent_at.is_not(None))).all())


def test_a_refresh_that_changes_a_step_marks_the_learner_for_that_step_only(env, page):
    owner, gid = env["owner"], env["gid"]
    r = owner.post(f"/api/guides/{gid}/check", json={"base_url": env["changed"].url})
    assert r.status_code == 202, r.text
    _wait_job(owner, r.json())
    r = owner.post(f"/api/guides/{gid}/refresh", json={})
    assert r.status_code == 202, r.text
    _wait_job(owner, r.json(), 240)
    assert [(v["number"], v["draft"]) for v in owner.get(f"/api/guides/{gid}/versions").json()] == [(1, False), (2, True)]
    # a draft changes nothing for learners
    assert owner.get(f"/api/guides/{gid}/learners").json()["recheck"] == []
    diff = owner.get(f"/api/guides/{gid}/diff", params={"a": 1, "b": 2}).json()
    changed = [c["id"] for c in diff["changed"]] + [a["id"] for a in diff["added"]]
    assert changed == ["submit-expense"], diff  # the renamed button; moved fields and a restyle change no words
    r = owner.post(f"/api/guides/{gid}/versions/2/publish")
    assert r.status_code == 200, r.text
    data = owner.get(f"/api/guides/{gid}/learners").json()
    assert len(data["recheck"]) == 1
    rc = data["recheck"][0]
    assert rc["email"] == LEARNER and rc["version"] == 1 and rc["recheck_version"] == 2
    assert [s["id"] for s in rc["recheck"]] == ["submit-expense"]
    html = owner.get(f"/guides/{gid}/learners").text
    assert 'class="recheck-step" data-step="submit-expense"' in html and "re-check needed: step 11" in html
    # the e-mail, through the configured SMTP server
    deadline = time.monotonic() + 10
    while not env["sink"].messages and time.monotonic() < deadline:
        time.sleep(0.2)
    (mail,) = env["sink"].messages
    assert mail["to"] == [LEARNER] and "Re-check needed" in mail["body"] and "step 11" in mail["body"]
    assert f"/g/{gid}/v/2/check" in mail["body"] and "**" not in mail["body"]
    # the learner's check page says what changed; passing version 2 answers the re-check
    page.goto(f"{env['url']}/g/{gid}/v/2/check")
    notice = page.locator(".recheck-notice")
    assert "you passed version 1" in notice.inner_text() and "step 11" in notice.inner_text()
    assert notice.locator(".recheck-step").get_attribute("data-step") == "submit-expense"
    answer_all(page, owner.get(f"/api/guides/{gid}/quiz", params={"version": 2}).json()["quiz"])
    _check_passed(page)
    data = owner.get(f"/api/guides/{gid}/learners").json()
    assert data["recheck"] == [] and data["funnel"][0]["version"] == 2 and data["funnel"][0]["passed"] == 1


def _check_passed(page) -> None:
    page.wait_for_selector(".learn-mode[data-state='passed'], .learn-mode[data-state='failed'], "
                           ".learn-mode[data-state='error']")
    wrong = page.eval_on_selector_all(".question[data-right='no']", "els => els.map(e => e.dataset.question)")
    assert page.locator(".learn-mode").get_attribute("data-state") == "passed", (
        page.locator("#check-result").inner_text(), wrong)


def _wait_job(client, job: dict, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while job["state"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def test_a_quiz_edit_that_breaks_a_rule_is_refused_naming_the_field_and_nothing_is_lost(env):
    owner, gid = env["owner"], env["gid"]
    saved = owner.get(f"/api/guides/{gid}/quiz").json()
    quiz = saved["quiz"]
    choice = next(i for i, q in enumerate(quiz["questions"]) if q["kind"] == "choice")
    hotspot = next(i for i, q in enumerate(quiz["questions"]) if q["kind"] == "hotspot")

    def put(change) -> httpx.Response:
        q = json.loads(json.dumps(quiz))
        change(q)
        return owner.put(f"/api/guides/{gid}/quiz", json={"version": saved["version"], "revision": saved["revision"],
                                                           "quiz": q})

    r = put(lambda q: [c.update(correct=False) for c in q["questions"][choice]["choices"]])
    assert r.status_code == 422 and r.json()["detail"].startswith(f"questions[{choice}]: no choice is marked correct")
    r = put(lambda q: q.update(pass_mark=150))
    assert r.status_code == 422 and r.json()["detail"].startswith("pass_mark: "), r.text
    r = put(lambda q: q["questions"][hotspot]["box"].update(x=5000))
    assert r.status_code == 422 and f"questions[{hotspot}]: the box x=5000" in r.json()["detail"], r.text
    assert "reaches outside the 1280x720 screenshot" in r.json()["detail"]
    assert owner.get(f"/api/guides/{gid}/quiz").json() == saved  # nothing saved, nothing lost
    # a good edit: reorder, change a prompt, remove one, set the pass mark
    def good(q):
        q["questions"].reverse()
        q["questions"][0]["prompt"] = "Where do you finish?"
        q["questions"].pop()
        q["pass_mark"] = 60
    r = put(good)
    assert r.status_code == 200, r.text
    now = r.json()
    assert now["revision"] == saved["revision"] + 1 and now["quiz"]["pass_mark"] == 60
    assert now["quiz"]["questions"][0]["prompt"] == "Where do you finish?" and now["quiz"]["source"] == "person"
    assert len(now["quiz"]["questions"]) == len(quiz["questions"]) - 1
    stale = owner.put(f"/api/guides/{gid}/quiz", json={"version": saved["version"], "revision": saved["revision"],
                                                        "quiz": quiz})
    assert stale.status_code == 409


@contextmanager
def outside_site(html: str):
    """A page of another site (http://localhost:PORT, while the app is on 127.0.0.1) with `html` as its body."""
    import http.server
    import threading

    body = f"<!doctype html><html><body>{html}</body></html>".encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_address[1]}/outer.html"
    finally:
        server.shutdown()
        server.server_close()


def _do_practice(page, tap: bool = False, frame=None) -> None:
    """Every practice step right at the first try (mouse clicks, or taps on a touch screen), on the page or in
    one of its frames."""
    doc = frame or page
    doc.wait_for_selector(".learn-mode[data-state='step-1']")
    steps = json.loads(doc.locator(".learn-mode").get_attribute("data-practice"))["steps"]
    for k, s in enumerate(steps):
        b, size = s["box"], s["image_size"]
        x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        loc = doc.locator("#practice-img")
        loc.scroll_into_view_if_needed()
        doc.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=loc.element_handle())
        box = loc.bounding_box()
        px, py = box["x"] + x * box["width"] / size[0], box["y"] + y * box["height"] / size[1]
        if tap:
            page.touchscreen.tap(px, py)
        else:
            page.mouse.click(px, py)
        if s["kind"] == "type":
            doc.wait_for_selector("#practice-type:not([hidden])")
            doc.fill("#practice-input", s["value"] or "my password")
            doc.press("#practice-input", "Enter")
        want = "saved" if k == len(steps) - 1 else f"step-{k + 2}"
        doc.wait_for_selector(f".learn-mode[data-state='{want}']", timeout=10000)


def test_share_links_and_embeds_reach_practice_on_touch_screens_and_ask_a_name(env, browser):
    owner, gid = env["owner"], env["gid"]
    link = owner.post(f"/api/guides/{gid}/links").json()
    token = link["url"].rsplit("/", 1)[1]
    ctx = browser.new_context(viewport={"width": 800, "height": 900}, has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        page.goto(link["url"])
        page.click("text=Practise it yourself")
        page.click("summary:has-text('Add your name')")
        page.fill("#learner-name", "Sam Shared")
        page.fill("#learner-email", "sam@example.com")
        _do_practice(page, tap=True)
        assert page.locator(".learn-mode").get_attribute("data-score") == "100"
        # the embed, framed by a page of another site (localhost is not 127.0.0.1): practice is one click away
        # and its result is recorded, though the frame gets no cookie of ours there
        with outside_site(f'<iframe id="e" src="{env["url"]}/embed/{token}" width="780" height="800"></iframe>') as outer:
            page.goto(outer)
            page.frame_locator("#e").locator("text=Practise it yourself").click()
            page.frame_locator("#e").locator(".learn-mode[data-mode='practice']").wait_for()
            frame = next(f for f in page.frames if f.url.endswith(f"/embed/{token}/practice"))
            frame.click("summary:has-text('Add your name')")
            frame.fill("#learner-email", "embedded@example.com")
            _do_practice(page, tap=True, frame=frame)
            assert frame.locator(".learn-mode").get_attribute("data-score") == "100"
    finally:
        ctx.close()
    r = httpx.get(f"{env['url']}/embed/{token}/check")
    assert r.status_code == 200 and "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
    data = owner.get(f"/api/guides/{gid}/learners").json()
    rec = next(r for r in data["learners"] if r["email"] == "sam@example.com")
    # opened, then named: one learner (the embed, framed by another site's page, gets no cookie of ours:
    # SameSite; it is a learner of its own, who only opened the guide)
    anon = [r for r in data["learners"] if r["learner"].startswith("anon:")]
    assert rec["opened"] is not None and len(anon) <= 1 and not any(r["practised"] for r in anon)
    assert rec["name"] == "Sam Shared" and rec["practice_score"] == 100 and rec["learner"] == "email:sam@example.com"
    assert "Sam Shared &lt;sam@example.com&gt;" in owner.get(f"/guides/{gid}/learners").text
    embedded = next(r for r in data["learners"] if r["email"] == "embedded@example.com")
    assert embedded["practice_score"] == 100 and embedded["version"] == rec["version"]
    one = owner.get(f"/api/guides/{gid}/learners", params={"learner": "email:sam@example.com"}).json()
    assert [r["email"] for r in one["learners"]] == ["sam@example.com"]


def test_the_manager_edits_the_quiz_on_its_page_and_a_refused_save_keeps_the_edits(env, browser):
    owner, gid = env["owner"], env["gid"]
    before = owner.get(f"/api/guides/{gid}/quiz").json()
    page = signed_in_page(browser, env["url"], OWNER)
    try:
        page.goto(f"{env['url']}/guides/{gid}")
        page.click("text=Knowledge check")
        page.wait_for_selector(".question-edit")
        n = page.locator(".question-edit").count()
        assert n == len(before["quiz"]["questions"])
        first = page.locator(".question-edit").nth(0).get_attribute("data-question")
        page.locator(".question-edit").nth(0).locator(".move-down").click()
        assert page.locator(".question-edit").nth(1).get_attribute("data-question") == first
        page.locator(".question-edit").nth(0).locator(".prompt-text").fill("Which page do you see first?")
        page.locator(".question-edit").nth(n - 1).locator(".remove-question").click()
        page.click("#add-choice")
        new = page.locator(".question-edit").nth(n - 1)
        new.locator(".prompt-text").fill("Who approves your expense?")
        new.locator(".choice-text").nth(0).fill("Your manager")
        new.locator(".choice-text").nth(1).fill("Nobody")
        page.fill("#pass-mark", "150")
        page.click("#save-quiz")
        page.wait_for_selector("#quiz-error:not([hidden])")
        assert "pass_mark" in page.locator("#quiz-error").inner_text()
        assert owner.get(f"/api/guides/{gid}/quiz").json() == before  # nothing saved ...
        assert page.locator(".question-edit").nth(n - 1).locator(".prompt-text").input_value() == \
            "Who approves your expense?"  # ... and nothing lost on the page
        page.fill("#pass-mark", "70")
        page.click("#save-quiz")
        page.wait_for_selector(f".quiz-editor[data-revision='{before['revision'] + 1}']")
    finally:
        page.close()
    saved = owner.get(f"/api/guides/{gid}/quiz").json()["quiz"]
    assert saved["pass_mark"] == 70 and len(saved["questions"]) == n
    assert saved["questions"][0]["prompt"] == "Which page do you see first?" and saved["questions"][1]["id"] == first
    last = saved["questions"][-1]
    assert last["prompt"] == "Who approves your expense?" and [c["correct"] for c in last["choices"]] == [True, False]
