"""Learning records: who opened, practised and passed which guide version, the quiz stored per version,
"re-check needed" when a newer version changed steps a learner passed, the dashboard's numbers and CSV.

The practice steps and the quiz come from the composer (`composer.practice`, `composer.quiz`): the server
stores, serves and counts. Every record names the guide version; the xAPI statements that report it are
queued in the same transaction (server/xapi.py).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import smtplib
from collections import Counter
from email.message import EmailMessage

from fastapi import HTTPException
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guidecast.composer.guide import Guide as GuideModel
from guidecast.composer.polish import PolishSettings
from guidecast.composer.quiz import HotspotQuestion, Quiz, generate_quiz, generate_with_model
from guidecast.server import xapi
from guidecast.server.learning_models import LearnerRecord, QuizDoc
from guidecast.server.models import Guide, GuideVersion, utcnow
from guidecast.server.versions import diff, guide_json

log = logging.getLogger("guidecast.learning")
MAX_SECONDS = 4 * 3600  # one report of time spent counts at most this much


# -- the quiz of a version --------------------------------------------------------------------------------

def guide_model(ctx, v: GuideVersion) -> GuideModel:
    return GuideModel.model_validate(guide_json(ctx, v.guide_tree))


def quiz_row(ctx, db: Session, g: Guide, v: GuideVersion) -> QuizDoc:
    """The stored quiz of version `v`, made on first use: from the steps, keeping a person's questions of the
    version before on steps this version did not change."""
    row = db.get(QuizDoc, (g.id, v.number))
    if row is not None:
        return row
    guide = guide_model(ctx, v)
    quiz = generate_quiz(guide)
    prev = db.scalar(select(QuizDoc).where(QuizDoc.guide_id == g.id, QuizDoc.version < v.number)
                     .order_by(QuizDoc.version.desc()).limit(1))
    if prev is not None:
        quiz = _carried(ctx, g, prev, v, quiz, guide)
    row = QuizDoc(guide_id=g.id, version=v.number, revision=0, doc_json=quiz.model_dump_json())
    try:
        with db.begin_nested():  # two first visitors at once: the second reads the first one's quiz
            db.add(row)
    except IntegrityError:
        row = db.get(QuizDoc, (g.id, v.number))
        if row is None:
            raise
    return row


def _carried(ctx, g: Guide, prev: QuizDoc, v: GuideVersion, generated: Quiz, guide: GuideModel) -> Quiz:
    old = Quiz.model_validate_json(prev.doc_json)
    if old.source != "person":
        return generated
    pv = next((x for x in g.versions if x.number == prev.version), None)
    if pv is None:
        return generated
    d = diff(guide_json(ctx, pv.guide_tree), guide.model_dump(mode="json"))
    touched = {c["id"] for c in d["changed"]} | {c["id"] for c in d["removed"]}
    steps = {s.id: s for s in guide.steps}
    kept = []
    for q in old.questions:
        if q.step_id in touched or (q.step_id and q.step_id not in steps):
            continue
        if isinstance(q, HotspotQuestion):
            st = steps[q.step_id]
            if not st.practice_image or not st.image_size:
                continue
            try:  # the same step's new picture; a box that no longer fits is left out
                q = HotspotQuestion.model_validate({**q.model_dump(), "image": st.practice_image,
                                                    "image_size": st.image_size})
            except ValidationError:
                continue
        kept.append(q)
    ids = {q.id for q in kept}
    fresh = [q for q in generated.questions if q.step_id in touched and q.id not in ids]
    return Quiz(pass_mark=old.pass_mark, questions=kept + fresh, source="person",
                notices=[f"carried from version {prev.version}; questions on changed steps made again"])


def quiz_of(ctx, db: Session, g: Guide, v: GuideVersion) -> Quiz:
    return Quiz.model_validate_json(quiz_row(ctx, db, g, v).doc_json)


def field_errors(err: ValidationError) -> str:
    """A pydantic error as one line per field: 'questions[2].choices: no choice is marked correct ...'."""
    lines = []
    for e in err.errors():
        parts: list[str] = []
        for p in e["loc"]:
            if isinstance(p, int):
                parts[-1:] = [f"{parts[-1]}[{p}]" if parts else f"[{p}]"]
            elif p not in ("choice", "hotspot"):
                parts.append(str(p))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{'.'.join(parts) or 'quiz'}: {msg}")
    return "; ".join(lines)


def save_quiz(ctx, db: Session, g: Guide, v: GuideVersion, data: dict, revision: int, user_id: int) -> QuizDoc:
    """Validate and store a manager's quiz (422 naming the field; 409 when someone saved in between)."""
    row = quiz_row(ctx, db, g, v)
    if revision != row.revision:
        raise HTTPException(409, f"the quiz was saved by someone else (revision {row.revision}); reload it")
    if not isinstance(data, dict):
        raise HTTPException(422, "quiz: an object with pass_mark and questions")
    guide = guide_model(ctx, v)
    steps = {s.id: s for s in guide.steps}
    questions = data.get("questions")
    if isinstance(questions, list):  # a hotspot's picture is the step's own: never one the client names
        for k, q in enumerate(questions):
            if isinstance(q, dict) and q.get("kind") == "hotspot":
                st = steps.get(q.get("step_id"))  # type: ignore[arg-type]
                if st is None or not st.practice_image or not st.image_size:
                    raise HTTPException(422, f"questions[{k}].step_id: no step of version {v.number} with a picture "
                                             f"has the id {q.get('step_id')!r}")
                q["image"], q["image_size"] = st.practice_image, list(st.image_size)
            elif isinstance(q, dict) and q.get("step_id") not in (None, "") and q.get("step_id") not in steps:
                raise HTTPException(422, f"questions[{k}].step_id: version {v.number} has no step {q.get('step_id')!r}")
    try:
        quiz = Quiz.model_validate({**data, "source": "person", "notices": []})
    except ValidationError as e:
        raise HTTPException(422, field_errors(e)) from None
    row.doc_json, row.revision = quiz.model_dump_json(), row.revision + 1
    row.updated_by, row.updated_at = user_id, utcnow()
    return row


def model_quiz(ctx, v: GuideVersion) -> Quiz:
    st = ctx.settings
    settings = PolishSettings(model=st.quiz_model or "gpt-4o-mini", base_url=st.quiz_base_url, api_key=st.quiz_api_key)
    return generate_with_model(guide_model(ctx, v), settings)


# -- records ------------------------------------------------------------------------------------------------

def record_for(db: Session, g: Guide, v: GuideVersion, who: dict) -> LearnerRecord:
    def find(learner: str) -> LearnerRecord | None:
        return db.scalar(select(LearnerRecord).where(LearnerRecord.guide_id == g.id, LearnerRecord.version == v.number,
                                                     LearnerRecord.learner == learner))

    rec = find(who["learner"])
    if rec is None and who.get("was"):  # a share-link visitor who gave their name after opening: the same learner
        rec = find(who["was"])
        if rec is not None:
            rec.learner = who["learner"]
    if rec is None:
        rec = LearnerRecord(guide_id=g.id, version=v.number, learner=who["learner"], user_id=who.get("user_id"),
                            name=who.get("name"), email=who.get("email"), practice_json="[]", missed_json="[]",
                            check_attempts=0, time_spent_s=0)
        try:
            with db.begin_nested():  # the same learner's two tabs at once: one record
                db.add(rec)
        except IntegrityError:
            return record_for(db, g, v, who)
    else:
        rec.name = who.get("name") or rec.name
        rec.email = who.get("email") or rec.email
    return rec


def _statement(ctx, rec: LearnerRecord, v: GuideVersion, verb: str, **kw) -> dict:
    from guidecast.server.routes_learner import public_url

    base = public_url(ctx.settings)
    return xapi.statement(verb, xapi.actor(base, rec.learner, rec.name, rec.email), base, rec.guide_id, v.number,
                          v.title, **kw)


def opened(ctx, db: Session, g: Guide, v: GuideVersion, who: dict) -> LearnerRecord:
    rec = record_for(db, g, v, who)
    if rec.opened_at is None:
        rec.opened_at = utcnow()
        xapi.queue(db, _statement(ctx, rec, v, "experienced"))
    return rec


def add_time(rec: LearnerRecord, seconds: float) -> None:
    rec.time_spent_s = (rec.time_spent_s or 0) + int(max(0, min(seconds, MAX_SECONDS)))


def practised(ctx, db: Session, g: Guide, v: GuideVersion, who: dict, steps: list[dict], seconds: float) -> LearnerRecord:
    """steps: [{id, tries, seconds, hinted}] of every practice step; the score is the share right at the first try."""
    rec = opened(ctx, db, g, v, who)
    right_first = sum(1 for s in steps if s["tries"] <= 1 and not s.get("hinted"))
    rec.practice_score = round(100 * right_first / len(steps)) if steps else 0
    rec.practice_json, rec.practised_at = json.dumps(steps), utcnow()
    add_time(rec, seconds)
    xapi.queue(db, _statement(ctx, rec, v, "attempted", part="practice", part_name=f"Practice: {v.title}",
                              result={"score": {"scaled": rec.practice_score / 100, "raw": rec.practice_score,
                                                "min": 0, "max": 100}, "completion": True,
                                      "duration": f"PT{int(seconds)}S"}))
    return rec


def checked(ctx, db: Session, g: Guide, v: GuideVersion, who: dict, quiz: Quiz, graded, seconds: float) -> LearnerRecord:
    rec = opened(ctx, db, g, v, who)
    rec.check_attempts = (rec.check_attempts or 0) + 1
    rec.check_score, rec.checked_at = graded.score, utcnow()
    rec.check_passed = bool(rec.check_passed) or graded.passed  # a pass stays a pass
    rec.missed_json = json.dumps(graded.missed_steps)
    add_time(rec, seconds)
    for q in quiz.questions:
        xapi.queue(db, _statement(ctx, rec, v, "answered", part=f"check/{q.id}", part_name=q.prompt,
                                  result={"success": graded.right[q.id]}))
    verb = "passed" if graded.passed else "failed"
    xapi.queue(db, _statement(ctx, rec, v, verb, part="check", part_name=f"Knowledge check: {v.title}",
                              result={"score": {"scaled": graded.score / 100, "raw": graded.score, "min": 0, "max": 100},
                                      "success": graded.passed, "completion": True}))
    if graded.passed:  # passing this version answers any re-check an older one asked for
        for old in db.scalars(select(LearnerRecord).where(LearnerRecord.guide_id == g.id,
                                                          LearnerRecord.learner == rec.learner,
                                                          LearnerRecord.version < v.number)):
            old.recheck_json = None
    return rec


# -- versions: re-check needed --------------------------------------------------------------------------

def changed_steps(ctx, old: GuideVersion, new: GuideVersion) -> list[str]:
    """Step ids of `new` that differ from `old` (text, narration, callouts, picture, place) or are new."""
    d = diff(guide_json(ctx, old.guide_tree), guide_json(ctx, new.guide_tree))
    return [c["id"] for c in d["changed"]] + [a["id"] for a in d["added"]]


def mark_rechecks(ctx, db: Session, g: Guide) -> list[LearnerRecord]:
    """Learners whose newest pass is of an older version than the published one, and whose steps it changed:
    their record lists those steps (and only those). Returns the records newly marked."""
    current = g.published_version
    if current is None:
        return []
    newest: dict[str, LearnerRecord] = {}
    for rec in db.scalars(select(LearnerRecord).where(LearnerRecord.guide_id == g.id, LearnerRecord.check_passed.is_(True))
                          .order_by(LearnerRecord.version)):
        newest[rec.learner] = rec
    marked, cache = [], {}
    versions = {x.number: x for x in g.versions}
    for rec in newest.values():
        if rec.version >= current.number or rec.recheck_version == current.number or rec.version not in versions:
            continue
        if rec.version not in cache:
            cache[rec.version] = changed_steps(ctx, versions[rec.version], current)
        steps = cache[rec.version]
        rec.recheck_json = json.dumps(steps) if steps else None
        rec.recheck_version = current.number
        if steps:
            marked.append(rec)
    return marked


def recheck_of(db: Session, g: Guide, learner: str) -> LearnerRecord | None:
    """The learner's record that asks for a re-check (of the steps a newer version changed), if any."""
    return db.scalar(select(LearnerRecord).where(LearnerRecord.guide_id == g.id, LearnerRecord.learner == learner,
                                                 LearnerRecord.recheck_json.is_not(None))
                     .order_by(LearnerRecord.version.desc()).limit(1))


def after_publish(ctx, db: Session, g: Guide) -> None:
    """Called where a version becomes what learners see: mark re-checks, and e-mail them after the commit. A
    version whose stored guide cannot be read marks nothing (the dashboard tries again) and never stops the
    publishing."""
    try:
        marked = mark_rechecks(ctx, db, g)
    except (HTTPException, OSError, ValueError) as e:
        log.warning("re-checks of guide %s not marked: %s", g.id, e)
        return
    if not marked or not ctx.settings.smtp_host:
        return
    current = g.published_version
    mails = [(r.id, r.email, r.name, r.recheck) for r in marked if r.email]
    if not mails or current is None:
        return
    from guidecast.server.routes_learner import public_url

    link = f"{public_url(ctx.settings)}/g/{g.id}/v/{current.number}/check"
    gj = guide_json(ctx, current.guide_tree)
    texts = {s["id"]: f"step {s['number']}: {s['text'].replace('**', '')}" for s in gj.get("steps", [])}
    title, number = g.title, current.number

    def send() -> None:
        sent = notify(ctx.settings, [(m[1], m[2], [texts.get(i, i) for i in m[3]]) for m in mails], title, number, link)
        if sent:
            with ctx.db.session() as s:
                for rid, *_ in mails:
                    rec = s.get(LearnerRecord, rid)
                    if rec is not None:
                        rec.notified_at = utcnow()

    db.info.setdefault("after_commit", []).append(send)


def notify(settings, mails: list[tuple[str, str | None, list[str]]], title: str, version: int, link: str) -> bool:
    """One e-mail per learner through the configured SMTP server; False (logged) when it cannot be reached."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            for to, name, steps in mails:
                msg = EmailMessage()
                msg["From"], msg["To"] = settings.smtp_from, to
                msg["Subject"] = f"Re-check needed: {title} changed (version {version})"
                lines = [f"Hello {name or ''}".rstrip() + ",", "",
                         f"The guide “{title}” has a new version ({version}). These steps changed since you passed "
                         "its check:", ""] + [f"  - {s}" for s in steps] + ["", f"Take the check again: {link}", ""]
                msg.set_content("\n".join(lines))
                smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException) as e:
        log.warning("re-check e-mails not sent: %s", e)
        return False


# -- the dashboard ----------------------------------------------------------------------------------------

def learner_label(rec: LearnerRecord) -> str:
    if rec.name and rec.email:
        return f"{rec.name} <{rec.email}>"
    return rec.email or rec.name or "anonymous learner"


def dashboard(ctx, db: Session, g: Guide, learner: str | None = None) -> dict:
    q = select(LearnerRecord).where(LearnerRecord.guide_id == g.id)
    if learner:
        q = q.where(LearnerRecord.learner == learner)
    recs = db.scalars(q.order_by(LearnerRecord.version.desc(), LearnerRecord.id)).all()
    versions = {v.number: v for v in g.versions}
    texts: dict[int, dict[str, dict]] = {}

    def step_info(version: int, sid: str) -> dict:
        if version not in texts:
            v = versions.get(version)
            gj = guide_json(ctx, v.guide_tree) if v else {"steps": []}
            texts[version] = {s["id"]: {"number": s["number"], "text": s["text"]} for s in gj.get("steps", [])}
        return texts[version].get(sid, {"number": None, "text": sid})

    funnel: dict[int, dict] = {}
    missed: Counter = Counter()
    missed_at: dict[str, int] = {}
    rows = []
    for r in recs:
        f = funnel.setdefault(r.version, {"version": r.version, "opened": 0, "practised": 0, "passed": 0, "failed": 0})
        f["opened"] += 1
        f["practised"] += r.practised_at is not None
        f["passed"] += bool(r.check_passed)
        f["failed"] += r.check_passed is False
        for s in r.practice:
            if s.get("tries", 1) > 1 or s.get("hinted"):
                missed[s["id"]] += 1
                missed_at.setdefault(s["id"], r.version)
        for sid in r.missed:
            missed[sid] += 1
            missed_at.setdefault(sid, r.version)
        rows.append({
            "learner": r.learner, "label": learner_label(r), "email": r.email, "name": r.name, "version": r.version,
            "opened": r.opened_at.isoformat() if r.opened_at else None,
            "practised": r.practised_at.isoformat() if r.practised_at else None, "practice_score": r.practice_score,
            "check_score": r.check_score, "passed": r.check_passed, "attempts": r.check_attempts,
            "time_spent_s": r.time_spent_s,
            "recheck": [{"id": sid, **step_info(r.recheck_version or r.version, sid)} for sid in r.recheck],
            "recheck_version": r.recheck_version if r.recheck else None,
            "practice": r.practice,
        })
    top = [{"id": sid, "count": n, **step_info(missed_at[sid], sid)} for sid, n in missed.most_common(5)]
    return {"funnel": [funnel[k] for k in sorted(funnel, reverse=True)], "missed": top, "learners": rows,
            "recheck": [r for r in rows if r["recheck"]]}


def csv_text(data: dict, guide_id: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["guide_id", "version", "learner", "name", "email", "opened", "practised", "practice_score",
                "check_score", "passed", "attempts", "time_spent_s", "recheck_steps", "recheck_since_version"])
    for r in data["learners"]:
        w.writerow([guide_id, r["version"], r["learner"], r["name"] or "", r["email"] or "", r["opened"] or "",
                    r["practised"] or "", "" if r["practice_score"] is None else r["practice_score"],
                    "" if r["check_score"] is None else r["check_score"],
                    "" if r["passed"] is None else ("yes" if r["passed"] else "no"), r["attempts"], r["time_spent_s"],
                    " ".join(str(s["number"] or s["id"]) for s in r["recheck"]), r["recheck_version"] or ""])
    return buf.getvalue()
