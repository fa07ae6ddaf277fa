"""HTML pages and HTTP hardening: the Jinja environment (templates/server/, reusing templates/), error
pages, security headers (strict CSP) and the request body limit."""
from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from guidecast.kernel import jinja
from guidecast.kernel.errors import GuidecastError
from guidecast.server.auth import NotSignedIn
from guidecast.server.csrf import csrf_token
from guidecast.server.pagecache import static_url

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI and ReDoc (server/docs.py: served from here, no inline script) set inline styles, and ReDoc
# runs its search in a blob: worker: only their two pages get this.
CSP_DOCS = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The freshness report (capture.check_report) is one self-contained page: inline styles and data: images,
# no script at all.
CSP_REPORT = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
REPORT_PATH = re.compile(r"/guides/\d+/checks/\d+/report")
API_PREFIXES = ("/api/", "/oembed")

env = jinja.environment()
env.globals["static"] = static_url  # /static/NAME?v=<hash>: long-cached (server/pagecache.py)


def page(request: Request, name: str, status_code: int = 200, **ctx) -> HTMLResponse:
    ctx.setdefault("user", getattr(request.state, "user", None))
    csrf = ctx.pop("csrf") if "csrf" in ctx else csrf_token(request)  # "": a page every visitor may share
    html = env.get_template(f"server/{name}").render(request=request, csrf=csrf, **ctx)
    return HTMLResponse(html, status_code=status_code)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES) or "application/json" in request.headers.get("accept", "")


def install_error_handlers(app) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn):
        if wants_json(request):
            return JSONResponse({"detail": "sign in first (session cookie or Authorization: Bearer TOKEN)"}, 401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", 303)

    @app.exception_handler(GuidecastError)
    async def _user_error(request: Request, exc: GuidecastError):
        message = request.app.state.ctx.settings.public_message(str(exc))
        return await _http_error(request, StarletteHTTPException(exc.http_status, message))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if wants_json(request) or exc.status_code == 405:
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)
        resp = page(request, "error.html.j2", exc.status_code, status=exc.status_code, message=str(exc.detail))
        if headers:
            resp.headers.update(headers)
        return resp


class SecurityHeaders:
    """Pure ASGI middleware adding CSP and friends to every HTTP response."""

    def __init__(self, app, files_origin: str | None = None):
        self.app = app
        self.files_origin = files_origin  # USER_FILES_URL: pictures and video come from there
        extra = f" {files_origin}" if files_origin else ""
        self.csp = CSP.replace("img-src 'self'", "img-src 'self'" + extra).replace("media-src 'self'", "media-src 'self'" + extra)
        self.csp_embed = self.csp.replace("frame-ancestors 'none'", "frame-ancestors *")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        csp = CSP_DOCS if path in ("/docs", "/redoc") else self.csp_embed if path.startswith("/embed/") else \
            CSP_REPORT if REPORT_PATH.fullmatch(path) else self.csp

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:  # a route's own (stored files: a sandbox) wins
                    headers.append((b"content-security-policy", csp.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                headers += [(b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin")]
                if not path.startswith("/embed/"):
                    headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so that body parsers pass it through unchanged (FastAPI re-raises those)."""

    def __init__(self) -> None:
        super().__init__(413, "upload too large")


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413: by Content-Length up front, else while reading."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(send)
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send):
        body = b'{"detail":"upload too large"}'
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
