"""Background jobs: state and progress (polled by the pages), cancellation."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth import DB, require
from server.csrf import csrf_protect
from server.jobs import job_json
from server.models import Job, User
from server.permissions import guide_for

router = APIRouter(tags=["jobs"])


def _job(db: Session, user: User, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    if job.guide_id is not None:
        guide_for(db, user, job.guide_id, "edit")
    elif user.role != "admin":
        raise HTTPException(404, "no such job")
    return job


@router.get("/api/jobs/{job_id}")
def get_job(job_id: int, user: User = Depends(require("editor")), db: Session = DB) -> dict:
    """State and progress (done/total/what) of a job."""
    return job_json(_job(db, user, job_id))


@router.post("/api/jobs/{job_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel_job(request: Request, job_id: int, user: User = Depends(require("editor")),
               db: Session = DB) -> dict:
    job = _job(db, user, job_id)
    request.app.state.ctx.jobs.cancel(db, job)
    return job_json(job)


@router.get("/api/guides/{guide_id}/jobs")
def guide_jobs(guide_id: int, user: User = Depends(require("editor")), db: Session = DB) -> list[dict]:
    g = guide_for(db, user, guide_id, "edit")
    return [job_json(j) for j in db.scalars(select(Job).where(Job.guide_id == g.id).order_by(Job.id.desc()).limit(20))]
