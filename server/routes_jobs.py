"""Background jobs: state and progress (streamed to the pages as server-sent events, or polled),
cancellation."""
from __future__ import annotations

import json
import time

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.auth import DB, require
from guidecast.server.csrf import csrf_protect
from guidecast.server.jobs import FINAL_STATES, job_json
from guidecast.server.models import Job, User
from guidecast.server.params import Id
from guidecast.server.permissions import guide_for

router = APIRouter(tags=["jobs"])
STREAM_S = 15.0  # one stream's longest life; EventSource then reconnects (so a server stop never waits long)
RETRY_MS = 1000
READ_EVERY_S = 0.2  # the job row is read this often (progress is written at most every 0.25 s)
KEEPALIVE_S = 10.0


def _job(db: Session, user: User, job_id: Id) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    if job.guide_id is not None:
        guide_for(db, user, job.guide_id, "edit")
    elif user.role != "admin":
        raise HTTPException(404, "no such job")
    return job


@router.get("/api/jobs/{job_id}")
def get_job(job_id: Id, user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """State and progress (done/total/what) of a job."""
    return job_json(_job(db, user, job_id))


@router.get("/api/jobs/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
def job_events(request: Request, job_id: Id, user: User = Depends(require("editor")),
               db: Session = DB) -> StreamingResponse:
    """Server-sent events (`text/event-stream`) of a job, for whoever may read the job: a `progress` event
    (the job as JSON, as `GET /api/jobs/{id}`) whenever it changes, then one `end` event with the job in its
    final state, and the stream closes. A stream lasts at most 15 s; EventSource reconnects by itself and
    gets the current state first."""
    job_id = _job(db, user, job_id).id
    return StreamingResponse(_events(request.app.state.ctx, job_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def _events(ctx, job_id: Id):
    def read() -> dict | None:
        with ctx.db.session() as s:
            job = s.get(Job, job_id)
            return job_json(job) if job is not None else None

    yield f"retry: {RETRY_MS}\n\n"
    start = last_sent = time.monotonic()
    last = None
    while True:
        snap = await anyio.to_thread.run_sync(read)
        now = time.monotonic()
        if snap is None or snap["state"] in FINAL_STATES:
            yield _sse("end", snap or {"id": job_id, "state": "deleted"})
            return
        if snap != last:
            yield _sse("progress", snap)
            last, last_sent = snap, now
        elif now - last_sent > KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = now
        if now - start > STREAM_S:
            return
        await anyio.sleep(READ_EVERY_S)


@router.post("/api/jobs/{job_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel_job(request: Request, job_id: Id, user: User = Depends(require("editor")),
               db: Session = DB) -> dict:
    job = _job(db, user, job_id)
    request.app.state.ctx.jobs.cancel(db, job)
    return job_json(job)


@router.get("/api/guides/{guide_id}/jobs")
def guide_jobs(guide_id: Id, user: User = Depends(require("editor")), db: Session = DB) -> list[dict]:
    g = guide_for(db, user, guide_id, "edit")
    return [job_json(j) for j in db.scalars(select(Job).where(Job.guide_id == g.id).order_by(Job.id.desc()).limit(20))]
