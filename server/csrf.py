"""CSRF protection for cookie-authenticated changes.

Every session carries a random token; forms send it as the `csrf_token` field and the browser's JSON
calls as the `X-CSRF-Token` header. Requests authenticated with an API token (no cookie) are exempt.
"""
from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = secrets.token_urlsafe(32)
    return tok


async def csrf_protect(request: Request) -> None:
    """Dependency for every state-changing route."""
    if request.method in SAFE_METHODS or getattr(request.state, "via_token", False) \
            or request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
