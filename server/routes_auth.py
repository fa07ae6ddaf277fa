"""Sign-in and sign-out, API tokens, and user administration."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.auth import DB, current_user, hash_password, new_api_token, require, sign_in, verify_password
from guidecast.server.csrf import csrf_protect
from guidecast.server.limits import client_ip, normal_email
from guidecast.server.models import ROLES, ApiToken, User, utcnow
from guidecast.server.params import Id
from guidecast.server.web import page

router = APIRouter()
MIN_PASSWORD = 10


def safe_next(target: str | None) -> str:
    """Only same-site paths: no scheme, no //host, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def create_user(db: Session, email: str, role: str, password: str) -> User:
    email = normal_email(email)
    if "@" not in email or len(email) > 320:
        raise HTTPException(422, "enter an email address")
    if role not in ROLES:
        raise HTTPException(422, f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise HTTPException(422, f"the password needs at least {MIN_PASSWORD} characters")
    if db.scalar(select(User).where(User.email == email)):
        raise HTTPException(409, f"a user {email} already exists")
    user = User(email=email, role=role, password_hash=hash_password(password))
    db.add(user)
    db.flush()
    return user


@router.get("/signin", include_in_schema=False)
def signin_form(request: Request, next: str = "/"):
    return page(request, "signin.html.j2", next=safe_next(next), error=None, email="")


@router.post("/signin", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def signin(request: Request, email: str = Form(...), password: str = Form(...), next: str = Form("/"),
           db: Session = DB):
    limiter, ip = request.app.state.ctx.limiter, client_ip(request)
    limiter.check(ip, email)
    user = db.scalar(select(User).where(User.email == normal_email(email)))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        limiter.failed(ip, email)
        return page(request, "signin.html.j2", 401, next=safe_next(next), email=email,
                    error="Wrong email or password.")
    limiter.succeeded(email)
    sign_in(request, user)
    return RedirectResponse(safe_next(next), 303)


@router.post("/signout", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def signout(request: Request, user: User | None = Depends(current_user), db: Session = DB):
    """Ends every session of the user (a copied cookie stops working too)."""
    if user is not None:
        user.end_sessions()
    request.session.clear()
    return RedirectResponse("/signin", 303)


@router.post("/account/password", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def change_password(request: Request, current: str = Form(...), new: str = Form(...),
                    user: User = Depends(require("viewer")), db: Session = DB):
    """A new password ends every other session of the user; this one goes on."""
    if not verify_password(user.password_hash, current):
        raise HTTPException(403, "the current password is wrong")
    if len(new) < MIN_PASSWORD:
        raise HTTPException(422, f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(new)
    user.end_sessions()
    sign_in(request, user)
    return RedirectResponse("/account", 303)


@router.get("/account", include_in_schema=False)
def account(request: Request, user: User = Depends(require("viewer")), db: Session = DB):
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return page(request, "account.html.j2", tokens=tokens, new_token=None)


@router.post("/account/tokens", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def create_token(request: Request, name: str = Form("cli"), user: User = Depends(require("viewer")),
                 db: Session = DB):
    plain, _ = new_api_token(db, user, name)
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return page(request, "account.html.j2", tokens=tokens, new_token=plain)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def revoke_token(token_id: Id, user: User = Depends(require("viewer")), db: Session = DB):
    tok = db.get(ApiToken, token_id)
    if tok is None or tok.user_id != user.id:
        raise HTTPException(404, "no such token")
    tok.revoked_at = tok.revoked_at or utcnow()
    return RedirectResponse("/account", 303)


@router.get("/api/me", tags=["account"])
async def me(user: User = Depends(require("viewer"))) -> dict:
    """Who the session or API token belongs to."""
    return {"id": user.id, "email": user.email, "role": user.role}


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, _: User = Depends(require("admin")), db: Session = DB):
    return page(request, "users.html.j2", users=db.scalars(select(User).order_by(User.id)).all(), roles=ROLES)


@router.post("/admin/users", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def add_user(email: str = Form(...), role: str = Form(...), password: str = Form(...),
             _: User = Depends(require("admin")), db: Session = DB):
    create_user(db, email, role, password)
    return RedirectResponse("/admin/users", 303)


@router.post("/admin/users/{user_id}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def change_user(user_id: Id, role: str = Form(...), active: bool = Form(False),
                admin: User = Depends(require("admin")), db: Session = DB):
    target = db.get(User, user_id)
    if target is None:
        raise HTTPException(404, "no such user")
    if role not in ROLES:
        raise HTTPException(422, f"role must be one of {', '.join(ROLES)}")
    if target.id == admin.id and (role != "admin" or not active):
        raise HTTPException(422, "you cannot demote or deactivate yourself")
    if target.active and not active:
        target.end_sessions()
    target.role, target.active = role, active
    return RedirectResponse("/admin/users", 303)
