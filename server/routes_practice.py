"""Practice mode, the knowledge check and the learning records: the learner's pages (signed in, share
links, embeds), the calls that record what they did, the manager's quiz editor and dashboard (+ CSV)."""
from __future__ import annotations

import hmac
import re
import secrets
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from guidecast.composer.practice import practice_of
from guidecast.composer.quiz import grade, public_view
from guidecast.server import learning
from guidecast.server.auth import DB, current_user, require
from guidecast.server.csrf import HEADER as CSRF_HEADER
from guidecast.server.csrf import csrf_protect
from guidecast.server.limits import client_ip
from guidecast.server.models import Guide, GuideVersion, User
from guidecast.server.params import MAX_ID, Id
from guidecast.server.permissions import guide_for
from guidecast.server.routes_learner import _readable
from guidecast.server.sharing import resolve, version_of
from guidecast.server.versions import get_version

router = APIRouter()
EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}$")


def signer(ctx) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key, salt="learn")


def learn_token(ctx, g: Guide, v: GuideVersion, share: str | None) -> str:
    """What the learner's pages send back with each record: guide, version and share link, signed."""
    return signer(ctx).dumps([g.id, v.number, share or ""])


# -- the learner's pages -----------------------------------------------------------------------------------

def _page(request: Request, db: Session, g: Guide, v: GuideVersion, which: str, *, files: str, share: str | None,
          embed: bool = False, back: str):
    from guidecast.server.web import page

    ctx = request.app.state.ctx
    guide = learning.guide_model(ctx, v)
    token = learn_token(ctx, g, v, share)
    common: dict[str, Any] = {"g": g, "v": v, "guide": guide, "files": files, "token": token, "share": share, "embed": embed,
              "back": back, "ask_name": share is not None and getattr(request.state, "user", None) is None,
              "base": back}
    if which == "practice":
        practice = practice_of(guide)
        return page(request, "practice.html.j2", practice=practice.model_dump(mode="json"), **common)
    quiz = learning.quiz_of(ctx, db, g, v)
    user = getattr(request.state, "user", None)
    recheck = learning.recheck_of(db, g, f"user:{user.id}") if user is not None else None
    steps = {s.id: s for s in guide.steps}
    changed = [steps[i] for i in (recheck.recheck if recheck else []) if i in steps]
    return page(request, "check.html.j2", quiz=public_view(quiz), recheck=recheck, changed=changed, **common)


@router.get("/g/{guide_id}/v/{number}/practice", include_in_schema=False)
def practice_page(request: Request, guide_id: Id, number: Id, user: User = Depends(require("viewer")), db: Session = DB):
    g = guide_for(db, user, guide_id)
    v = _readable(db, user, g, number)
    return _page(request, db, g, v, "practice", files=f"/g/{g.id}/v/{v.number}/files/", share=None,
                 back=f"/g/{g.id}/v/{v.number}")


@router.get("/g/{guide_id}/v/{number}/check", include_in_schema=False)
def check_page(request: Request, guide_id: Id, number: Id, user: User = Depends(require("viewer")), db: Session = DB):
    g = guide_for(db, user, guide_id)
    v = _readable(db, user, g, number)
    return _page(request, db, g, v, "check", files=f"/g/{g.id}/v/{v.number}/files/", share=None,
                 back=f"/g/{g.id}/v/{v.number}")


def _shared_page(request: Request, db: Session, token: str, which: str, embed: bool):
    current_user(request, db)  # a signed-in learner on a share link is recorded as themselves
    _, g, v = resolve(db, token, request.app.state.ctx.clock())
    return _page(request, db, g, v, which, files=f"/s/{token}/files/", share=token, embed=embed,
                 back=f"/embed/{token}" if embed else f"/s/{token}")


@router.get("/s/{token}/practice", include_in_schema=False)
def shared_practice(request: Request, token: str, db: Session = DB):
    return _shared_page(request, db, token, "practice", False)


@router.get("/s/{token}/check", include_in_schema=False)
def shared_check(request: Request, token: str, db: Session = DB):
    return _shared_page(request, db, token, "check", False)


@router.get("/embed/{token}/practice", include_in_schema=False)
def embed_practice(request: Request, token: str, db: Session = DB):
    return _shared_page(request, db, token, "practice", True)


@router.get("/embed/{token}/check", include_in_schema=False)
def embed_check(request: Request, token: str, db: Session = DB):
    return _shared_page(request, db, token, "check", True)


# -- what the learner did ------------------------------------------------------------------------------------

class LearnIn(BaseModel):
    ctx: str = Field(max_length=400, description="the signed token of the learner's page")
    name: str | None = Field(None, max_length=200, description="share links: the learner's name (optional)")
    email: str | None = Field(None, max_length=320, description="share links: the learner's e-mail (optional)")
    seconds: float = Field(0, ge=0, le=learning.MAX_SECONDS, description="time spent since the last report")


class PracticeStepIn(BaseModel):
    id: str = Field(max_length=200)
    tries: int = Field(ge=1, le=1000)
    seconds: float = Field(ge=0, le=learning.MAX_SECONDS)
    hinted: bool = False


class PracticeIn(LearnIn):
    steps: list[PracticeStepIn] = Field(max_length=500)


class CheckIn(LearnIn):
    answers: dict[str, dict[str, Any]] = Field(description="question id -> {choices: [index]} or {x, y} (image pixels)")


def _who(request: Request, db: Session, body: LearnIn) -> dict:
    user = current_user(request, db)
    if user is not None:
        return {"learner": f"user:{user.id}", "user_id": user.id, "email": user.email, "name": None}
    name = (body.name or "").strip() or request.session.get("learner_name") or None
    email = (body.email or "").strip().lower() or request.session.get("learner_email") or None
    if email and not EMAIL.match(email):
        raise HTTPException(422, "email: not an e-mail address (leave it empty to stay anonymous)")
    anon = request.session.get("learner")
    if email:  # remembered for this browser session: its later pages count as the same learner
        request.session["learner_email"], request.session["learner_name"] = email, name
        return {"learner": f"email:{email}", "email": email, "name": name,
                "was": f"anon:{anon}" if isinstance(anon, str) else None}
    if not isinstance(anon, str):
        anon = request.session["learner"] = secrets.token_urlsafe(12)
    return {"learner": f"anon:{anon}", "name": name}


def _context(request: Request, db: Session, body: LearnIn) -> tuple[Guide, GuideVersion, dict]:
    """The guide, version and learner a record is for. A share link's page (also framed by another site, where
    it has no cookie of ours) is an anonymous capability: its signed token; a signed-in learner's needs the
    session's CSRF token."""
    ctx = request.app.state.ctx
    try:
        guide_id, number, share = signer(ctx).loads(body.ctx)
    except (BadSignature, ValueError, TypeError):
        raise HTTPException(400, "ctx: not a token of this server; reload the page") from None
    who = _who(request, db, body)
    if share:
        ctx.anonymous.hit(client_ip(request))
        _, g, _ = resolve(db, share, ctx.clock())
        v = version_of(g, number)
        if v is None or v.draft or g.id != guide_id:
            raise HTTPException(410, "this version is no longer shared")
    else:  # the signed-in learner's own record: their session cookie, so the page's CSRF token too
        user = current_user(request, db)
        if user is None:
            raise HTTPException(401, "sign in first")
        sent, expected = request.headers.get(CSRF_HEADER), request.session.get("csrf")
        if not request.state.via_token and not (sent and expected and hmac.compare_digest(sent, expected)):
            raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
        g = guide_for(db, user, guide_id)
        v = _readable(db, user, g, number)
    return g, v, who


@router.post("/api/learn/opened", tags=["learning"], status_code=204)
def api_opened(request: Request, body: LearnIn, db: Session = DB) -> Response:
    """The learner opened the guide (once per version), and time spent since the last report."""
    g, v, who = _context(request, db, body)
    rec = learning.opened(request.app.state.ctx, db, g, v, who)
    learning.add_time(rec, body.seconds)
    request.app.state.ctx.xapi.poke()
    return Response(status_code=204)


@router.post("/api/learn/practice", tags=["learning"])
def api_practice(request: Request, body: PracticeIn, db: Session = DB) -> dict:
    """A finished practice run: per step, tries (1 = right first time), seconds, whether the hint showed."""
    ctx = request.app.state.ctx
    g, v, who = _context(request, db, body)
    want = [s.id for s in practice_of(learning.guide_model(ctx, v)).steps]
    got = [s.id for s in body.steps]
    if got != want:
        raise HTTPException(422, f"steps: the practice of version {v.number} has {len(want)} steps, in its order")
    rec = learning.practised(ctx, db, g, v, who, [s.model_dump() for s in body.steps], body.seconds)
    ctx.xapi.poke()
    return {"score": rec.practice_score, "version": v.number}


@router.post("/api/learn/check", tags=["learning"])
def api_check(request: Request, body: CheckIn, db: Session = DB) -> dict:
    """Grade the knowledge check; the record keeps the score, the attempts and whether it was passed."""
    ctx = request.app.state.ctx
    g, v, who = _context(request, db, body)
    quiz = learning.quiz_of(ctx, db, g, v)
    graded = grade(quiz, body.answers)
    rec = learning.checked(ctx, db, g, v, who, quiz, graded, body.seconds)
    ctx.xapi.poke()
    return {"score": graded.score, "passed": graded.passed, "pass_mark": quiz.pass_mark, "right": graded.right,
            "attempts": rec.check_attempts, "version": v.number}


# -- the manager's quiz editor -------------------------------------------------------------------------------

def _version(g: Guide, number: int | None) -> GuideVersion:
    v = get_version(g, number) if number is not None else (g.published_version or g.latest_version)
    if v is None:
        raise HTTPException(404, "this guide has no version yet: publish it first")
    return v


class QuizIn(BaseModel):
    """{version (default: the published one), revision (the one this edit starts from), quiz (pass_mark,
    questions)}"""

    version: int | None = Field(None, ge=1, le=MAX_ID, description="the guide version (default: the published one)")
    revision: int = Field(ge=0, le=MAX_ID, description="the revision this edit starts from (409 if it moved on)")
    quiz: dict[str, Any] = Field(description="pass_mark (0-100) and questions (choice or hotspot)")


class GenerateIn(BaseModel):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    source: Literal["steps", "model"] = "steps"


def _quiz_json(ctx, db: Session, g: Guide, v: GuideVersion) -> dict:
    row = learning.quiz_row(ctx, db, g, v)
    return {"version": v.number, "revision": row.revision, "quiz": learning.Quiz.model_validate_json(row.doc_json)
            .model_dump(mode="json"), "files": f"/g/{g.id}/v/{v.number}/files/guide/",
            "model_configured": bool(ctx.settings.quiz_base_url or ctx.settings.quiz_api_key)}


@router.get("/api/guides/{guide_id}/quiz", tags=["learning"])
def api_quiz(request: Request, guide_id: Id, version: int | None = Query(None, ge=1, le=MAX_ID),
             user: User = Depends(require("editor")), db: Session = DB) -> dict:
    g = guide_for(db, user, guide_id, "edit")
    return _quiz_json(request.app.state.ctx, db, g, _version(g, version))


@router.put("/api/guides/{guide_id}/quiz", tags=["learning"], dependencies=[Depends(csrf_protect)])
def api_save_quiz(request: Request, guide_id: Id, raw: dict[str, Any] = Body(description=QuizIn.__doc__ or ""),
                  user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Save the manager's quiz (`version`, `revision`, `quiz`: see QuizIn): 422 naming the field (no correct
    answer, a pass mark outside 0-100, a hotspot box outside its picture); the stored quiz stays as it was."""
    ctx = request.app.state.ctx
    g = guide_for(db, user, guide_id, "edit")  # who may, before what they sent
    try:
        body = QuizIn.model_validate(raw)
    except ValidationError as e:
        raise HTTPException(422, learning.field_errors(e)) from None
    v = _version(g, body.version)
    learning.save_quiz(ctx, db, g, v, body.quiz, body.revision, user.id)
    return _quiz_json(ctx, db, g, v)


@router.post("/api/guides/{guide_id}/quiz/generate", tags=["learning"], dependencies=[Depends(csrf_protect)])
async def api_generate_quiz(request: Request, guide_id: Id, body: GenerateIn | None = None,
                            user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """A new quiz made from the steps (or with the configured model, `source: model`), not saved: the editor
    shows it and the manager saves it."""
    ctx = request.app.state.ctx
    body = body or GenerateIn()

    def make() -> dict:
        g = guide_for(db, user, guide_id, "edit")
        v = _version(g, body.version)
        if body.source == "model":
            quiz = learning.model_quiz(ctx, v)
        else:
            quiz = learning.generate_quiz(learning.guide_model(ctx, v))
        return {"version": v.number, "quiz": quiz.model_dump(mode="json")}

    return await anyio.to_thread.run_sync(make)


@router.get("/guides/{guide_id}/quiz", include_in_schema=False)
def quiz_editor(request: Request, guide_id: Id, version: int | None = Query(None, ge=1, le=MAX_ID),
                user: User = Depends(require("editor")), db: Session = DB):
    from guidecast.server.web import page

    ctx = request.app.state.ctx
    g = guide_for(db, user, guide_id, "edit")
    v = _version(g, version)
    data = _quiz_json(ctx, db, g, v)
    guide = learning.guide_model(ctx, v)
    steps = [{"id": s.id, "number": s.number, "text": s.text, "image": s.practice_image,
              "size": list(s.image_size) if s.image_size else None} for s in guide.steps]
    return page(request, "quiz_editor.html.j2", g=g, v=v, data=data, steps=steps, guide=guide)


# -- the manager's dashboard -------------------------------------------------------------------------------

@router.get("/api/guides/{guide_id}/learners", tags=["learning"])
def api_learners(request: Request, guide_id: Id, learner: str | None = Query(None, max_length=340),
                 user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """Per guide: the funnel per version (opened, practised, passed), the steps most often missed, every
    learner's record, and who needs to re-check which steps. `learner`: one learner's records."""
    g = guide_for(db, user, guide_id, "edit")
    learning.mark_rechecks(request.app.state.ctx, db, g)
    return learning.dashboard(request.app.state.ctx, db, g, learner)


@router.get("/guides/{guide_id}/learners", include_in_schema=False)
def learners_page(request: Request, guide_id: Id, learner: str | None = Query(None, max_length=340),
                  user: User = Depends(require("editor")), db: Session = DB):
    from guidecast.server.web import page

    ctx = request.app.state.ctx
    g = guide_for(db, user, guide_id, "edit")
    learning.mark_rechecks(ctx, db, g)
    return page(request, "learners.html.j2", g=g, data=learning.dashboard(ctx, db, g, learner), learner=learner)


@router.get("/guides/{guide_id}/learners.csv", include_in_schema=False)
def learners_csv(request: Request, guide_id: Id, user: User = Depends(require("editor")), db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    data = learning.dashboard(request.app.state.ctx, db, g)
    return Response(learning.csv_text(data, g.id), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="guide-{g.id}-learners.csv"'})
