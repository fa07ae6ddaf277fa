"""A first server: a library page listing built guides and serving their files.

The full web app (accounts, editor, sharing, jobs) grows from here.
"""
from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from composer.render import render


def _builds(data_dir: Path) -> list[dict]:
    out = []
    for m in sorted(data_dir.glob("*/manifest.json")):
        try:
            data = json.loads(m.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        out.append({"name": m.parent.name, **data})
    return out


def create_app(data_dir: Path) -> FastAPI:
    data_dir = Path(data_dir).resolve()
    app = FastAPI(title="guidecast")

    @app.get("/", response_class=HTMLResponse)
    def library() -> str:
        return render("library.html.j2", builds=_builds(data_dir))

    @app.get("/guides/{name}/{path:path}")
    def guide_file(name: str, path: str) -> FileResponse:
        target = (data_dir / name / path).resolve()
        if data_dir not in target.parents or not target.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(target)

    return app
