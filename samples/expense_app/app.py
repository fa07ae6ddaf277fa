"""The Expensely FastAPI app. `create_app(variant)` gives an app with its own seeded store.

Variants: "base" and "changed". All differences of "changed" are listed in `UI` below and read
by the templates (look for `ui.` in templates/login.html and templates/expense_new.html) and by
the one server-side conditional in `create_expense`.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from guidecast.samples.expense_app.store import CATEGORIES, ROLES, Store, parse_expense_form

HERE = Path(__file__).parent
SESSION_COOKIE = "expensely_session"
DEFAULT_PASSWORD = "demo-password"

# --- The deliberate differences of the "changed" variant (and nothing else differs) ----------
UI = {
    "base": {
        "signin_class": "btn-primary",  # blue "Sign in" button
        "submit_label": "Submit expense",
        "category_first": False,
        "confirm_dialog": False,
        # Knobs for tests that change one thing at a time (create_app(ui={...})); "changed" keeps these.
        "email_label": "Email",
        "description_label": "Description",
        "invite_label": "Invite teammate",
        "extra_field": None,  # the label of an extra optional field on New expense (e.g. "Project code")
        "menu_extra": None,  # the name of an extra item in the main menu (e.g. "Reports")
    },
    "changed": {
        "signin_class": "btn-success",  # 4. restyled: green "Sign in" button, same name/place
        "submit_label": "Save expense",  # 1. renamed submit button on /expenses/new
        "category_first": True,  # 2. moved: Category is the first field, above Description
        "confirm_dialog": True,  # 3. new dialog "Submit for approval?" before submitting
    },
}
VARIANTS = tuple(UI)

NAV = [
    ("dashboard", "Dashboard", "/dashboard"),
    ("expenses", "Expenses", "/expenses"),
    ("team", "Team", "/team"),
    ("settings", "Settings", "/settings"),
]


class _LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


def _safe_next(path: str | None) -> str:
    """Only same-site absolute paths are followed after sign-in."""
    if path and path.startswith("/") and not path.startswith("//") and not path.startswith("/login"):
        return path
    return "/dashboard"


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["money"] = lambda d: f"${d:,.2f}"
    t.env.filters["nice_date"] = lambda d: f"{d:%b} {d.day}, {d.year}"
    t.env.filters["initials"] = lambda name: "".join(w[0] for w in name.split()[:2]).upper() or "?"
    t.env.globals.update(nav=NAV, categories=CATEGORIES, roles=ROLES)
    return t


def create_app(variant: str = "base", ui: dict | None = None) -> FastAPI:
    """`ui`: knobs of `UI` to set over the variant's (unknown ones are an error)."""
    if variant not in UI:
        raise ValueError(f"unknown Expensely variant {variant!r}; expected one of: {', '.join(VARIANTS)}")
    unknown = set(ui or {}) - set(UI["base"])
    if unknown:
        raise ValueError(f"unknown Expensely UI setting(s): {', '.join(sorted(unknown))}")
    password = os.environ.get("EXPENSELY_PASSWORD") or DEFAULT_PASSWORD
    ui = {**UI["base"], **UI[variant], **(ui or {})}
    store = Store()
    templates = _templates()

    app = FastAPI(title=f"Expensely ({variant})", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.variant = variant
    app.state.store = store
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def user_of(request: Request) -> str | None:
        return store.sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    def require_user(request: Request) -> str:
        user = user_of(request)
        if not user:
            raise _LoginRequired(request.url.path)
        return user

    def render(request: Request, name: str, status_code: int = 200, **ctx):
        user = user_of(request)
        ctx.update(
            variant=variant,
            ui=ui,
            user=user,
            profile=store.settings_for(user) if user else None,
        )
        return templates.TemplateResponse(request, name, ctx, status_code=status_code)

    @app.exception_handler(_LoginRequired)
    async def _to_login(request: Request, exc: _LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    def see_other(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    # --- sign in / out ---------------------------------------------------------------------
    @app.get("/")
    async def home(request: Request):
        return RedirectResponse("/expenses" if user_of(request) else "/login", status_code=302)

    @app.get("/login")
    async def login_page(request: Request, next: str = ""):
        if user_of(request):
            return RedirectResponse(_safe_next(next), status_code=302)
        return render(request, "login.html", next=next, email="", error=None)

    @app.post("/login")
    async def login(request: Request):
        form = await request.form()
        email = str(form.get("email") or "").strip()
        given = str(form.get("password") or "")
        next_path = str(form.get("next") or "")
        error = None
        if not email or "@" not in email:
            error = "Enter your work email address."
        elif not secrets.compare_digest(given.encode(), password.encode()):
            error = "That email and password don't match. Check them and try again."
        if error:
            return render(request, "login.html", next=next_path, email=email, error=error)
        resp = see_other(_safe_next(next_path))
        resp.set_cookie(SESSION_COOKIE, store.open_session(email), httponly=True, samesite="lax", path="/")
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        store.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        resp = see_other("/login")
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # --- pages -------------------------------------------------------------------------------
    @app.get("/dashboard")
    async def dashboard(request: Request):
        require_user(request)
        return render(
            request, "dashboard.html", active="dashboard", totals=store.totals(), team=store.team,
            recent=store.expenses_newest_first()[:4],
        )

    @app.get("/expenses")
    async def expenses(request: Request):
        require_user(request)
        rows = store.expenses_newest_first()
        return render(request, "expenses.html", active="expenses", expenses=rows, total=sum(e.amount for e in rows))

    def new_expense_page(request: Request, values=None, errors=None, open_confirm=False, status_code=200):
        values = values or {"category": CATEGORIES[0]}
        return render(
            request, "expense_new.html", status_code=status_code, active="expenses",
            values=values, errors=errors or {}, open_confirm=open_confirm,
        )

    @app.get("/expenses/new")
    async def new_expense(request: Request):
        require_user(request)
        return new_expense_page(request)

    @app.post("/expenses/new")
    async def create_expense(request: Request):
        user = require_user(request)
        form = dict(await request.form())
        values, errors = parse_expense_form(form)
        shown = {k: str(form.get(k) or "") for k in ("description", "amount", "category", "date", "notes")}
        shown["billable"] = bool(form.get("billable"))
        if errors:
            return new_expense_page(request, shown, errors, status_code=422)
        # VARIANT "changed": only the dialog's Confirm button (confirmed=yes) really submits.
        if ui["confirm_dialog"] and form.get("confirmed") != "yes":
            return new_expense_page(request, shown, open_confirm=True)
        exp = store.add_expense(submitted_by=user, **values)
        return see_other(f"/expenses/{exp.id}")

    @app.get("/expenses/{expense_id}")
    async def expense_detail(request: Request, expense_id: int):
        require_user(request)
        exp = store.get_expense(expense_id)
        if exp is None:
            return render(request, "not_found.html", status_code=404, active="expenses")
        return render(request, "expense_detail.html", active="expenses", expense=exp)

    @app.get("/team")
    async def team(request: Request, invited: str = ""):
        require_user(request)
        mate = store.find_teammate(invited) if invited else None
        return render(
            request, "team.html", active="team", team=store.team,
            invited=mate.email if mate and mate.status == "Invited" else None,
            invite={"email": "", "role": ROLES[0]}, invite_errors={},
        )

    @app.post("/team/invite")
    async def invite(request: Request):
        require_user(request)
        form = await request.form()
        email = str(form.get("email") or "").strip()
        role = str(form.get("role") or "")
        errors = {}
        if not email or "@" not in email or " " in email:
            errors["email"] = "Enter an email address, like name@example.com."
        elif store.find_teammate(email):
            errors["email"] = f"{email} is already on the team."
        if role not in ROLES:
            errors["role"] = "Role must be Viewer, Editor or Admin."
        if errors:
            return render(
                request, "team.html", status_code=422, active="team", team=store.team, invited=None,
                invite={"email": email, "role": role}, invite_errors=errors,
            )
        store.invite(email, role)
        return see_other(f"/team?invited={quote(email)}")

    @app.get("/settings")
    async def settings_page(request: Request, saved: str = ""):
        user = require_user(request)
        return render(request, "settings.html", active="settings", form=store.settings_for(user),
                      saved=bool(saved), error=None)

    @app.post("/settings")
    async def save_settings(request: Request):
        user = require_user(request)
        form = await request.form()
        name = str(form.get("display_name") or "").strip()
        weekly = bool(form.get("weekly_summary"))
        if not name:
            return render(request, "settings.html", status_code=422, active="settings",
                          form={"display_name": name, "weekly_summary": weekly}, saved=False,
                          error="Display name is required.")
        store.settings_for(user).update(display_name=name, weekly_summary=weekly)
        return see_other("/settings?saved=1")

    # --- JSON, for tests asserting end states (no sign-in needed) -----------------------------
    @app.get("/api/expenses")
    async def api_expenses():
        return JSONResponse([e.to_json() for e in sorted(store.expenses, key=lambda e: e.id)])

    @app.get("/api/team")
    async def api_team():
        return JSONResponse([t.to_json() for t in store.team])

    @app.post("/api/reset")
    async def api_reset():
        """The seeded data again (a workflow's setup hook calls it so that replays start alike)."""
        store.reset()
        return JSONResponse({"reset": True})

    return app
