"""People and access: password hashing (argon2), session sign-in, API tokens, sign-in rate limiting,
and the FastAPI dependencies that say who is asking and what role they need.

Roles: viewer (learner) < editor (record, edit, publish) < admin (everything, users). See
server/permissions.py for what each may see and change.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.models import ROLES, ApiToken, User, utcnow

TOKEN_PREFIX = "gct_"
TOKEN_TOUCH_S = 60
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token(db: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """Create a token; the plain value is returned once and only its hash is stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:200] or "token", token_hash=hash_token(plain),
                   prefix=plain[len(TOKEN_PREFIX):][:8])
    db.add(row)
    db.flush()
    return plain, row


@dataclass(frozen=True)
class Who:
    """Who is signed in, detached from the database session (what pages and error pages show)."""

    id: int
    email: str
    role: str

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _remember(request: Request, user: User) -> User:
    request.state.user = Who(user.id, user.email, user.role)
    return user


class NotSignedIn(Exception):
    """Raised by the dependencies; pages redirect to the sign-in form, the API answers 401."""


async def get_db(request: Request):
    """A database session for one request, within a slot of the request gate (server/capacity.py): waiting
    for the slot holds no thread and no connection; commit or rollback run in a worker thread."""
    ctx = request.app.state.ctx
    async with ctx.gate.slot():
        s = ctx.db.sessions()
        try:
            yield s
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(ctx.db.abort, s)
            raise
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(ctx.db.finish, s)


DB = Depends(get_db, scope="function")  # commit before the response is sent, never after


def current_user(request: Request, db: Session = DB) -> User | None:
    """The signed-in user (session cookie) or the API token's owner (Authorization: Bearer ...)."""
    header = request.headers.get("authorization", "")
    request.state.via_token = False
    request.state.user = None
    if header.lower().startswith("bearer "):
        tok = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()),
                                               ApiToken.revoked_at.is_(None)))
        if tok is None or not tok.user.active:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        now = utcnow()
        if tok.last_used_at is None or (now - tok.last_used_at).total_seconds() > TOKEN_TOUCH_S:
            tok.last_used_at = now  # not on every call: a read-only request should not need the write lock
        request.state.via_token = True
        return _remember(request, tok.user)
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = db.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active or request.session.get("gen") != user.session_gen:
        request.session.clear()  # signed out elsewhere, password changed or deactivated: this session ended
        return None
    return _remember(request, user)


def require(role: str = "viewer"):
    """Dependency: a signed-in user with at least `role`."""

    async def dep(user: User | None = Depends(current_user)) -> User:  # no I/O: no thread of its own
        if user is None:
            raise NotSignedIn()
        if not user.at_least(role):
            raise HTTPException(403, f"this needs the {role} role")
        return user

    dep.__name__ = f"require_{role}"
    return dep


def sign_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session["uid"] = user.id
    request.session["gen"] = user.session_gen or 0
    request.session["csrf"] = secrets.token_urlsafe(32)
