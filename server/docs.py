"""The API documentation pages, served without any CDN: /docs (Swagger UI) and /redoc (ReDoc) load
their scripts and styles from the `fastapi-offline` package (mounted at /docs/assets) and run no inline
script, so their page CSP (server/web.py, CSP_DOCS) keeps `script-src 'self'`."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from guidecast.server.web import env

ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Add /docs, /redoc and the assets they load; create the app with docs_url=None, redoc_url=None."""
    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    def render(request: Request, kind: str) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = env.get_template("server/api_docs.html.j2").render(
            kind=kind, title=f"{app.title} API", openapi_url=root + app.openapi_url, assets=root + ASSETS,
            static=root + "/static")
        return HTMLResponse(html)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return render(request, "swagger")

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return render(request, "redoc")
