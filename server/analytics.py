"""Learner analytics per guide and version: views, video plays, completion (reached the last step or
watched to the end) and the drop-off step (the furthest step of learners who did not complete)."""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.models import Event

KINDS = ("view", "play", "step", "complete", "ended")


def record(db: Session, guide_id: int, version: int, kind: str, step_index: int | None, session: str) -> bool:
    """Store the event unless this learner session sent it already (a replayed beacon counts once)."""
    session = session[:40]
    same = select(Event.id).where(Event.guide_id == guide_id, Event.version == version, Event.kind == kind,
                                  Event.session == session,
                                  Event.step_index.is_(None) if step_index is None else Event.step_index == step_index)
    if db.scalar(same.limit(1)) is not None:
        return False
    db.add(Event(guide_id=guide_id, version=version, kind=kind, step_index=step_index, session=session))
    return True


def summary(db: Session, guide_id: int) -> list[dict]:
    """One row per version, newest first."""
    per: dict[int, dict[str, dict]] = defaultdict(dict)
    rows = db.execute(select(Event.version, Event.session, Event.kind, Event.step_index)
                      .where(Event.guide_id == guide_id))
    for version, sess, kind, step in rows:
        s = per[version].setdefault(sess, {"view": False, "play": False, "done": False, "furthest": 0})
        if kind == "view":
            s["view"] = True
        elif kind == "play":
            s["play"] = True
        elif kind in ("complete", "ended"):
            s["done"] = True
        if step is not None:
            s["furthest"] = max(s["furthest"], step)
    out = []
    for version in sorted(per, reverse=True):
        sessions = per[version].values()
        views = sum(s["view"] for s in sessions)
        done = sum(s["done"] for s in sessions)
        drop = Counter(s["furthest"] for s in sessions if not s["done"])
        out.append({
            "version": version, "views": views, "plays": sum(s["play"] for s in sessions),
            "completions": done, "completion_rate": round(done / views, 3) if views else 0.0,
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
                "dropoff_by_step"])
    for r in rows:
        w.writerow([guide_id, r["version"], r["views"], r["plays"], r["completions"], r["completion_rate"],
                    r["dropoff_step"] if r["dropoff_step"] is not None else "",
                    " ".join(f"{k}:{v}" for k, v in r["dropoff"].items())])
    return buf.getvalue()
