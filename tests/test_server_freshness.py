"""Freshness in the web app: check jobs against the sample app (unchanged, changed, down), the stale badge
and the changed steps on the guide page, refresh into a draft version that keeps the edits and reuses the
video's unchanged segments, permissions, the library's sections and the check scheduler."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from guidecast.server.models import Guide, Job, utcnow
from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, publish, running_server, sign_in, upload, wait_jobs
from tests.conftest import requires_browser, requires_ffmpeg

pytestmark = [requires_browser, requires_ffmpeg, pytest.mark.browser, pytest.mark.video]

OWNER, OTHER, VIEWER = "owner@example.com", "other@example.com", "viewer@example.com"
# What the sample app's "changed" variant changes on purpose (as tests/test_freshness.py checks on the CLI)
CHANGED = {
    "sign-in": ["restyled"],
    "fill-description": ["moved"],
    "fill-amount": ["moved"],
    "choose-category": ["moved"],
    "submit-expense": ["renamed", "new_flow"],
}
OPEN_TEXT = "Open **Expenses** from the menu on the left."
SUBMIT_TEXT = "Click **Submit expense** to send it to your manager."


class Env:
    def __init__(self, url, app):
        self.url, self.app, self.ctx = url, app, app.state.ctx
        self.clients: dict[str, httpx.Client] = {}

    def client(self, who: str) -> httpx.Client:
        if who not in self.clients:
            self.clients[who] = sign_in(httpx.Client(base_url=self.url, follow_redirects=True, timeout=60), who)
        return self.clients[who]


def run_job(client, job: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while job["state"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def check(env, gid: int, base_url: str | None = None) -> dict:
    owner = env.client(OWNER)
    r = owner.post(f"/api/guides/{gid}/check", json={"base_url": base_url} if base_url else {})
    assert r.status_code == 202, r.text
    job = run_job(owner, r.json())
    assert job["state"] == "done", job
    return owner.get(f"/api/guides/{gid}/checks/{job['result']['check']}").json()


@pytest.fixture(scope="module")
def env(tmp_path_factory, submit_expense_workflow):
    # Apps of this module's own: other tests submit expenses to the shared ones, which changes the
    # dashboard a step shows, and so which video segments a refresh may reuse.
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base") as sample_app, start_sample_app("changed") as sample_app_changed:
        yield from _env(tmp_path_factory, submit_expense_workflow, sample_app, sample_app_changed)


def _env(tmp_path_factory, submit_expense_workflow, sample_app, sample_app_changed):
    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("server"), tts_engine="silent",
                       video_width=320, video_height=180, capture_allowed_hosts=["127.0.0.1"],
                       capture_env_vars=["EXPENSELY_PASSWORD"])
    with running_server(st) as (url, app):
        e = Env(url, app)
        for email, role in ((OWNER, "editor"), (OTHER, "editor"), (VIEWER, "viewer")):
            add_user(app, email, role)
        owner = e.client(OWNER)
        r = upload(owner, "submit-expense.yaml", submit_expense_workflow.read_bytes(), sample_app.url)
        assert r.status_code == 201, r.text
        e.gid = gid = r.json()["guide"]["id"]
        wait_jobs(owner, gid, 2, timeout=180)  # capture, then compose
        s = owner.get(f"/api/guides/{gid}/edits").json()
        doc = {"steps": {"open-expenses": {"text": OPEN_TEXT}, "submit-expense": {"text": SUBMIT_TEXT}}}
        r = owner.put(f"/api/guides/{gid}/edits", json={"base_revision": s["revision"], "edits": doc})
        assert r.status_code == 200
        publish(owner, gid)  # version 1 and its video
        e.base, e.changed = sample_app, sample_app_changed
        yield e
        for c in e.clients.values():
            c.close()


def guide_row(env, gid: int) -> Guide:
    with env.ctx.db.session() as s:
        return s.get(Guide, gid)


def test_check_against_the_unchanged_app_verifies_and_updates_last_verified(env):
    with env.ctx.db.session() as s:  # pretend the capture is old
        s.execute(update(Guide).where(Guide.id == env.gid).values(last_verified_at=utcnow() - timedelta(days=30)))
    before = guide_row(env, env.gid).last_verified_at
    c = check(env, env.gid)
    assert c["outcome"] == "unchanged" and c["label"] == "verified unchanged" and c["changes"] == []
    assert c["report"]["verified"] and not c["report"]["flow"]
    assert guide_row(env, env.gid).last_verified_at > before
    summary = env.client(OWNER).get(f"/api/guides/{env.gid}").json()
    assert summary["last_verified"] and not summary["stale"] and "changed in the app" not in summary["badges"]
    page = env.client(OWNER).get(f"/guides/{env.gid}").text
    assert 'data-outcome="unchanged"' in page and "verified unchanged" in page and 'id="check-now"' in page


def test_check_against_the_changed_app_marks_the_guide_stale_with_the_changed_steps(env):
    verified_before = guide_row(env, env.gid).last_verified_at
    c = check(env, env.gid, env.changed.url)
    assert c["outcome"] == "changed" and c["current"] and c["can_refresh"]
    assert {ch["id"]: ch["classes"] for ch in c["changes"]} == CHANGED
    assert guide_row(env, env.gid).last_verified_at == verified_before  # not verified: it changed
    env.changed_check = c["id"]
    owner = env.client(OWNER)
    page = owner.get(f"/guides/{env.gid}").text
    assert '<span class="badge stale">changed in the app</span>' in page
    for sid, classes in CHANGED.items():
        m = re.search(rf'<li data-step="{sid}" data-classes="([^"]*)">(.*?)</li>', page, re.DOTALL)
        assert m and m.group(1).split() == classes, sid
    assert "renamed" in page and "new page or dialog" in page and "moved" in page and "restyled" in page
    assert "Refresh from the app" in page
    # the HTML report: before/after pictures, its own CSP (no script)
    r = owner.get(c["report_html"])
    assert r.status_code == 200 and r.text.count("data:image/png;base64,") >= 2 * len(CHANGED)
    csp = r.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "/checks/" not in r.text and "guidecast-check-" not in r.text  # no server paths
    # the library: in the stale section, with last verified
    stale = owner.get("/api/guides", params={"show": "stale"}).json()
    assert [g["id"] for g in stale] == [env.gid] and stale[0]["changed_in_app"]["id"] == c["id"]
    lib = owner.get("/", params={"show": "stale"}).text
    assert f'data-guide-id="{env.gid}"' in lib and "changed in the app" in lib and "last verified" in lib
    assert owner.get("/api/guides", params={"show": "overdue"}).json() == []


def test_check_with_the_app_down_could_not_verify(env):
    c = check(env, env.gid, "http://127.0.0.1:9")
    assert c["outcome"] == "unverified" and c["label"] == "could not verify" and c["error"]
    assert c["changes"] == [] and not c["can_refresh"] and str(env.ctx.settings.data_dir) not in c["error"]
    owner = env.client(OWNER)
    page = owner.get(f"/guides/{env.gid}").text
    latest = page.split('data-outcome="unverified"', 1)[1].split("</div>", 1)[0]
    assert "could not verify" in latest and "changed in the app" not in latest
    # what the last check that reached the app found still stands
    summary = owner.get(f"/api/guides/{env.gid}").json()
    assert "could not verify" in summary["badges"] and summary["changed_in_app"]["id"] == env.changed_check
    learner = env.client(VIEWER).get(f"/api/guides/{env.gid}").json()  # badges, but no app URL or reports
    assert "changed in the app" in learner["badges"] and learner["last_check"] is None


def test_a_running_check_can_be_cancelled(env):
    owner = env.client(OWNER)
    checks = len(owner.get(f"/api/guides/{env.gid}/checks").json())
    job = owner.post(f"/api/guides/{env.gid}/check", json={}).json()
    deadline = time.monotonic() + 30
    while not (job["state"] == "running" and job["done"] >= 1):
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.1)
        job = owner.get(f"/api/jobs/{job['id']}").json()
    assert owner.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    assert run_job(owner, job)["state"] == "cancelled"
    assert len(owner.get(f"/api/guides/{env.gid}/checks").json()) == checks  # nothing recorded


def test_non_allowlisted_app_url_and_viewers_are_refused(env):
    owner = env.client(OWNER)
    r = owner.post(f"/api/guides/{env.gid}/check", json={"base_url": "http://10.11.12.13:8000"})
    assert r.status_code == 403 and "allowlist" in r.json()["detail"]
    jobs_before = count_jobs(env)
    for who in (VIEWER, OTHER):  # the guide is published: both see it, neither may check or refresh it
        c = env.client(who)
        assert c.get(f"/g/{env.gid}").status_code == 200
        assert c.post(f"/api/guides/{env.gid}/check", json={}).status_code == 403
        assert c.post(f"/guides/{env.gid}/check", data={}).status_code == 403
        assert c.post(f"/api/guides/{env.gid}/refresh", json={}).status_code == 403
        assert c.get(f"/api/guides/{env.gid}/checks").status_code == 403
        assert "Check now" not in c.get(f"/g/{env.gid}").text
    assert count_jobs(env) == jobs_before


def newest_check_job(env) -> Job:
    with env.ctx.db.session() as s:
        return s.scalar(select(Job).where(Job.kind == "check").order_by(Job.id.desc()).limit(1))


def count_jobs(env) -> int:
    with env.ctx.db.session() as s:
        return len(s.scalars(select(Job.id)).all())


def test_refresh_makes_a_draft_version_that_keeps_edits_and_reuses_unchanged_segments(env):
    owner = env.client(OWNER)
    r = owner.post(f"/api/guides/{env.gid}/refresh", json={})  # default: the last check that reached the app
    assert r.status_code == 202, r.text
    job = run_job(owner, r.json(), timeout=180)
    assert job["state"] == "done", job
    versions = owner.get(f"/api/guides/{env.gid}/versions").json()
    assert [(v["number"], v["draft"]) for v in versions] == [(1, False), (2, True)]
    log = versions[1]["changelog"]
    assert log["check"] == env.changed_check and {c["id"]: c["classes"] for c in log["changes"]} == CHANGED
    ctx = env.ctx
    with ctx.db.session() as s:
        g = s.get(Guide, env.gid)
        v1, v2 = g.versions
        gj = ctx.assets.read_json(v2.guide_tree, "guide.json")
        old_video = ctx.assets.read_json(v1.video_tree, "video.json")
        new_video = ctx.assets.read_json(v2.video_tree, "video.json")
        assert g.capture_tree == v2.capture_tree != v1.capture_tree
    steps = {st["id"]: st for st in gj["steps"]}
    assert steps["open-expenses"]["text"] == OPEN_TEXT  # the edit survived
    assert steps["submit-expense"]["text"] == SUBMIT_TEXT and steps["submit-expense"]["review"]  # kept, flagged
    assert steps["submit-expense"]["generated_text"] == "Click **Save expense**."
    # the text kept over the renamed button, and the new dialog after it with the step to add
    assert [rv["step"] for rv in log["review"]] == ["submit-expense", "submit-expense"]
    assert "proposed: add a step after this one: click Confirm in dialog" in log["review"][1]["why"]
    # the video: unchanged segments are the same files, only the rest was rendered
    old = {sg["id"]: sg["segment_sha256"] for sg in old_video["segments"]}
    new = {sg["id"]: sg["segment_sha256"] for sg in new_video["segments"]}
    assert new_video["guide_id"] == gj["id"]
    assert {"intro", "open-expenses", "new-expense"} <= set(log["segments_reused"])
    assert all(new[i] == old[i] for i in log["segments_reused"])
    assert sorted(log["segments_rendered"]) == sorted(i for i in new if new[i] != old.get(i))
    # the guide page and the editor show it; the stale badge is gone (the check no longer applies)
    page = owner.get(f"/guides/{env.gid}").text
    assert 'data-draft="yes"' in page and "Publish version 2" in page and "reused" in page
    assert "changed in the app" not in page.split('id="freshness"')[0]
    editor = owner.get(f"/guides/{env.gid}/edit").text
    assert 'data-kind="renamed" data-step="submit-expense"' in editor and 'data-kind="new_flow"' in editor
    assert owner.get(f"/api/guides/{env.gid}/edits").json()["attention"]["review"][0]["step"] == "submit-expense"
    # learners keep version 1 until the draft is published
    viewer = env.client(VIEWER)
    assert viewer.get(f"/g/{env.gid}/v/2").status_code == 404
    assert f"/g/{env.gid}/v/1/files/" in viewer.get(f"/g/{env.gid}").text
    assert owner.post(f"/api/guides/{env.gid}/refresh", json={}).status_code == 409  # that check is used up
    r = owner.post(f"/api/guides/{env.gid}/versions/2/publish")
    assert r.status_code == 200 and r.json()["draft"] is False
    assert viewer.get(f"/g/{env.gid}/v/2").status_code == 200
    assert f"/g/{env.gid}/v/2/files/" in viewer.get(f"/g/{env.gid}").text
    assert owner.get(f"/api/guides/{env.gid}").json()["published_version"] == 2


def test_check_results_and_the_editor_name_steps_as_learners_see_them_and_publishing_asks_first(env):
    """After the refresh: the guide page, the report and the editor's "needs your attention" list name steps
    by the learner's number and text (no capture ids, no markup); publishing with open items asks first."""
    from guidecast.capture.browser import launch_browser

    owner = env.client(OWNER)
    gj = owner.get(f"/api/guides/{env.gid}/edits").json()["base"]
    number = {s["id"]: s["number"] for s in gj["steps"]}
    page = owner.get(f"/guides/{env.gid}").text
    freshness_part = page.split('id="freshness"', 1)[1].split('id="jobs-h"', 1)[0]
    versions_part = page.split('id="versions"', 1)[1].split('id="links"', 1)[0]
    for part in (freshness_part, versions_part):
        assert "<code>" not in part and "**" not in part
    assert f"Step {number['submit-expense']} “Click <strong>Submit expense</strong>" in versions_part
    assert "choose-category" not in versions_part.replace('data-step="choose-category"', "")
    report = owner.get(owner.get(f"/api/guides/{env.gid}/checks").json()[-1]["report_html"]).text
    assert "Step 1 “" in report and "submit-expense" not in report and "cap-" not in report

    with launch_browser() as browser:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.add_cookies([{"name": "guidecast_session", "value": owner.cookies["guidecast_session"], "url": env.url}])
        p = ctx.new_page()
        p.goto(f"{env.url}/guides/{env.gid}/edit")
        p.wait_for_selector("#editor[data-ready='1']")
        items = p.locator(".attention-item")
        kinds = items.evaluate_all("els => els.map(e => e.dataset.kind)")
        assert "renamed" in kinds and "new_flow" in kinds, kinds
        text = p.locator("#attention").inner_text()
        assert "**" not in text and "submit-expense" not in text and "steps." not in text
        n = number["submit-expense"]
        renamed = p.locator(".attention-item[data-kind=renamed]").inner_text()
        assert renamed.strip().startswith(f"Step {n} “Click Submit expense") and "Save expense" in renamed
        flow = p.locator(".attention-item[data-kind=new_flow]")
        assert f"Step {n} “" in flow.inner_text() and "click Confirm" in flow.inner_text()
        # the proposed step is one click away
        flow.get_by_role("button", name="Add this step").click()
        p.wait_for_function("() => document.getElementById('save-state').textContent === 'All changes saved'")
        assert any(f["text"] == "Click **Confirm**." and f["after"] == "submit-expense"
                   for f in owner.get(f"/api/guides/{env.gid}/edits").json()["edits"]["insert"])
        assert p.locator(".edit-step.is-free .text strong").inner_text() == "Confirm"
        # publishing with items not ticked asks first; going back publishes nothing
        jobs = count_jobs(env)
        p.get_by_role("button", name="Publish new version").click()
        dialog = p.locator("#publish-confirm")
        dialog.wait_for(state="visible")
        assert "not ticked yet" in dialog.inner_text()
        p.get_by_role("button", name="Go back and look").click()
        dialog.wait_for(state="hidden")
        assert count_jobs(env) == jobs
        for box in p.locator(".attention-done").all():
            box.check()
        p.get_by_role("button", name="Publish new version").click()
        p.wait_for_function("() => document.getElementById('publish-state').textContent.startsWith('Published version 3')",
                            timeout=90000)
        assert not dialog.is_visible()
        ctx.close()


def test_scheduler_queues_due_checks_one_at_a_time_and_check_due_runs_them(env, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from guidecast.cli import cli
    from guidecast.server import freshness

    ctx = env.ctx
    owner = env.client(OWNER)
    # point the guide at the changed app (its capture now comes from there): re-pointing is allowlisted too
    r = owner.post(f"/guides/{env.gid}/settings", data={"status": "published", "app_base_url": "http://10.9.9.9/"})
    assert r.status_code == 403
    r = owner.post(f"/guides/{env.gid}/settings", data={"status": "published", "app_base_url": env.changed.url})
    assert r.status_code == 200 and guide_row(env, env.gid).app_base_url == env.changed.url
    monkeypatch.setattr(ctx.settings, "check_interval_hours", 24.0)
    assert freshness.tick(ctx) == []  # checked minutes ago: not due
    later = utcnow() + timedelta(hours=25)
    queued = freshness.tick(ctx, now=later)
    assert len(queued) == 1
    assert freshness.tick(ctx, now=later) == []  # one at a time: nothing more while it is queued or running
    with ctx.db.session() as s:
        job = s.get(Job, queued[0])
        assert job.kind == "check" and job.guide_id == env.gid and job.params == {"scheduled": True}
    owner.post(f"/api/jobs/{queued[0]}/cancel")  # the worker may have started it already
    assert run_job(owner, owner.get(f"/api/jobs/{queued[0]}").json())["state"] in ("cancelled", "done")
    # the scheduler thread ticks by itself
    monkeypatch.setattr(freshness, "utcnow", lambda: later)
    sched = freshness.Scheduler(ctx, period=0.05)
    sched.start()
    try:
        deadline = time.monotonic() + 10
        while (newest := newest_check_job(env)).id == queued[0]:
            assert time.monotonic() < deadline, "the scheduler queued nothing"
            time.sleep(0.05)
    finally:
        sched.stop()
    assert newest.params == {"scheduled": True}
    owner.post(f"/api/jobs/{newest.id}/cancel")
    assert run_job(owner, owner.get(f"/api/jobs/{newest.id}").json())["state"] in ("cancelled", "done")
    monkeypatch.undo()
    monkeypatch.setattr(ctx.settings, "check_interval_hours", 0.0)
    assert freshness.tick(ctx, now=later) == []  # off

    # `guidecast check-due` runs what is due once, in its own process context (as cron would). Put the
    # guide's check history two hours back (a job that finished while the clock was moved recorded that
    # future time), so that with a one-hour interval it is due whatever the machine's speed.
    past = utcnow() - timedelta(hours=2)
    with ctx.db.session() as s:
        s.execute(update(Guide).where(Guide.id == env.gid).values(last_verified_at=past))
        s.execute(update(Job).where(Job.kind == "check", Job.guide_id == env.gid).values(created_at=past))
    env_vars = {"GUIDECAST_CAPTURE_ALLOWED_HOSTS": "127.0.0.1", "GUIDECAST_CAPTURE_ENV_VARS": "EXPENSELY_PASSWORD",
                "GUIDECAST_TTS_ENGINE": "silent"}
    args = ["check-due", "--data-dir", str(ctx.settings.data_dir), "--interval-hours", "1"]
    res = CliRunner().invoke(cli, args, env=env_vars)
    assert res.exit_code == 0, res.output
    assert f"guide {env.gid} " in res.output and ": unchanged" in res.output
    checks = owner.get(f"/api/guides/{env.gid}/checks").json()
    assert checks[0]["scheduled"] and checks[0]["outcome"] == "unchanged" and checks[0]["base_url"] == env.changed.url
    res = CliRunner().invoke(cli, args[:-2] + ["--interval-hours", "24"], env=env_vars)
    assert res.exit_code == 0 and "no guide is due" in res.output


def test_owner_hands_the_guide_to_another_editor(env):
    owner = env.client(OWNER)
    assert owner.post(f"/guides/{env.gid}/settings", data={"status": "published", "owner": VIEWER}).status_code == 422
    r = owner.post(f"/guides/{env.gid}/settings",
                   data={"status": "published", "owner": OTHER, "review_by": "2000-01-01"})
    assert r.status_code == 200
    other = env.client(OTHER)
    assert other.get(f"/api/guides/{env.gid}/checks").status_code == 200
    assert owner.get(f"/api/guides/{env.gid}/checks").status_code == 403  # no longer theirs
    summary = other.get("/api/guides", params={"show": "overdue"}).json()
    assert [g["id"] for g in summary] == [env.gid] and summary[0]["owner"] == OTHER and summary[0]["overdue"]
    assert f'data-guide-id="{env.gid}"' in other.get("/", params={"show": "overdue"}).text


def test_a_draft_whose_blurred_element_vanished_is_held_until_reviewed(env):
    """A refresh whose blur lost its element makes a draft the server will not publish (409, in words) until
    the editor says they looked (`reviewed`); the editor lists it under "needs your attention"."""
    from guidecast.samples.expense_app import start_sample_app

    owner = env.client(OWNER)
    with start_sample_app("base", ui={"menu_extra": "Reports"}) as app:
        from guidecast.samples import WORKFLOWS_DIR

        r = upload(owner, "submit-expense.yaml", (WORKFLOWS_DIR / "submit-expense.yaml").read_bytes(), app.url)
        assert r.status_code == 201, r.text
        gid = r.json()["guide"]["id"]
        wait_jobs(owner, gid, 2, timeout=180)
        s = owner.get(f"/api/guides/{gid}/edits").json()
        menu = next(c for c in s["tools"]["fill-amount"]["controls"] if c["name"] == "Reports")
        doc = {"steps": {"fill-amount": {"blur": [menu["box"]]}}}
        assert owner.put(f"/api/guides/{gid}/edits", json={"base_revision": s["revision"], "edits": doc}).status_code == 200
        publish(owner, gid)
    with start_sample_app("base", ui={"category_first": True}) as changed:  # no Reports menu item any more
        c = check(env, gid, changed.url)
        assert c["outcome"] == "changed", c
        job = run_job(owner, owner.post(f"/api/guides/{gid}/refresh", json={}).json(), timeout=240)
        assert job["state"] == "done", job
    versions = owner.get(f"/api/guides/{gid}/versions").json()
    assert [(v["number"], v["draft"]) for v in versions] == [(1, False), (2, True)]
    r = owner.post(f"/api/guides/{gid}/versions/2/publish")
    assert r.status_code == 409 and "Reports" in r.json()["detail"] and "reviewed" in r.json()["detail"]
    assert owner.post(f"/api/guides/{gid}/versions/2/publish", json={"reviewed": False}).status_code == 409
    assert owner.get(f"/api/guides/{gid}").json()["published_version"] == 1  # learners keep version 1
    items = owner.get(f"/api/guides/{gid}/edits").json()["attention"]["items"]
    lost = [i for i in items if i["kind"] == "blur_lost"]
    assert len(lost) == 1 and "**Reports**" in lost[0]["why"] and lost[0]["number"] and lost[0]["text"]
    placed = owner.get(f"/api/guides/{gid}/edits").json()["placed"]["fill-amount"]
    assert [(p["state"], p["name"]) for p in placed] == [("lost", "Reports")]
    # the editor marks that blur on the screenshot, in words
    from guidecast.capture.browser import launch_browser

    with launch_browser() as browser:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.add_cookies([{"name": "guidecast_session", "value": owner.cookies["guidecast_session"], "url": env.url}])
        p = ctx.new_page()
        p.goto(f"{env.url}/guides/{gid}/edit")
        p.wait_for_selector("#editor[data-ready='1']")
        mark = p.locator("[data-step-id='fill-amount'] .box.blur.state-lost")
        assert mark.count() == 1 and mark.locator(".blur-state").text_content() == "“Reports” is gone: check this blur"
        assert p.locator(".attention-item[data-kind=blur_lost]").count() == 1
        ctx.close()
    r = owner.post(f"/api/guides/{gid}/versions/2/publish", json={"reviewed": True})
    assert r.status_code == 200 and r.json()["draft"] is False
    assert owner.get(f"/api/guides/{gid}").json()["published_version"] == 2
