"""People and access: password hashing (argon2), session sign-in, API tokens, sign-in rate limiting,
and the FastAPI dependencies that say who is asking and what role they need.

Roles: viewer (learner) < editor (record, edit, publish) < admin (everything, users). See
server/permissions.py for what each may see and change.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.models import ROLES, ApiToken, User, utcnow

TOKEN_PREFIX = "gct_"
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


class SigninLimiter:
    """Failed sign-ins per IP and per account in a sliding window; over the limit: HTTP 429."""

    def __init__(self, per_ip: int, per_account: int, window_s: int):
        self.limits = {"ip": per_ip, "account": per_account}
        self.window = window_s
        self._fails: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _count(self, key: tuple[str, str], now: float) -> int:
        q = self._fails[key]
        while q and q[0] < now - self.window:
            q.popleft()
        return len(q)

    def check(self, ip: str, account: str) -> None:
        now = time.monotonic()
        with self._lock:
            for kind, value in (("ip", ip), ("account", account.lower())):
                if self._count((kind, value), now) >= self.limits[kind]:
                    raise HTTPException(429, "Too many failed sign-ins; wait a few minutes and try again.",
                                        headers={"Retry-After": str(self.window)})

    def failed(self, ip: str, account: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._fails[("ip", ip)].append(now)
            self._fails[("account", account.lower())].append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._fails.pop(("account", account.lower()), None)


def get_db(request: Request):
    with request.app.state.ctx.db.session() as s:
        yield s


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
        tok.last_used_at = utcnow()
        request.state.via_token = True
        return _remember(request, tok.user)
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = db.get(User, uid)
    if user is None or not user.active:
        request.session.pop("uid", None)
        return None
    return _remember(request, user)


def require(role: str = "viewer"):
    """Dependency: a signed-in user with at least `role`."""

    def dep(user: User | None = Depends(current_user)) -> User:
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
    request.session["csrf"] = secrets.token_urlsafe(32)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
