"""Stored files from a separate origin (`USER_FILES_URL`), for deployments that want one.

With the setting, the asset routes still check who may see a file, then answer 307 to a signed, expiring
link on the files origin (`USER_FILES_URL/files/TOKEN/NAME`), which serves it with the same fixed types and
headers (`server/serving.py`). A file, even one a browser misread as a page, then runs on an origin that holds
no session cookie and no app page. The models' JSON and captions stay on the app's origin: the app's own
scripts and `<track>` read them, and they are never shown as a page. Links are signed with the server's
secret key and valid for one to two `LINK_TTL_S` windows (the same link within a window, so browsers cache
the pictures); the files route answers only under the files origin's host, so a link opened on the app's
own origin is a 404.
"""
from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer

from guidecast.server.serving import file_headers

router = APIRouter()
LINK_TTL_S = 3600
KEPT_ON_APP_ORIGIN = (".json", ".vtt")


def origin(url: str | None) -> str | None:
    """`scheme://host:port` of a URL setting (None when unset)."""
    if not url:
        return None
    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def _signer(ctx) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key or "", salt="guidecast-user-files")


def moved(ctx, tree: str, rel: str) -> RedirectResponse | None:
    """The redirect to the files origin for this file, or None to serve it here."""
    files = origin(ctx.settings.user_files_url)
    if files is None or rel.lower().endswith(KEPT_ON_APP_ORIGIN):
        return None
    expires = (int(time.time()) // LINK_TTL_S + 2) * LINK_TTL_S
    token = _signer(ctx).dumps([tree, rel, expires])
    name = quote(rel.rsplit("/", 1)[-1])
    return RedirectResponse(f"{files}/files/{token}/{name}", 307, headers={"Cache-Control": "private, max-age=300"})


@router.get("/files/{token}/{name}", include_in_schema=False)
def user_file(request: Request, token: str, name: str) -> FileResponse:
    ctx = request.app.state.ctx
    files = ctx.settings.user_files_url
    if not files or urlsplit(files).netloc.lower() != (request.headers.get("host") or "").lower():
        raise HTTPException(404, "not found")
    try:
        tree, rel, expires = _signer(ctx).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise HTTPException(404, "not found") from None
    if not isinstance(expires, int) or expires < time.time():
        raise HTTPException(403, "this link has expired: open the guide again")
    path = ctx.assets.file(tree, rel)
    if path is None:
        raise HTTPException(404, "not found")
    media, headers = file_headers(rel)
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return FileResponse(path, media_type=media, headers=headers)
