"""Tables of the learning records (server/learning.py): the quiz of each guide version, one record per
learner and guide version, and the outbox of xAPI statements waiting for the Learning Record Store."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guidecast.server.models import Base, utcnow


class QuizDoc(Base):
    """The knowledge check of one guide version (a composer.quiz.Quiz as JSON) and its revision."""

    __tablename__ = "quizzes"
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    doc_json: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LearnerRecord(Base):
    """What one learner did with one guide version: opened, practised (score, per step tries and time),
    the check (score, passed, attempts, the steps missed), time spent, and the steps to re-check when a
    newer version changed them."""

    __tablename__ = "learner_records"
    __table_args__ = (UniqueConstraint("guide_id", "version", "learner"), Index("ix_learner_records_learner", "learner"))
    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    learner: Mapped[str] = mapped_column(String(340))  # "user:ID", "email:ADDRESS" or "anon:RANDOM" (share links)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    practised_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    practice_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    practice_json: Mapped[str] = mapped_column(Text, default="[]")  # [{id, tries, seconds, hinted}]
    checked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    check_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    check_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    check_attempts: Mapped[int] = mapped_column(Integer, default=0)
    missed_json: Mapped[str] = mapped_column(Text, default="[]")  # step ids the last check attempt got wrong
    time_spent_s: Mapped[int] = mapped_column(Integer, default=0)
    recheck_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # step ids a newer version changed
    recheck_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # ... the version that changed them
    notified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def practice(self) -> list[dict]:
        return json.loads(self.practice_json or "[]")

    @property
    def missed(self) -> list[str]:
        return json.loads(self.missed_json or "[]")

    @property
    def recheck(self) -> list[str]:
        return json.loads(self.recheck_json) if self.recheck_json else []


class XapiOutbox(Base):
    """An xAPI statement waiting for the LRS (sent_at set once it accepted it); kept across restarts."""

    __tablename__ = "xapi_outbox"
    __table_args__ = (Index("ix_xapi_outbox_due", "sent_at", "next_try_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    statement_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[float] = mapped_column(Float, default=0.0)  # time.time()
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
