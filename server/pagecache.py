"""Fast learner pages: what a published version looks like is rendered once, and browsers revalidate.

- `PageCache.respond`: the share-link page, embed and oEmbed of a version are rendered once per version
  (and link) per process and kept (a published version never changes; the link itself is still resolved
  on every request, so a revoked or expired link stops at once). Only anonymous requests (no session
  cookie, no API token) share the rendered page: a signed-in visitor's page names them. Every page gets
  an ETag, and `If-None-Match` with it is answered 304 with no body.
- `static_url(name)`: `/static/NAME?v=<content hash>`; the static routes send such URLs with
  `Cache-Control: public, max-age=31536000, immutable` (the hash changes whenever the file does), and
  anything else with `no-cache`.

- `SharedPages`: in front of the routes, an anonymous `GET /s/TOKEN` or `/embed/TOKEN` whose page is in the
  cache is answered with one query (is the link live, which version does it show: the same rules as
  `sharing.resolve`) and no ORM session, request thread or route; anything else (a miss, a link that is not
  plainly live) goes on to the route, which answers or renders and fills the cache.

A view is recorded by the page's own beacon (server/static/learner.js) after it has loaded, so the
response never waits for an analytics write.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=64)
def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_path(name: str) -> Path:
    if name == "guide.css":  # the exports' stylesheet, served from the templates (server/routes_learner.py)
        from guidecast.templates import TEMPLATE_DIR

        return Path(TEMPLATE_DIR) / "guide.css"
    return STATIC_DIR / name


def static_url(name: str) -> str:
    """The URL of a static file with its content hash: cached for a year, a new URL when it changes."""
    return f"/static/{name}?v={_file_hash(str(static_path(name)))}"


def static_headers(request: Request, name: str) -> dict[str, str]:
    """Cache headers of a static file: long and immutable when asked for by its current hash."""
    wanted = request.query_params.get("v")
    current = _file_hash(str(static_path(name))) if wanted else None
    return {"Cache-Control": LONG_CACHE if wanted and wanted == current else "no-cache"}


class HashedStatic(StaticFiles):
    """StaticFiles whose responses carry `static_headers` (the hash comes in the query string)."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers.update(static_headers(Request(scope), path))
        return response


def anonymous(request: Request) -> bool:
    """No session cookie and no API token: the request may get the page every anonymous visitor gets."""
    return scope_anonymous(request.scope)


def scope_anonymous(scope) -> bool:
    """`anonymous`, read from the raw headers (the middleware has no Request): a Cookie header naming the
    session, or any Authorization header, makes the request a signed-in one."""
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and b"guidecast_session" in value):
            return False
    return True


class PageCache:
    """Rendered pages (body, media type, headers) by key, least recently used out beyond `size`."""

    def __init__(self, size: int = 512):
        self.size = size
        self._pages: OrderedDict[tuple, tuple[bytes, str, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0  # pages rendered for the cache (tests: once per version)
        self.served = 0  # pages sent by SharedPages without the route

    @property
    def empty(self) -> bool:
        return not self._pages

    def peek(self, key: tuple):
        """(body, media type, headers) of a cached page, or None."""
        return self._get(key)

    def _get(self, key: tuple):
        with self._lock:
            hit = self._pages.get(key)
            if hit is not None:
                self._pages.move_to_end(key)
            return hit

    def _put(self, key: tuple, value) -> None:
        with self._lock:
            self._pages[key] = value
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def respond(self, request: Request, key: tuple | None, render: Callable[[], Response],
                cache_control: str = "private, no-cache") -> Response:
        """The page for `key` (rendered by `render` once; `key` None: every time), with its ETag, or 304
        when the browser already has it."""
        hit = self._get(key) if key is not None else None
        if hit is None:
            response = render()
            body = bytes(response.body)
            response.headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            response.headers.setdefault("Cache-Control", cache_control)
            if key is None or response.status_code != 200 or "set-cookie" in response.headers:
                return self._not_modified(request, response.headers) or response
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
            hit = (body, response.media_type or "text/html", headers)
            self.renders += 1
            self._put(key, hit)
        body, media, headers = hit
        return self._not_modified(request, headers) or Response(body, media_type=media, headers=headers)

    @staticmethod
    def _not_modified(request: Request, headers) -> Response | None:
        etag = headers.get("etag") or headers.get("ETag")
        if etag and request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": headers.get("cache-control")
                                                      or headers.get("Cache-Control") or "no-cache"})
        return None


SHARED = re.compile(r"/(s|embed)/([A-Za-z0-9_-]{1,64})")
OEMBED_URL_MAX = 2000  # the oEmbed route's bounds (server/routes_learner.py), which the fast path keeps too
OEMBED_SIZE_MAX = 10_000


def live_version(ctx, token: str) -> tuple[int, str | None, datetime | None] | None:
    """(version id, video tree, link expiry) a live share link shows now, or None when anything is not
    plainly so (the route then decides, and says why): one query, the rules of `sharing.resolve`."""
    from sqlalchemy import and_, or_, select

    from guidecast.server.models import Guide, GuideVersion, ShareLink
    from guidecast.server.sharing import hash_token

    now = ctx.clock()
    q = (select(GuideVersion.id, GuideVersion.video_tree, ShareLink.expires_at)
         .select_from(ShareLink).join(Guide, Guide.id == ShareLink.guide_id)
         .join(GuideVersion, and_(GuideVersion.guide_id == Guide.id, GuideVersion.draft.is_(False),
                                  or_(ShareLink.version.is_(None), GuideVersion.number == ShareLink.version)))
         .where(ShareLink.token_hash == hash_token(token), ShareLink.revoked_at.is_(None),
                or_(ShareLink.expires_at.is_(None), ShareLink.expires_at > now), Guide.status == "published")
         .order_by(GuideVersion.number.desc()).limit(1))
    with ctx.db.engine.connect() as conn:
        row = conn.execute(q).first()
    return (row[0], row[1], row[2]) if row else None


class SharedPages:
    """Pure ASGI middleware: cached anonymous share pages and embeds without the route (see above)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope["path"]
            m = SHARED.fullmatch(path)
            wanted = (m.group(1), m.group(2), None) if m is not None else \
                oembed_wanted(scope["query_string"]) if path == "/oembed" else None
            if wanted is not None and scope_anonymous(scope):
                ctx = scope["app"].state.ctx
                if not ctx.pages.empty and await self._send_cached(ctx, scope, send, *wanted):
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _send_cached(ctx, scope, send, kind: str, token: str, oembed: tuple | None) -> bool:
        """Send the cached page (or oEmbed answer) of a live link straight to the client (True), or do
        nothing (False)."""
        live = ctx.links.get(token)
        if live is None:
            live = await _fetch_once(ctx, token)
            if live is None:
                return False
        key = ("oembed", live[0], live[1], *oembed) if oembed is not None else \
            ("embed" if kind == "embed" else "learner", live[0], live[1], f"/s/{token}/files/", token)
        hit = ctx.pages.peek(key)
        if hit is None:
            return False
        body, media, headers = hit
        etag = headers.get("etag", "").encode()
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        ctx.pages.served += 1
        if etag and any(k == b"if-none-match" and v == etag for k, v in scope["headers"]):
            raw = [(k, v) for k, v in raw if k in (b"etag", b"cache-control")]
            await send({"type": "http.response.start", "status": 304, "headers": raw})
            await send({"type": "http.response.body", "body": b""})
            return True
        ctype = media if "charset" in media or not media.startswith("text/") else media + "; charset=utf-8"
        raw += [(b"content-type", ctype.encode("latin-1")), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        return True


def oembed_wanted(query: bytes) -> tuple[str, str, tuple] | None:
    """("oembed", token, (url, maxwidth, maxheight): the route's cache key) of a plain oEmbed request for a
    share link, or None for anything else (the route answers that, and says what is wrong). A cached answer
    exists only for a URL the route has checked is a share link of this server."""
    from urllib.parse import parse_qs, urlsplit

    try:
        q = parse_qs(query.decode("latin-1"), strict_parsing=False)
    except ValueError:
        return None
    if set(q) - {"url", "format", "maxwidth", "maxheight"} or any(len(v) != 1 for v in q.values()) \
            or q.get("format", ["json"])[0] != "json" or "url" not in q:
        return None
    size = []
    for name in ("maxwidth", "maxheight"):
        text = q.get(name, [None])[0]
        if text is not None and not (text.isdigit() and 1 <= int(text) <= OEMBED_SIZE_MAX):
            return None
        size.append(int(text) if text is not None else None)
    url = q["url"][0]
    try:
        m = SHARED.fullmatch(urlsplit(url).path.rstrip("/")) if len(url) <= OEMBED_URL_MAX else None
    except ValueError:  # not a URL: the route says so (400)
        return None
    if m is None or m.group(1) != "s":
        return None
    return "oembed", m.group(2), (url, *size)


_FETCHING: dict[str, asyncio.Future] = {}  # per event loop: the lookups under way, by token


async def _fetch_once(ctx, token: str):
    """`ctx.links.fetch(token)` in a worker thread, once however many requests for the link arrive while it
    runs: they all wait for the same answer (no query stampede when a known answer ages out)."""
    import anyio

    running = _FETCHING.get(token)
    if running is not None:
        return await asyncio.shield(running)
    future = asyncio.get_running_loop().create_future()
    _FETCHING[token] = future
    try:
        live = await anyio.to_thread.run_sync(ctx.links.fetch, token)
    except BaseException as e:
        future.set_exception(e)
        future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
        raise
    else:
        future.set_result(live)
        return live
    finally:
        _FETCHING.pop(token, None)

