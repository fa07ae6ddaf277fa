"""Serving stored bundle files (the asset routes: `/s/TOKEN/files/...`, `/g/N/v/M/files/...`,
`/guides/N/base/...`) from a fixed table of types, never a type guessed from the name.

Pictures, video, captions and the models' JSON are shown inline; anything else (a page, a script, an SVG,
a file a store from before the upload allow-list may still hold) is a download (`attachment`,
`application/octet-stream`). Every file is sent with `X-Content-Type-Options: nosniff` and a sandbox CSP
without script, so even a file opened on its own runs nothing on the app's origin.
"""
from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import FileResponse, Response

INLINE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
                ".mp4": "video/mp4", ".vtt": "text/vtt; charset=utf-8", ".json": "application/json"}
CSP_FILES = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


def file_headers(rel: str) -> tuple[str, dict[str, str]]:
    """(media type, headers) a stored file named `rel` is sent with."""
    ext = "." + rel.rsplit(".", 1)[-1].lower() if "." in rel.rsplit("/", 1)[-1] else ""
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": CSP_FILES}
    media = INLINE_TYPES.get(ext)
    if media is None:
        name = rel.rsplit("/", 1)[-1].replace('"', "").replace("\\", "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        media = "application/octet-stream"
    return media, headers


def tree_file(ctx, tree: str | None, rel: str) -> Response:
    """A stored file, after the caller checked who may see it; with `USER_FILES_URL` set, a redirect to it on
    the files origin (`server/user_files.py`)."""
    from guidecast.server.user_files import moved

    path = ctx.assets.file(tree, rel) if tree else None
    if tree is None or path is None:
        raise HTTPException(404, "no such file")
    elsewhere = moved(ctx, tree, rel)
    if elsewhere is not None:
        return elsewhere
    media, headers = file_headers(rel)
    return FileResponse(path, media_type=media, headers=headers)
