"""The learner view (signed in, or through a share link), its files, the embed player, oEmbed and the
analytics beacon."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from guidecast.server import analytics, learner
from guidecast.server.auth import DB, current_user, require
from guidecast.server.limits import client_ip
from guidecast.server.models import Guide, GuideVersion, User
from guidecast.server.pagecache import OEMBED_SIZE_MAX, OEMBED_URL_MAX, anonymous, static_headers
from guidecast.server.params import Id
from guidecast.server.permissions import can_edit, counts_as_learner, guide_for
from guidecast.server.serving import tree_file
from guidecast.server.sharing import EMBED_SIZE, embed_snippet, resolve, version_of
from guidecast.server.versions import get_version, guide_json

router = APIRouter()


def version_file(ctx, v: GuideVersion, path: str) -> Response:
    which, _, rel = path.partition("/")
    tree = {"guide": v.guide_tree, "video": v.video_tree}.get(which)
    return tree_file(ctx, tree, rel)


def _beacon_signer(ctx) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key, salt="beacon")


def learner_page(request: Request, db: Session, user: User | None, g: Guide, v: GuideVersion, files: str, *,
                 embed: bool = False, share: str | None = None):
    """The learner view (or the embed player) of version `v`. Visits count in the analytics only when
    `counts_as_learner` (a learner on a published version); an editor's visit is a preview. A share page
    seen signed out is the same for every visitor: rendered once per version (server/pagecache.py)."""
    ctx = request.app.state.ctx
    if share is not None and anonymous(request):
        key = ("embed" if embed else "learner", v.id, v.video_tree, files, share)
        return ctx.pages.respond(request, key, lambda: _learner_page(request, db, None, g, v, files, embed=embed,
                                                                     share=share, csrf="", user=None))
    return ctx.pages.respond(request, None, lambda: _learner_page(request, db, user, g, v, files, embed=embed,
                                                                  share=share))


def _learner_page(request: Request, db: Session, viewer: User | None, g: Guide, v: GuideVersion, files: str, *,
                  embed: bool, share: str | None, **shared):
    from guidecast.server.web import page

    ctx = request.app.state.ctx
    gj = guide_json(ctx, v.guide_tree)
    video = ctx.assets.read_json(v.video_tree, "video.json") if v.video_tree else None
    counted = counts_as_learner(db, viewer, g, v)
    beacon = _beacon_signer(ctx).dumps([g.id, v.number, len(gj["steps"])]) if counted else None
    meta = learner.share_meta(public_base(request), share, gj, video, files) if share else None
    tpl = "embed.html.j2" if embed else "learner.html.j2"
    from guidecast.server.routes_practice import learn_token

    # practice mode and the knowledge check (server/routes_practice.py) sit beside the guide's address
    learn_base = f"/embed/{share}" if embed else f"/s/{share}" if share else f"/g/{g.id}/v/{v.number}"
    return page(request, tpl, g=g, v=v, guide=gj, video=video, chapters=learner.chapters(video, gj), files=files,
                beacon=beacon, preview=not counted, read_min_s=ctx.settings.read_min_s, share=share, meta=meta,
                zoom_box=learner.zoom_box, src=lambda rel: f"{files}guide/{rel}",
                learn_ctx=learn_token(ctx, g, v, share), learn_base=learn_base, **shared)


@router.get("/static/guide.css", include_in_schema=False)
def guide_css(request: Request) -> FileResponse:
    """The guide exports' stylesheet (templates/guide.css), shared with the learner pages."""
    from guidecast.templates import TEMPLATE_DIR

    return FileResponse(TEMPLATE_DIR / "guide.css", media_type="text/css", headers=static_headers(request, "guide.css"))


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The app's icon (pages link /static/favicon.svg; this answers browsers that ask for /favicon.ico)."""
    from guidecast.server.app import STATIC_DIR

    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/g/{guide_id}", include_in_schema=False)
def learn_latest(request: Request, guide_id: Id, user: User = Depends(require("viewer")),
                 db: Session = DB):
    g = guide_for(db, user, guide_id)
    v = version_of(g, None)
    if v is None:
        raise HTTPException(404, "this guide has no published version yet")
    return learner_page(request, db, user, g, v, f"/g/{g.id}/v/{v.number}/files/")


def _readable(db: Session, user: User, g: Guide, number: int) -> GuideVersion:
    """Version `number` of `g`; a draft version only for the guide's editors."""
    v = get_version(g, number)
    if v.draft and not can_edit(db, user, g):
        raise HTTPException(404, f"no version {number}")
    return v


@router.get("/g/{guide_id}/v/{number}", include_in_schema=False)
def learn_version(request: Request, guide_id: Id, number: Id, user: User = Depends(require("viewer")),
                  db: Session = DB):
    g = guide_for(db, user, guide_id)
    v = _readable(db, user, g, number)
    return learner_page(request, db, user, g, v, f"/g/{g.id}/v/{v.number}/files/")


@router.get("/g/{guide_id}/v/{number}/files/{path:path}", include_in_schema=False)
def learn_file(request: Request, guide_id: Id, number: Id, path: str, user: User = Depends(require("viewer")),
               db: Session = DB):
    g = guide_for(db, user, guide_id)
    return version_file(request.app.state.ctx, _readable(db, user, g, number), path)


@router.get("/s/{token}", include_in_schema=False)
def shared(request: Request, token: str, user: User | None = Depends(current_user), db: Session = DB):
    _, g, v = resolve(db, token, request.app.state.ctx.clock())
    return learner_page(request, db, user, g, v, f"/s/{token}/files/", share=token)


@router.get("/s/{token}/files/{path:path}", include_in_schema=False)
def shared_file(request: Request, token: str, path: str, db: Session = DB):
    _, _, v = resolve(db, token, request.app.state.ctx.clock())
    return version_file(request.app.state.ctx, v, path)


@router.get("/embed/{token}", include_in_schema=False)
def embed(request: Request, token: str, user: User | None = Depends(current_user), db: Session = DB):
    _, g, v = resolve(db, token, request.app.state.ctx.clock())
    return learner_page(request, db, user, g, v, f"/s/{token}/files/", embed=True, share=token)


def public_base(request: Request) -> str:
    """Where this server is reached: BASE_URL, else the address it listens on; never the request's Host
    header (which anyone sets, and which would then be written into share links and cached oEmbed)."""
    return public_url(request.app.state.ctx.settings)


def public_url(settings) -> str:
    if settings.base_url:
        return settings.base_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else "[::1]" if settings.host == "::" else settings.host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{host}:{settings.port}"


@router.get("/oembed", tags=["sharing"])
def oembed(request: Request, url: str = Query(max_length=OEMBED_URL_MAX), format: str = "json",
           maxwidth: int | None = Query(None, ge=1, le=OEMBED_SIZE_MAX),
           maxheight: int | None = Query(None, ge=1, le=OEMBED_SIZE_MAX),
           db: Session = DB):
    """oEmbed (https://oembed.com) for share links: `url` is a `/s/TOKEN` link of this server."""
    request.app.state.ctx.anonymous.hit(client_ip(request))
    if format != "json":
        raise HTTPException(501, "only format=json is supported")
    try:
        parts, base = urlsplit(url), urlsplit(public_base(request))
        _ = parts.port
    except ValueError:
        raise HTTPException(400, "url: not a URL") from None
    segs = parts.path.strip("/").split("/")
    if parts.netloc != base.netloc or len(segs) != 2 or segs[0] != "s":
        raise HTTPException(404, "not a share link of this server")
    _, g, v = resolve(db, segs[1], request.app.state.ctx.clock())
    key = ("oembed", v.id, v.video_tree, url, maxwidth, maxheight)
    return request.app.state.ctx.pages.respond(request, key, lambda: _oembed(request, segs[1], v, maxwidth, maxheight),
                                               cache_control="public, max-age=60")


def _oembed(request: Request, token: str, v: GuideVersion, maxwidth: int | None, maxheight: int | None) -> JSONResponse:
    segs = ["s", token]
    w, h = EMBED_SIZE
    if maxwidth and maxwidth < w:
        w, h = maxwidth, round(maxwidth * 9 / 16)
    if maxheight and maxheight < h:
        w, h = round(maxheight * 16 / 9), maxheight
    html = embed_snippet(public_base(request), segs[1], v.title, (w, h))
    out = {"version": "1.0", "type": "video", "provider_name": "guidecast", "provider_url": public_base(request),
           "title": v.title, "html": html, "width": w, "height": h}
    if v.video_tree:
        out.update(thumbnail_url=f"{public_base(request)}/s/{segs[1]}/files/video/poster.png",
                   thumbnail_width=EMBED_SIZE[0], thumbnail_height=EMBED_SIZE[1])
    return JSONResponse(out, headers={"Cache-Control": "public, max-age=60"})


BEACON_MAX_BYTES = 4096


async def _small_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk and refused (413) as soon as it passes `limit` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"at most {limit} bytes")
    return bytes(body)


@router.post("/api/beacon", tags=["analytics"], status_code=204)
async def beacon(request: Request, db: Session = DB) -> Response:
    """A learner page's events; body {ctx, kind, step, sid}, at most 4 KB. `kind`: view, play, step (the
    learner's step number reached), stepmode (shown in step-by-step mode), read (on screen for the minimum
    reading time), watch (`step`: percent of the video played, in tens). The same event of a learner's
    session counts once; completion is decided here from them (server/analytics.py). Only pages that count
    carry a `ctx` (a learner on a published version; an editor's visit is a preview)."""
    ctx = request.app.state.ctx
    # a database write: never on the event loop (a request thread holding the write lock waits on the
    # loop for its commit, so a write here would stall every request for the busy timeout)
    await anyio.to_thread.run_sync(ctx.anonymous.hit, client_ip(request))
    body = await _small_body(request, BEACON_MAX_BYTES)
    try:
        data = json.loads(body)
        guide_id, number, n_steps = _beacon_signer(ctx).loads(data["ctx"])
        kind, sid = data["kind"], str(data["sid"])
        step = data.get("step")
        step = int(step) if step is not None else None
    except (ValueError, KeyError, TypeError, BadSignature):
        raise HTTPException(400, "bad beacon") from None
    if not sid or not analytics.valid(kind, step, n_steps):
        raise HTTPException(400, "bad beacon")
    await anyio.to_thread.run_sync(analytics.record, db, guide_id, number, kind, step, sid, n_steps)
    return Response(status_code=204)
