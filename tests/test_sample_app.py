"""The Expensely sample app (samples/expense_app) and the sample workflows (samples/workflows)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from guidecast.samples import WORKFLOWS_DIR as WORKFLOWS
from guidecast.samples.expense_app import SampleApp, create_app, start_sample_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-gpu",
]
PASSWORD = "test-password-123"
EXPENSE_FORM = {
    "description": "Team offsite train tickets", "amount": "128.50", "category": "Travel",
    "date": "2026-11-14", "billable": "yes", "notes": "",
}


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv("EXPENSELY_PASSWORD", PASSWORD)


def signed_in(variant: str = "base") -> TestClient:
    client = TestClient(create_app(variant))
    r = client.post("/login", data={"email": "alex.morgan@example.com", "password": PASSWORD})
    assert r.status_code == 200 and r.url.path == "/dashboard"
    return client


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / f"{name}.yaml").read_text("utf-8"))


# --- HTTP-level tests --------------------------------------------------------------------------
def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown Expensely variant 'bogus'.*base, changed"):
        create_app("bogus")
    with pytest.raises(ValueError):
        start_sample_app("bogus")


@pytest.mark.parametrize("path", ["/dashboard", "/expenses", "/expenses/new", "/expenses/1", "/team", "/settings"])
def test_pages_require_sign_in(path):
    client = TestClient(create_app())
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    assert client.get(path).url.path == "/login"


def test_root_redirects_by_session():
    client = TestClient(create_app())
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    client = signed_in()
    assert client.get("/", follow_redirects=False).headers["location"] == "/expenses"


def test_login_page_markup():
    html = TestClient(create_app()).get("/login").text
    assert "<h1" in html and "Sign in to Expensely</h1>" in html
    assert re.search(r'<label for="email">Email</label>\s*<input id="email" name="email" type="email"', html)
    assert re.search(r'<label for="password">Password</label>\s*<input id="password" name="password" type="password"', html)
    assert re.search(r'<button type="submit" class="btn btn-primary btn-block" data-testid="sign-in">Sign in</button>', html)
    assert 'role="alert"' not in html


def test_wrong_password_shows_error_and_no_session():
    client = TestClient(create_app())
    r = client.post("/login", data={"email": "alex.morgan@example.com", "password": "nope"})
    assert r.status_code == 200 and r.url.path == "/login"
    assert 'role="alert"' in r.text and "don&#39;t match" in r.text
    assert 'value="alex.morgan@example.com"' in r.text  # email kept, password not echoed
    assert client.get("/expenses").url.path == "/login"


def test_password_comes_from_env_at_create_time(monkeypatch):
    monkeypatch.delenv("EXPENSELY_PASSWORD")
    default_app = TestClient(create_app())
    r = default_app.post("/login", data={"email": "a@example.com", "password": "demo-password"})
    assert r.url.path == "/dashboard"
    monkeypatch.setenv("EXPENSELY_PASSWORD", "other")
    custom = TestClient(create_app())
    assert custom.post("/login", data={"email": "a@example.com", "password": "demo-password"}).url.path == "/login"
    assert custom.post("/login", data={"email": "a@example.com", "password": "other"}).url.path == "/dashboard"


def test_layout_menu_and_sign_out():
    client = signed_in()
    html = client.get("/team").text
    assert '<nav aria-label="Main menu"' in html
    for label in ("Dashboard", "Expenses", "Team", "Settings"):
        assert f"<span>{label}</span></a>" in html
    assert re.search(r'href="/team" data-testid="nav-team" aria-current="page"', html)
    assert html.count('aria-current="page"') == 1
    assert "alex.morgan@example.com" in html and ">Sign out</button>" in html
    r = client.post("/logout")
    assert r.url.path == "/login"
    assert client.get("/team").url.path == "/login"


def test_dashboard_totals():
    html = signed_in().get("/dashboard").text
    assert "<h1>Dashboard</h1>" in html
    assert "$536.80" in html  # pending: 180.00 + 356.80
    assert "$541.99" in html  # approved: 412.00 + 129.99


def test_create_expense_via_form():
    client = signed_in()
    page = client.get("/expenses")
    assert "<h1>Expenses</h1>" in page.text and 'aria-label="Expenses"' in page.text
    assert ">New expense</a>" in page.text
    form = client.get("/expenses/new").text
    assert ">Submit expense</button>" in form and "Submit for approval?" not in form
    for opt in ("Meals", "Travel", "Office supplies", "Software"):
        assert f">{opt}</option>" in form
    r = client.post("/expenses/new", data=EXPENSE_FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/expenses/7"
    detail = client.get("/expenses/7").text
    assert "<h1>Expense submitted</h1>" in detail
    assert re.search(r'role="status"[^>]*>.*Your expense was sent for approval\.', detail, re.S)
    assert "$128.50" in detail and "Nov 14, 2026" in detail and ">Back to expenses</a>" in detail
    created = [e for e in client.get("/api/expenses").json() if e["id"] == 7]
    assert created == [{
        "id": 7, "description": "Team offsite train tickets", "category": "Travel", "date": "2026-11-14",
        "amount": "128.50", "currency": "USD", "status": "Pending", "billable": True, "notes": "",
        "submitted_by": "alex.morgan@example.com",
    }]
    assert ">Team offsite train tickets</a>" in client.get("/expenses").text
    # A seeded expense has a plain details page (no "submitted" message).
    seeded = client.get("/expenses/1").text
    assert "<h1>Expense details</h1>" in seeded and 'role="status"' not in seeded


def test_missing_fields_rerender_with_error():
    client = signed_in()
    r = client.post("/expenses/new", data={"description": " ", "amount": "", "category": "Travel", "date": ""})
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    for msg in ("Description is required.", "Amount is required.", "Date is required."):
        assert msg in r.text
    assert 'aria-invalid="true"' in r.text
    assert len(client.get("/api/expenses").json()) == 6


def test_invite_teammate():
    client = signed_in()
    html = client.get("/team").text
    assert "<h1>Team</h1>" in html and ">Invite teammate</button>" in html
    assert re.search(r'<dialog id="invite-dialog"[^>]*aria-labelledby="invite-title"', html)
    assert '<h2 id="invite-title">Invite a teammate</h2>' in html
    assert html.count("<label") == 2  # only "Email" and "Role": get_by_label("Email") is unique
    r = client.post("/team/invite", data={"email": "jordan.lee@example.com", "role": "Editor"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/team?invited=jordan.lee%40example.com"
    page = client.get(r.headers["location"]).text
    assert re.search(r'role="status"[^>]*>.*Invitation sent to jordan.lee@example.com', page, re.S)
    team = client.get("/api/team").json()
    assert {"name": "Jordan Lee", "email": "jordan.lee@example.com", "role": "Editor", "status": "Invited"} in team
    again = client.post("/team/invite", data={"email": "jordan.lee@example.com", "role": "Viewer"})
    assert again.status_code == 422 and "already on the team" in again.text and "data-open-on-load" in again.text


def test_settings_save():
    client = signed_in()
    r = client.post("/settings", data={"display_name": "Alex M.", "weekly_summary": "yes"})
    assert r.url.path == "/settings" and "Settings saved." in r.text and 'role="status"' in r.text
    assert 'value="Alex M."' in r.text


def test_changed_variant_differences():
    base, changed = signed_in("base"), signed_in("changed")
    b, c = base.get("/expenses/new").text, changed.get("/expenses/new").text
    # 1. renamed
    assert ">Submit expense</button>" in b and ">Save expense</button>" in c and ">Submit expense<" not in c
    # 2. moved: Category first in the changed form, after Amount in the base form
    assert b.index('for="description"') < b.index('for="amount"') < b.index('for="category"') < b.index('for="date"')
    assert c.index('for="category"') < c.index('for="description"') < c.index('for="amount"') < c.index('for="date"')
    # 3. new dialog
    assert "Submit for approval?" not in b and "<dialog" not in b
    assert re.search(r'<dialog id="confirm-dialog"[^>]*aria-labelledby="confirm-title"', c)
    assert '<h2 id="confirm-title">Submit for approval?</h2>' in c and ">Confirm</button>" in c and ">Cancel</button>" in c
    # 4. restyled
    assert "btn btn-primary btn-block" in TestClient(create_app("base")).get("/login").text
    assert "btn btn-success btn-block" in TestClient(create_app("changed")).get("/login").text
    # Unchanged pages are identical.
    for path in ("/dashboard", "/expenses", "/team", "/settings"):
        assert base.get(path).text == changed.get(path).text, path
    # Without confirmation the changed variant only asks; Confirm (confirmed=yes) submits.
    r = changed.post("/expenses/new", data=EXPENSE_FORM)
    assert r.status_code == 200 and "data-open-on-load" in r.text and len(changed.get("/api/expenses").json()) == 6
    r = changed.post("/expenses/new", data={**EXPENSE_FORM, "confirmed": "yes"})
    assert r.url.path == "/expenses/7" and "Expense submitted" in r.text


def test_no_external_resources():
    client = signed_in()
    pages = [client.get(p).text for p in ("/dashboard", "/expenses", "/expenses/new", "/team", "/settings")]
    pages.append(TestClient(create_app()).get("/login").text)
    for html in pages:
        assert not re.search(r'(src|href)="(https?:)?//', html)
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "@import" not in css.text and not re.search(r"url\(['\"]?(https?:)?//", css.text)
    assert client.get("/static/app.js").status_code == 200


def test_start_several_servers_and_stop_quickly():
    a = start_sample_app("base")
    with start_sample_app("changed") as b:
        assert isinstance(a, SampleApp) and a.variant == "base" and b.variant == "changed"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", a.url) and a.url != b.url
        assert httpx.get(f"{a.url}/login").status_code == 200
        assert "btn-success" in httpx.get(f"{b.url}/login").text
        keep_alive = httpx.Client()  # an idle keep-alive connection must not delay stopping
        keep_alive.get(f"{a.url}/login")
        t0 = time.monotonic()
        a.stop()
        assert time.monotonic() - t0 < 2.0
        keep_alive.close()
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{a.url}/login", timeout=1)
        assert httpx.get(f"{b.url}/login").status_code == 200
    assert not b.running
    a.stop()  # stopping twice is fine


@pytest.mark.parametrize("name", ["submit-expense", "invite-teammate"])
def test_workflow_files(name):
    data = load(name)
    assert data["schema_version"] == 1 and data["start_url"] == "/login"
    assert data["secrets"] == {"password": "EXPENSELY_PASSWORD"}
    ids = [s["id"] for s in data["steps"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)
    workflow = pytest.importorskip("guidecast.capture.workflow")
    workflow.load_workflow(WORKFLOWS / f"{name}.yaml")  # the capture stage's own validation


# --- Real Chromium -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def locate(page, target: dict):
    """The Playwright locator for a workflow locator (same mapping as the capture stage)."""
    exact = target.get("exact", True)
    if "role" in target:
        kw = {"name": target["name"]} if "name" in target else {}
        return page.get_by_role(target["role"], exact=exact, **kw)
    if "label" in target:
        return page.get_by_label(target["label"], exact=exact)
    if "test_id" in target:
        return page.get_by_test_id(target["test_id"])
    if "text" in target:
        return page.get_by_text(target["text"], exact=exact)
    if "placeholder" in target:
        return page.get_by_placeholder(target["placeholder"], exact=exact)
    return page.locator(target["css"])


def run_step(page, base_url: str, step: dict, secrets: dict) -> None:
    from playwright.sync_api import expect

    action = step["action"]
    if action == "goto":
        page.goto(base_url + step["url"])
        return
    if action == "press" and "target" not in step:
        page.keyboard.press(step["key"])
        return
    loc = locate(page, step["target"])
    loc.first.wait_for(state="visible", timeout=5000)
    expect(loc, f"step {step['id']}: locator must match exactly one element").to_have_count(1)
    value = secrets[step["secret"]] if "secret" in step else step.get("value")
    {
        "click": lambda: loc.click(),
        "fill": lambda: loc.fill(value),
        "select": lambda: loc.select_option(label=value),
        "check": lambda: loc.check(),
        "uncheck": lambda: loc.uncheck(),
        "hover": lambda: loc.hover(),
        "press": lambda: loc.press(step["key"]),
    }[action]()


def open_page(browser, app, workflow: dict):
    vp = workflow["viewport"]
    context = browser.new_context(viewport={"width": vp["width"], "height": vp["height"]})
    page = context.new_page()
    page.set_default_timeout(5000)
    page.goto(app.url + workflow["start_url"])
    return context, page


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["base", "changed"])
def test_submit_expense_in_browser(browser, variant):
    from playwright.sync_api import expect

    wf = load("submit-expense")
    secrets = {name: PASSWORD for name in wf["secrets"]}  # EXPENSELY_PASSWORD is set by the fixture
    values = {s["id"]: s.get("value") for s in wf["steps"]}
    with start_sample_app(variant) as app:
        context, page = open_page(browser, app, wf)
        try:
            for step in wf["steps"]:
                if variant == "changed" and step["id"] == "submit-expense":
                    # The workflow's button name no longer exists: it was renamed.
                    expect(locate(page, step["target"])).to_have_count(0)
                    page.get_by_role("button", name="Save expense", exact=True).click()
                    dialog = page.get_by_role("dialog", name="Submit for approval?")
                    expect(dialog).to_be_visible()
                    assert len(httpx.get(f"{app.url}/api/expenses").json()) == 6  # not submitted yet
                    dialog.get_by_role("button", name="Confirm", exact=True).click()
                    continue
                run_step(page, app.url, step, secrets)
                if step["id"] == "new-expense":
                    labels = ["Category", "Description"] if variant == "changed" else ["Description", "Amount"]
                    first = page.locator("#expense-form label").first
                    expect(first).to_have_text(labels[0])
                    submit = "Save expense" if variant == "changed" else "Submit expense"
                    expect(page.get_by_role("button", name=submit, exact=True)).to_be_in_viewport(ratio=1)
            expect(page.get_by_role("heading", level=1)).to_have_text("Expense submitted")
            expect(page.get_by_role("status")).to_have_text("Your expense was sent for approval.")
            expect(page.get_by_role("link", name="Back to expenses")).to_be_visible()
            assert re.search(r"/expenses/\d+$", page.url)
        finally:
            context.close()
        created = httpx.get(f"{app.url}/api/expenses").json()[-1]
    assert created["description"] == values["fill-description"]
    assert created["amount"] == values["fill-amount"]
    assert created["category"] == values["choose-category"]
    assert created["date"] == values["fill-date"]
    assert created["billable"] is True and created["status"] == "Pending"


@pytest.mark.browser
def test_invite_teammate_in_browser(browser):
    from playwright.sync_api import expect

    wf = load("invite-teammate")
    secrets = {name: PASSWORD for name in wf["secrets"]}
    values = {s["id"]: s.get("value") for s in wf["steps"]}
    with start_sample_app("base") as app:
        context, page = open_page(browser, app, wf)
        try:
            for step in wf["steps"]:
                if step["id"] == "open-invite-dialog":
                    # Cancel closes the dialog without inviting anyone.
                    page.get_by_role("button", name="Invite teammate", exact=True).click()
                    dialog = page.get_by_role("dialog", name="Invite a teammate")
                    expect(dialog).to_be_visible()
                    dialog.get_by_role("button", name="Cancel", exact=True).click()
                    expect(dialog).to_be_hidden()
                run_step(page, app.url, step, secrets)
                if step["id"] == "open-invite-dialog":
                    expect(page.get_by_role("dialog", name="Invite a teammate")).to_be_visible()
                    expect(page.get_by_label("Email", exact=True)).to_be_focused()
            email = values["enter-invitee-email"]
            expect(page.get_by_role("status")).to_have_text(f"Invitation sent to {email}")
            row = page.get_by_role("row").filter(has_text=email)
            expect(row).to_contain_text("Invited")
            expect(row).to_contain_text(values["choose-role"])
        finally:
            context.close()
        team = httpx.get(f"{app.url}/api/team").json()
    assert {"name": "Jordan Lee", "email": email, "role": "Editor", "status": "Invited"} in team
