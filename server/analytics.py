"""Learner analytics per guide and version: views, video plays, completions and where learners stopped.

Only learners count: the pages of a published version seen by someone who may not edit the guide carry a
signed beacon context (`permissions.counts_as_learner`); editors' previews and draft versions carry none,
and a beacon for a guide no longer published is dropped. Completion is decided here, from the events, in
one of three ways (recorded as its own event, `done:<how>`):

- `steps`: reached the last step in step-by-step mode;
- `video`: played at least 90% of the video (the parts actually played, not a seek to the end);
- `read`: every step was on screen for at least the minimum reading time (`READ_MIN_S`).

Drop-off is the furthest step (the learner's step number) of the sessions that did not complete.
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guidecast.server.models import Event, Guide
from guidecast.server.permissions import is_published

KINDS = ("view", "play", "step", "stepmode", "read", "watch")
STEP_KINDS = ("step", "stepmode", "read")  # `step` is the learner's step number, 1..n
WATCHED_PERCENT = 90
DONE = {"steps": "in step-by-step mode", "video": "watched the video", "read": "read every step"}


def valid(kind: str, step: int | None, n_steps: int) -> bool:
    if kind in STEP_KINDS:
        return step is not None and 1 <= step <= n_steps
    if kind == "watch":
        return step is not None and 0 <= step <= 100
    return kind in KINDS and step is None


def _has(db: Session, guide_id: int, version: int, kind: str, step: int | None, session: str) -> bool:
    same = select(Event.id).where(Event.guide_id == guide_id, Event.version == version, Event.kind == kind,
                                  Event.session == session,
                                  Event.step_index.is_(None) if step is None else Event.step_index == step)
    return db.scalar(same.limit(1)) is not None


def countable(db: Session, guide_id: int, version: int) -> bool:
    """The version is still one learners see: the guide is published and the version is no draft."""
    g = db.get(Guide, guide_id)
    if g is None or not is_published(g):
        return False
    v = next((v for v in g.versions if v.number == version), None)
    return v is not None and not v.draft


def completed_by(db: Session, guide_id: int, version: int, kind: str, step: int | None, session: str,
                 n_steps: int) -> str | None:
    """How this new event completes the guide for the session, if it does."""
    if kind == "stepmode" and step == n_steps:
        return "steps"
    if kind == "watch" and step is not None and step >= WATCHED_PERCENT:
        return "video"
    if kind == "read":
        read = db.scalar(select(func.count(func.distinct(Event.step_index))).where(
            Event.guide_id == guide_id, Event.version == version, Event.kind == "read", Event.session == session))
        if (read or 0) >= n_steps:
            return "read"
    return None


def record(db: Session, guide_id: int, version: int, kind: str, step_index: int | None, session: str,
           n_steps: int = 0) -> bool:
    """Store the event unless this learner session sent it already (a replayed beacon counts once) or the
    version is no longer one learners see; then record the completion it brings, if any."""
    session = session[:40]
    if _has(db, guide_id, version, kind, step_index, session) or not countable(db, guide_id, version):
        return False
    db.add(Event(guide_id=guide_id, version=version, kind=kind, step_index=step_index, session=session))
    db.flush()
    how = completed_by(db, guide_id, version, kind, step_index, session, n_steps)
    if how and not any(_has(db, guide_id, version, f"done:{h}", None, session) for h in DONE):
        db.add(Event(guide_id=guide_id, version=version, kind=f"done:{how}", step_index=None, session=session))
    return True


def summary(db: Session, guide_id: int) -> list[dict]:
    """One row per version, newest first: views, plays, completions (and how), drop-off by step number."""
    per: dict[int, dict[str, dict]] = defaultdict(dict)
    rows = db.execute(select(Event.version, Event.session, Event.kind, Event.step_index)
                      .where(Event.guide_id == guide_id))
    for version, sess, kind, step in rows:
        s = per[version].setdefault(sess, {"view": False, "play": False, "done": None, "furthest": 0})
        if kind == "view":
            s["view"] = True
        elif kind == "play":
            s["play"] = True
        elif kind.startswith("done:"):
            s["done"] = kind[5:]
        elif kind in STEP_KINDS and step is not None:
            s["furthest"] = max(s["furthest"], step)
    out = []
    for version in sorted(per, reverse=True):
        sessions = [s for s in per[version].values() if s["view"]]
        views = len(sessions)
        how = Counter(s["done"] for s in sessions if s["done"])
        done = sum(how.values())
        drop = Counter(s["furthest"] for s in sessions if not s["done"] and s["furthest"])
        out.append({
            "version": version, "views": views, "plays": sum(s["play"] for s in sessions),
            "completions": done, "completion_rate": round(done / views, 3) if views else 0.0,
            "completed_by": {k: how.get(k, 0) for k in DONE},
            "dropoff": dict(sorted(drop.items())),
            "dropoff_step": drop.most_common(1)[0][0] if drop else None,
        })
    return out


def chart_svg(row: dict, n_steps: int) -> Markup:
    """Bars: how many learners stopped at each step without completing (inline SVG, no script)."""
    counts = [row["dropoff"].get(i, 0) for i in range(1, n_steps + 1)] or [0]
    top = max(counts) or 1
    w, h, bar = 24 * len(counts) + 40, 140, 18
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
             f'aria-label="Learners who stopped at each step, version {int(row["version"])}">']
    for i, c in enumerate(counts):
        bh = round(100 * c / top)
        x = 30 + i * 24
        parts.append(f'<rect x="{x}" y="{110 - bh}" width="{bar}" height="{bh}" fill="#d9480f">'
                     f'<title>{escape(f"step {i + 1}: {c} stopped here")}</title></rect>'
                     f'<text x="{x + bar // 2}" y="126" font-size="10" text-anchor="middle">{i + 1}</text>')
    parts.append(f'<text x="2" y="12" font-size="10">{top}</text><line x1="28" y1="110" x2="{w}" y2="110" '
                 'stroke="#555"/></svg>')
    return Markup("".join(parts))


def csv_text(rows: list[dict], guide_id: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["guide_id", "version", "views", "plays", "completions", "completion_rate", "dropoff_step",
                "dropoff_by_step", *(f"completed_{k}" for k in DONE)])
    for r in rows:
        w.writerow([guide_id, r["version"], r["views"], r["plays"], r["completions"], r["completion_rate"],
                    r["dropoff_step"] if r["dropoff_step"] is not None else "",
                    " ".join(f"{k}:{v}" for k, v in r["dropoff"].items()),
                    *(r["completed_by"][k] for k in DONE)])
    return buf.getvalue()
