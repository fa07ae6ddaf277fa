"""Share links: unguessable tokens, optional expiry, revocable; a link pins a version or follows the latest
published one. A guide taken back to draft answers no link.

Tokens are not stored: a link row holds a random nonce and the sha256 of its token, the token being
HMAC-SHA256(secret key, nonce). A copy of the database alone opens no link; the guide page shows a link's
address again by deriving it (links from before hashing, or after the secret key changed, still open but
their address is no longer shown)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.models import Guide, GuideVersion, ShareLink, User, utcnow

MAX_DAYS = 3650
EMBED_SIZE = (960, 540)


def embed_snippet(base: str, token: str, title: str, size: tuple[int, int] = EMBED_SIZE) -> str:
    """The <iframe> a page embeds the guide's player with (the guide page shows it, the API returns it)."""
    from markupsafe import escape

    w, h = size
    return (f'<iframe src="{escape(base)}/embed/{escape(token)}" width="{w}" height="{h}" title="{escape(title)}" '
            'frameborder="0" allow="fullscreen" allowfullscreen></iframe>')


def derive_token(secret: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), b"share-link\0" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:32]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(link: ShareLink, secret: str) -> str | None:
    """The link's token, derived again; None for a link whose token cannot be (made before hashing)."""
    if not link.nonce:
        return None
    token = derive_token(secret, link.nonce)
    return token if hmac.compare_digest(hash_token(token), link.token_hash) else None


def create_link(db: Session, guide: Guide, user: User, version: int | None = None,
                expires_in_days: float | None = None, now: datetime | None = None, *, secret: str) -> ShareLink:
    v = version_of(guide, version) if version is not None else None
    if version is not None and v is None:
        raise HTTPException(422, f"guide has no version {version}")
    if v is not None and v.draft:
        raise HTTPException(422, f"version {version} is a draft; publish it before sharing it")
    if expires_in_days is not None and not (math.isfinite(expires_in_days) and 0 < expires_in_days <= MAX_DAYS):
        raise HTTPException(422, f"expires_days: a number of days above 0 and at most {MAX_DAYS}, or leave it out "
                                 "for a link that does not expire")
    nonce = secrets.token_urlsafe(16)
    link = ShareLink(guide_id=guide.id, token_hash=hash_token(derive_token(secret, nonce)), nonce=nonce,
                     version=version, created_by=user.id,
                     expires_at=(now or utcnow()) + timedelta(days=expires_in_days) if expires_in_days else None)
    db.add(link)
    db.flush()
    return link


def version_of(guide: Guide, number: int | None) -> GuideVersion | None:
    """Version `number`, or the latest published (non-draft) one for None."""
    if number is None:
        return guide.published_version
    return next((v for v in guide.versions if v.number == number), None)


def link_state(link: ShareLink, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired"
    return "live"


def resolve(db: Session, token: str, now: datetime) -> tuple[ShareLink, Guide, GuideVersion]:
    """The link's guide and version; 404 for unknown tokens, 410 for revoked/expired/unpublished."""
    link = db.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token))) if len(token) <= 64 else None
    if link is None:
        raise HTTPException(404, "no such share link")
    state = link_state(link, now)
    if state != "live":
        raise HTTPException(410, f"this share link has been {state}")
    guide = link.guide
    version = version_of(guide, link.version)
    if guide.status != "published" or version is None or version.draft:
        raise HTTPException(410, "this guide is not published")
    return link, guide, version
