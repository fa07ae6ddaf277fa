"""The server's tables (SQLAlchemy 2 ORM). Schema changes go through Alembic (server/migrations)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("viewer", "editor", "admin")  # each role can do everything the ones before it can
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # sessions carry the generation they were signed in at; sign-out, a new password and deactivation move it
    # on, which ends every session of the user at once
    session_gen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def end_sessions(self) -> None:
        self.session_gen = (self.session_gen or 0) + 1

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token; never the token
    prefix: Mapped[str] = mapped_column(String(12))  # shown to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()


class Guide(Base):
    __tablename__ = "guides"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    tags_json: Mapped[str] = mapped_column(Text, default="[]")
    review_by: Mapped[str | None] = mapped_column(String(10), nullable=True)  # YYYY-MM-DD
    last_verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    workflow_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)  # uploaded workflow YAML
    workflow_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    app_base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    capture_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)  # latest capture bundle
    base_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)  # composed, before edits
    base_video_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)  # video of the base guide
    search_text: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[User] = relationship()
    versions: Mapped[list[GuideVersion]] = relationship(back_populates="guide", order_by="GuideVersion.number",
                                                         cascade="all, delete-orphan")

    @property
    def tags(self) -> list[str]:
        return json.loads(self.tags_json or "[]")

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self.tags_json = json.dumps(value)

    @property
    def latest_version(self) -> GuideVersion | None:
        """The newest version, drafts included (what editors work on)."""
        return self.versions[-1] if self.versions else None

    @property
    def published_version(self) -> GuideVersion | None:
        """The newest version that is not a draft (what learners and share links see)."""
        return next((v for v in reversed(self.versions) if not v.draft), None)


class GuideMember(Base):
    """An editor the owner shares a guide with: they may see and edit it."""

    __tablename__ = "guide_members"
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class EditDoc(Base):
    """The guide's working edits (one JSON document shaped like composer.edits.EditSet) and its revision."""

    __tablename__ = "edit_docs"
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    doc_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.doc_json or "{}")


class GuideVersion(Base):
    """An immutable published version: composed guide (+ video when rendered) from a capture and edits."""

    __tablename__ = "guide_versions"
    __table_args__ = (UniqueConstraint("guide_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    guide_tree: Mapped[str] = mapped_column(String(64))
    video_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)
    capture_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)
    composed_guide_id: Mapped[str] = mapped_column(String(64))  # composer's Guide.id
    edits_json: Mapped[str] = mapped_column(Text, default="{}")
    edits_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # a draft version (made by a refresh) is seen by the guide's editors only until it is published
    draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    changelog_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # what a refresh changed, per step
    guide: Mapped[Guide] = relationship(back_populates="versions")

    @property
    def changelog(self) -> dict | None:
        return json.loads(self.changelog_json) if self.changelog_json else None


class ShareLink(Base):
    __tablename__ = "share_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    # sha256 of the link's token, never the token; the token is HMAC(secret key, nonce) (server/sharing.py)
    token_hash: Mapped[str] = mapped_column("token", String(64), unique=True)
    nonce: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: a link made before tokens were hashed
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: follow the latest published
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    guide: Mapped[Guide] = relationship()


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # capture | compose | publish | render | check | refresh
    state: Mapped[str] = mapped_column(String(16), default="queued")
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    result_json: Mapped[str] = mapped_column(Text, default="{}")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)  # host:pid of the process running it

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")


class Check(Base):
    """One freshness check of a guide: its capture (the baseline) replayed against the app and compared.

    outcome: unchanged (verified: nothing user-visible changed) | changed | unverified (the app could not
    be reached or the replay could not finish: nothing is known)."""

    __tablename__ = "checks"
    __table_args__ = (Index("ix_checks_guide", "guide_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    baseline_tree: Mapped[str] = mapped_column(String(64))  # the capture compared with
    capture_tree: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the new capture (for refresh)
    report_blob: Mapped[str] = mapped_column(String(64))  # FreshnessReport JSON
    html_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the HTML report (before/after)
    summary_json: Mapped[str] = mapped_column(Text, default="{}")  # changed steps and their classes, error
    refreshed_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version a refresh made

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self.summary_json or "{}")


class Event(Base):
    """One analytics beacon: view, play, step (reached), complete, ended."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_guide_version", "guide_id", "version"), Index("ix_events_session", "guide_id", "session"))
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    step_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SigninFailure(Base):
    """One failed sign-in, counted per client address (kind "ip") and per account (kind "account") over the
    sign-in window by every server process that shares the database (server/limits.py)."""

    __tablename__ = "signin_failures"
    __table_args__ = (Index("ix_signin_failures_key", "kind", "value", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(320))
    at: Mapped[float] = mapped_column(Float)  # time.time()


class RateBucket(Base):
    """One token bucket of the anonymous-route rate limit (server/limits.py `RateLimit`), per client
    address: in the database, so that every web process draws from the same bucket."""

    __tablename__ = "rate_buckets"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)  # time.time() of the last request
    ok: Mapped[bool] = mapped_column(Boolean)  # whether the last request was let through


# The learning records' tables live in their own module; importing it here puts them in Base.metadata for
# whoever needs every table (the migrations' model comparison, `create_all` in tests).
from guidecast.server import learning_models  # noqa: E402,F401
