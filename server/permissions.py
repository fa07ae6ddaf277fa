"""Who may see and change which guide.

| who                 | library lists                          | learner view            | edit, publish, share, analytics, export |
|---------------------|----------------------------------------|-------------------------|---------------------------------|
| signed out          | nothing (sign-in page)                 | only through a live share link | no                        |
| viewer (learner)    | published guides                       | latest published version | no                             |
| editor              | own + shared with them + published     | any version of own/shared; published of others | own + shared with them |
| admin               | all                                    | all                     | all, plus users                 |

Exports (HTML, Markdown, PDF, SCORM downloads of any version, drafts included) are for the guide's editors:
`can_export`. Analytics count learners only: a visit by someone who may edit the guide is a preview
(`counts_as_learner`).

"Shared with them" = the owner (or an admin) added the editor as a member of the guide.
A guide nobody may see answers 404 (its existence is not revealed); one they may see but not change, 403.
"""
from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from guidecast.server.models import Guide, GuideMember, User


def is_member(db: Session, guide: Guide, user: User) -> bool:
    return db.get(GuideMember, (guide.id, user.id)) is not None


def can_edit(db: Session, user: User | None, guide: Guide) -> bool:
    if user is None or not user.at_least("editor"):
        return False
    return user.role == "admin" or guide.owner_id == user.id or is_member(db, guide, user)


def can_view(db: Session, user: User | None, guide: Guide) -> bool:
    if user is None:
        return False
    return is_published(guide) or can_edit(db, user, guide)


def can_export(db: Session, user: User | None, guide: Guide) -> bool:
    return can_edit(db, user, guide)


def counts_as_learner(db: Session, user: User | None, guide: Guide, version) -> bool:
    """Whether a visit of `version` counts in the guide's analytics: a published (not draft) version of a
    published guide, seen by someone who may not edit the guide (signed out through a link, or a viewer)."""
    return is_published(guide) and not version.draft and not can_edit(db, user, guide)


def is_published(guide: Guide) -> bool:
    return guide.status == "published" and guide.published_version is not None


def guide_for(db: Session, user: User | None, guide_id: int, need: str = "view") -> Guide:
    """The guide if `user` may `need` ("view", "edit" or "export") it; 404 if they may not even see it,
    else 403."""
    guide = db.get(Guide, guide_id)
    if guide is None or not can_view(db, user, guide):
        raise HTTPException(404, "no such guide")
    if need == "edit" and not can_edit(db, user, guide):
        raise HTTPException(403, "you may view this guide but not change it")
    if need == "export" and not can_export(db, user, guide):
        raise HTTPException(403, "only the guide's editors download its exports")
    return guide


def visible_guides(user: User) -> Select:
    q = select(Guide)
    if user.role == "admin":
        return q
    published = Guide.status == "published"
    if user.role == "viewer":
        return q.where(published)
    shared = select(GuideMember.guide_id).where(GuideMember.user_id == user.id)
    return q.where(or_(published, Guide.owner_id == user.id, Guide.id.in_(shared)))
