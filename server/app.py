"""The guidecast web app: `create_app(settings)` wires settings, database, assets, jobs and routes.

Run it with `guidecast serve` (or `run(settings)`). The JSON API is documented at /docs and /openapi.json.
"""
from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from guidecast.server import docs, exports, freshness, pipeline, storage
from guidecast.server.assets import AssetStore
from guidecast.server.capacity import Gate, pool_size, size_thread_pool
from guidecast.server.db import Database
from guidecast.server.jobs import JobRunner
from guidecast.server.limits import RateLimit, SigninLimiter, networks
from guidecast.server.livelinks import LiveLinks
from guidecast.server.models import utcnow
from guidecast.server.pagecache import HashedStatic, PageCache, SharedPages, live_version
from guidecast.server.settings import Settings, load_settings
from guidecast.server.user_files import origin
from guidecast.server.web import BodyLimit, SecurityHeaders, install_error_handlers
from guidecast.server.xapi import Sender

STATIC_DIR = Path(__file__).parent / "static"
THREADS_WITHOUT_DB = 8  # request threads beyond the database slots: static files, sign-in form, streams


@dataclass
class Context:
    settings: Settings
    db: Database
    assets: AssetStore
    limiter: SigninLimiter
    gate: Gate
    anonymous: RateLimit  # requests per client address on the routes anyone may call
    trusted_networks: list = field(default_factory=list)  # proxies whose X-Forwarded-For counts
    jobs: JobRunner = field(init=False)
    clock: Callable[[], datetime] = utcnow  # what "now" is for expiry; tests move it instead of sleeping
    scheduler: freshness.Scheduler = field(init=False)
    xapi: Sender = field(init=False)  # sends the xAPI outbox to the LRS when LRS_URL is set
    pages: PageCache = field(default_factory=PageCache)  # learner pages rendered once per version
    links: LiveLinks = field(init=False)  # which version each share link shows (server/livelinks.py)


def make_context(settings: Settings) -> Context:
    for sub in ("work", "cache"):
        settings.path(sub).mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url, pool_size(settings.request_threads, settings.job_workers))
    db.migrate()
    ctx = Context(settings, db, asset_store(settings),
                  SigninLimiter(db, settings.signin_per_ip, settings.signin_per_account, settings.signin_window_s),
                  Gate(settings.request_threads, settings.max_queued_requests, settings.queue_wait_s),
                  RateLimit(db, settings.anonymous_per_s, settings.anonymous_burst), networks(settings.trusted_proxies))
    ctx.links = LiveLinks(db.engine, lambda token: live_version(ctx, token), clock=lambda: ctx.clock())
    handlers: dict = {**pipeline.HANDLERS, **freshness.HANDLERS, **exports.HANDLERS, "gc": storage.gc_job}
    if settings.jobs_backend == "queue":
        from guidecast.server.queue import QueueRunner

        ctx.jobs = QueueRunner(ctx, handlers)  # `guidecast worker` processes run them
    else:
        ctx.jobs = JobRunner(ctx, handlers)
    ctx.scheduler = freshness.Scheduler(ctx)  # runs only when check_interval_hours > 0
    ctx.xapi = Sender(ctx)  # runs only when lrs_url is set
    return ctx


def asset_store(settings: Settings) -> AssetStore:
    """The folder DATA_DIR/assets, or the S3 bucket with that folder as its local cache."""
    if not settings.s3_bucket:
        return AssetStore(settings.path("assets"))
    from guidecast.server.objectstore import ObjectStore

    return ObjectStore(settings.path("assets"), settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                       region=settings.s3_region, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key)


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    from guidecast.server import (
        routes_auth,
        routes_editor,
        routes_exports,
        routes_freshness,
        routes_jobs,
        routes_learner,
        routes_library,
        routes_practice,
        routes_recordings,
        routes_sharing,
        user_files,
    )

    ctx = make_context(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        size_thread_pool(ctx.settings.request_threads + THREADS_WITHOUT_DB)
        if ctx.db.postgres:
            ctx.links.listen(ctx.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        if run_jobs:
            ctx.jobs.start()
            ctx.scheduler.start()
            ctx.xapi.start()
        # what start-up made lives as long as the process: out of the collector's way, so that a full
        # collection (every few thousand requests) no longer walks it and holds every request up meanwhile
        gc.collect()
        gc.freeze()
        yield
        ctx.xapi.stop()
        ctx.scheduler.stop()
        ctx.jobs.stop()
        ctx.links.stop()

    app = FastAPI(title="guidecast", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Guides and narrated videos of web-app workflows. Authenticate API calls with "
                              "`Authorization: Bearer TOKEN` (create tokens under Account → API tokens).")
    app.state.ctx = ctx
    for module in (routes_auth, routes_library, routes_editor, routes_freshness, routes_learner, routes_practice,
                   routes_sharing, routes_jobs, routes_exports, routes_recordings, user_files):
        app.include_router(module.router)
    docs.install(app)  # /docs and /redoc with their assets served from here, not a CDN
    app.mount("/static", HashedStatic(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(SessionMiddleware, secret_key=ctx.settings.secret_key or "", session_cookie="guidecast_session",
                       max_age=ctx.settings.session_max_age_s, same_site="lax", https_only=ctx.settings.cookie_secure)
    app.add_middleware(SharedPages)  # cached share pages without the route (server/pagecache.py)
    app.add_middleware(SecurityHeaders, files_origin=origin(ctx.settings.user_files_url))
    app.add_middleware(BodyLimit, limit=ctx.settings.max_upload_bytes)
    return app


def uvicorn_config(app: FastAPI, host: str, port: int, **kw):
    """How uvicorn serves the app: no proxy headers trusted by uvicorn (it would take X-Forwarded-For from
    any loopback peer); the app reads them itself from TRUSTED_PROXIES only (server/limits.py)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False,
                          forwarded_allow_ips="", server_header=False, **kw)


def run(settings: Settings) -> None:
    """Serve in this process, or (web_processes > 1) in that many uvicorn worker processes sharing the port,
    each building its app from the same settings (handed down as GUIDECAST_* variables)."""
    import os

    import uvicorn

    if settings.web_processes <= 1:
        uvicorn.Server(uvicorn_config(create_app(settings), settings.host, settings.port)).run()
        return
    os.environ.update(settings_environ(settings))
    uvicorn.run("guidecast.server.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
                workers=settings.web_processes, log_level="warning", proxy_headers=False, forwarded_allow_ips="",
                server_header=False, access_log=False)


def settings_environ(settings: Settings) -> dict[str, str]:
    """`settings` as the GUIDECAST_* variables load_settings reads back."""
    from guidecast.server.settings import ENV_PREFIX

    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        text = ",".join(value) if isinstance(value, list) else str(value).lower() if isinstance(value, bool) \
            else str(value)
        env[ENV_PREFIX + name.upper()] = text
    return env


def app_from_environment() -> FastAPI:
    """The app of one web process started by `run` (uvicorn's factory)."""
    return create_app(load_settings())
