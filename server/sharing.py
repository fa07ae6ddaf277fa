"""Share links: unguessable tokens (secrets.token_urlsafe), optional expiry, revocable; a link pins a
version or follows the latest published one. A guide taken back to draft answers no link."""
from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.models import Guide, GuideVersion, ShareLink, User, utcnow

MAX_DAYS = 3650


def create_link(db: Session, guide: Guide, user: User, version: int | None = None,
                expires_in_days: float | None = None, now: datetime | None = None) -> ShareLink:
    v = version_of(guide, version) if version is not None else None
    if version is not None and v is None:
        raise HTTPException(422, f"guide has no version {version}")
    if v is not None and v.draft:
        raise HTTPException(422, f"version {version} is a draft; publish it before sharing it")
    if expires_in_days is not None and not (math.isfinite(expires_in_days) and 0 < expires_in_days <= MAX_DAYS):
        raise HTTPException(422, f"expires_days: a number of days above 0 and at most {MAX_DAYS}, or leave it out "
                                 "for a link that does not expire")
    link = ShareLink(guide_id=guide.id, token=secrets.token_urlsafe(24), version=version, created_by=user.id,
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
    link = db.scalar(select(ShareLink).where(ShareLink.token == token)) if len(token) <= 64 else None
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
