"""The editor: the working edit document (autosave with optimistic concurrency), publish, voice
preview, version history and diffs."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from guidecast.composer.edits import check_pronunciations
from guidecast.server import editing
from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.jobs import job_json
from guidecast.server.models import EditDoc, User
from guidecast.server.params import MAX_ID, Id, QueryId
from guidecast.server.permissions import guide_for
from guidecast.server.serving import tree_file
from guidecast.server.storage import prune_caches, touch
from guidecast.server.versions import diff, get_version, guide_json, version_json
from guidecast.server.web import page

router = APIRouter()


class EditsIn(BaseModel):
    base_revision: int = Field(ge=0, le=MAX_ID, description="the revision this document was based on (from GET .../edits)")
    edits: dict = Field(description="the whole edit document, shaped like composer.edits.EditSet")


class PublishIn(BaseModel):
    revision: int | None = Field(None, ge=0, le=MAX_ID, description="publish only if the saved edits are at this revision")


class VoiceIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    voice: str | None = Field(None, max_length=300, description="voice id (GET /api/voices); default: the guide's")
    rate: int | None = Field(None, ge=60, le=450, description="words a minute; default: the guide's, else 165")
    pronunciations: dict[str, str] | None = Field(
        None, description="the lexicon to say it with (name -> how to say it); default: the guide's saved edits'")

    check_lexicon = field_validator("pronunciations")(lambda v: None if v is None else check_pronunciations(v))


def attention(ctx, g) -> dict:
    """What the latest version (a refresh's draft, say) asks the editor to look at: `items` in the learner's
    words (editing.attention_items: a new dialog with the step to add, text kept over a renamed target, blurs
    whose element moved or vanished, edits of steps the app lost); `conflicts` and `review` as the composer
    recorded them."""
    v = g.latest_version
    gj = guide_json(ctx, v.guide_tree) if v is not None else {}
    prev = next((p for p in reversed(g.versions) if v is not None and p.number < v.number), None)
    items = editing.attention_items(gj, guide_json(ctx, prev.guide_tree) if prev is not None else None,
                                    v.changelog if v is not None else None) if gj else []
    return {"version": v.number if v is not None else None, "draft": bool(v is not None and v.draft),
            "items": items, "conflicts": gj.get("conflicts", []),
            "review": [{"step": s["id"], "number": s["number"], "why": s["review"]}
                       for s in gj.get("steps", []) if s.get("review")]}


def _state(ctx, g, doc: EditDoc) -> dict:
    base = guide_json(ctx, g.base_tree) if g.base_tree else None
    scale, cap = 1.0, None
    if g.capture_tree and (cap := ctx.assets.read_json(g.capture_tree, "capture.json")):
        scale = cap.get("device_scale_factor", 1.0)
    v = g.latest_version
    placed = (editing.placed_blurs(guide_json(ctx, v.guide_tree))
              if v is not None and v.capture_tree and v.capture_tree == g.capture_tree else {})
    return {"guide_id": g.id, "revision": doc.revision, "edits": doc.doc, "base": base, "device_scale": scale,
            "tools": editing.step_tools(cap, base) if base else {}, "placed": placed,
            "versions": [version_json(v) for v in g.versions], "attention": attention(ctx, g)}


@router.get("/guides/{guide_id}/edit", include_in_schema=False)
def editor_page(request: Request, guide_id: Id, user: User = Depends(require("editor")),
                db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    return page(request, "editor.html.j2", g=g, attention=attention(request.app.state.ctx, g))


@router.get("/api/guides/{guide_id}/edits", tags=["editor"])
def get_edits(request: Request, guide_id: Id, user: User = Depends(require("editor")),
              db: Session = DB) -> dict:
    """The working edit document with its revision, and the unedited base guide it applies to."""
    g = guide_for(db, user, guide_id, "edit")
    return _state(request.app.state.ctx, g, db.get(EditDoc, g.id))


@router.put("/api/guides/{guide_id}/edits", tags=["editor"], dependencies=[Depends(csrf_protect)],
            responses={409: {"description": "the document changed since base_revision; body has the current state"}})
def put_edits(request: Request, guide_id: Id, body: EditsIn, user: User = Depends(require("editor")),
              db: Session = DB):
    """Save the whole edit document if nobody saved since `base_revision`; a stale save changes nothing
    and gets 409 with the current revision and document."""
    g = guide_for(db, user, guide_id, "edit")
    doc = editing.validate_doc(body.edits)
    if doc.get("voice"):
        _check_voice(request, doc["voice"])
    saved, row = editing.save_doc(db, g.id, body.base_revision, doc, user.id)
    if not saved:
        return JSONResponse({"detail": "someone saved these edits after you loaded them",
                             **_state(request.app.state.ctx, g, row)}, 409)
    return {"revision": row.revision, "edits": row.doc}


def _check_voice(request: Request, voice: str) -> None:
    """422 unless the server's voice engine has `voice`."""
    from guidecast.narration.tts import TTSError, make_engine

    st = request.app.state.ctx.settings
    try:
        make_engine(st.tts_engine, voice=voice).resolve_voice(voice)
    except TTSError as e:
        raise HTTPException(422, f"edits: voice: {e}") from None


@router.get("/api/voices", tags=["editor"])
def voices(request: Request, user: User = Depends(require("editor"))) -> list[dict]:
    """The voices the server's engine can narrate with (for a guide's `voice`): id, name, language, quality,
    engine. With the default engine (auto): the neural voices, when installed, then espeak-ng's."""
    from guidecast.narration import voice_piper
    from guidecast.narration.tts import make_engine

    name = request.app.state.ctx.settings.tts_engine
    engines = ([*(["piper"] if voice_piper.installed() and voice_piper.find_voices() else []), "pyttsx3"]
               if name == "auto" else [name])
    return [{"id": v.id, "name": v.name, "language": ", ".join(v.languages), "quality": v.quality, "engine": e}
            for e in engines for v in make_engine(e).voices()]


@router.post("/api/guides/{guide_id}/publish", tags=["editor"], status_code=202, dependencies=[Depends(csrf_protect)])
def publish(request: Request, guide_id: Id, body: PublishIn | None = None, user: User = Depends(require("editor")),
            db: Session = DB) -> dict:
    """Compose a new version from the latest capture and the saved edits, then render its video (jobs)."""
    g = guide_for(db, user, guide_id, "edit")
    doc = db.get(EditDoc, g.id)
    if body and body.revision is not None and body.revision != doc.revision:
        raise HTTPException(409, f"the saved edits are at revision {doc.revision}, not {body.revision}")
    if not g.capture_tree:
        raise HTTPException(422, "nothing to publish yet: the guide has no capture")
    job = request.app.state.ctx.jobs.submit(db, "publish", g.id, {"doc": doc.doc, "revision": doc.revision}, user.id)
    return job_json(job)


@router.post("/api/guides/{guide_id}/voice-preview", tags=["editor"], dependencies=[Depends(csrf_protect)],
             response_class=FileResponse)
def voice_preview(request: Request, guide_id: Id, body: VoiceIn, user: User = Depends(require("editor")),
                  db: Session = DB):
    """One step's narration spoken with the server's voice engine (audio/wav), names said as the guide's
    pronunciation lexicon says (the one sent, else the saved edits')."""
    from guidecast.narration.script import spoken
    from guidecast.narration.tts import SpeechCache, make_engine

    guide_for(db, user, guide_id, "edit")
    row = db.get(EditDoc, guide_id)
    saved = row.doc if row is not None else {}
    lexicon = body.pronunciations if body.pronunciations is not None else saved.get("pronunciations") or {}
    voice, rate = body.voice or saved.get("voice"), body.rate or saved.get("rate") or 165
    st = request.app.state.ctx.settings
    eng = make_engine(st.tts_engine, voice=voice)
    try:
        speech = SpeechCache(st.path("cache", "speech"), eng, eng.resolve_voice(voice), rate).synthesize(
            spoken(body.text, lexicon))
    finally:
        getattr(eng, "close", lambda: None)()
    touch(speech.path)  # used now: the last file the cache's pruning deletes
    prune_caches(request.app.state.ctx)
    return FileResponse(speech.path, media_type="audio/wav")


@router.get("/api/guides/{guide_id}/versions", tags=["editor"])
def versions(guide_id: Id, user: User = Depends(require("editor")), db: Session = DB) -> list[dict]:
    return [version_json(v) for v in guide_for(db, user, guide_id, "edit").versions]


def _diff(request, db, user, guide_id, a, b):
    g = guide_for(db, user, guide_id, "edit")
    ctx = request.app.state.ctx
    return g, diff(guide_json(ctx, get_version(g, a).guide_tree), guide_json(ctx, get_version(g, b).guide_tree))


@router.get("/api/guides/{guide_id}/diff", tags=["editor"])
def api_diff(request: Request, guide_id: Id, a: QueryId, b: QueryId, user: User = Depends(require("editor")),
             db: Session = DB) -> dict:
    """What changed between versions `a` and `b`."""
    return _diff(request, db, user, guide_id, a, b)[1]


@router.get("/guides/{guide_id}/diff", include_in_schema=False)
def diff_page(request: Request, guide_id: Id, a: QueryId, b: QueryId, user: User = Depends(require("editor")),
              db: Session = DB):
    g, d = _diff(request, db, user, guide_id, a, b)
    return page(request, "diff.html.j2", g=g, a=a, b=b, d=d)


@router.get("/guides/{guide_id}/base/{path:path}", include_in_schema=False)
def base_file(request: Request, guide_id: Id, path: str, user: User = Depends(require("editor")),
              db: Session = DB):
    g = guide_for(db, user, guide_id, "edit")
    if not g.base_tree:
        raise HTTPException(404, "not composed yet")
    return tree_file(request.app.state.ctx, g.base_tree, path)
