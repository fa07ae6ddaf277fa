"""Background jobs with their state in the database: queued -> running -> done | failed | cancelled.

Worker threads claim queued rows one at a time (an atomic UPDATE ... WHERE state='queued'), call the
job kind's handler (server/pipeline.py) with a `progress(done, total, what)` callback that records the
progress and raises JobCancelled when a cancel was asked for. On start-up, rows a killed server left
"running" (their `worker` process is gone; a sibling web process's jobs stay its own) are queued again while they have attempts left, else marked failed: never silently lost.

A worker survives any exception (a locked or unreachable database, a bug): it logs it and goes on; a
supervisor thread starts a worker again should one ever die.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.progress import Progress
from guidecast.server.models import Job, utcnow

log = logging.getLogger("guidecast.jobs")
FINAL_STATES = {"done", "failed", "cancelled"}
PROGRESS_EVERY_S = 0.25
RETRY_S = 1.0  # a worker whose database call failed waits this long before it tries again
SUPERVISE_EVERY_S = 2.0


def worker_name() -> str:
    """Who runs a job: host:pid (recorded in `jobs.worker`)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def worker_alive(worker: str | None) -> bool:
    """Whether the process `worker` names still runs (a process on another host: assumed so)."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname()[:len(host)] or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return False  # this process is starting: whatever it ran before is gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobCancelled(Exception):
    pass


Handler = Callable[[Any, Job, Progress], dict | None]


class JobRunner:
    def __init__(self, ctx, handlers: dict[str, Handler]):
        self.ctx = ctx
        self.handlers = handlers
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._supervisor: threading.Thread | None = None
        self.restarts = 0  # workers the supervisor started again

    # -- lifecycle -----------------------------------------------------------------------------
    def recover(self) -> dict[str, int]:
        """Jobs a previous server left running: queue them again (attempts left) or mark them failed."""
        limit = self.ctx.settings.job_max_attempts
        with self.ctx.db.session() as s:
            running = s.execute(select(Job.id, Job.worker).where(Job.state == "running")).all()
            orphans = [job_id for job_id, worker in running if not worker_alive(worker)]
            if not orphans:
                return {"resumed": 0, "failed": 0}
            mine = Job.id.in_(orphans)  # a sibling web process's running jobs are its own
            requeued = s.execute(update(Job).where(mine, Job.attempts < limit)
                                 .values(state="queued", what="resumed after a server restart")).rowcount
            failed = s.execute(update(Job).where(mine, Job.state == "running").values(
                state="failed", finished_at=utcnow(),
                error=f"interrupted by a server restart {limit} time(s); start it again")).rowcount
        if requeued or failed:
            log.warning("jobs after restart: %d resumed, %d marked failed", requeued, failed)
        return {"resumed": requeued, "failed": failed}

    def start(self) -> None:
        self._stop.clear()
        self._threads = [t for t in self._threads if t.is_alive()]
        self.recover()
        self._threads = [self._worker(n) for n in range(max(1, self.ctx.settings.job_workers))]
        self._supervisor = threading.Thread(target=self._supervise, name="guidecast-job-supervisor", daemon=True)
        self._supervisor.start()
        self._wake.set()

    def _worker(self, n: int) -> threading.Thread:
        t = threading.Thread(target=self._loop, name=f"guidecast-job-{n}", daemon=True)
        t.start()
        return t

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISE_EVERY_S):
            for n, t in enumerate(self._threads):
                if not t.is_alive() and not self._stop.is_set():
                    log.error("job worker %s died; starting it again", t.name)
                    self.restarts += 1
                    self._threads[n] = self._worker(n)

    def alive(self) -> int:
        """Worker threads running now."""
        return sum(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in [*self._threads, *([self._supervisor] if self._supervisor else [])]:
            t.join(timeout)

    # -- API -------------------------------------------------------------------------------------
    def submit(self, s, kind: str, guide_id: int | None, params: dict | None = None,
               user_id: int | None = None) -> Job:
        if kind not in self.handlers:
            raise ValueError(f"unknown job kind {kind!r}")
        job = Job(kind=kind, guide_id=guide_id, params_json=json.dumps(params or {}), created_by=user_id)
        s.add(job)
        s.flush()
        s.info.setdefault("after_commit", []).append(self._wake.set)
        return job

    def wake(self) -> None:
        self._wake.set()

    def run_now(self, job_id: int) -> bool:
        """Claim the queued job `job_id` and run it in this thread (the CLI's `check-due`); False when it
        is no longer queued (a running server's worker took it, or it was cancelled)."""
        with self.ctx.db.session() as s:
            claimed = s.execute(update(Job).where(Job.id == job_id, Job.state == "queued").values(
                state="running", attempts=Job.attempts + 1, started_at=utcnow(), error=None,
                worker=worker_name())).rowcount
        if claimed:
            self._run(job_id)
        return bool(claimed)

    def cancel(self, s, job: Job) -> None:
        if job.state == "queued":
            job.state, job.finished_at, job.what = "cancelled", utcnow(), "cancelled before it started"
        elif job.state == "running":
            job.cancel_requested = True
            self._cancel.add(job.id)

    # -- worker ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = self._claim()
            except Exception:
                log.exception("job worker: claiming the next job failed; trying again in %.0f s", RETRY_S)
                self._stop.wait(RETRY_S)
                continue
            if job_id is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._run(job_id)
            except Exception:
                log.exception("job worker: job %s could not be run or recorded", job_id)
                self._stop.wait(RETRY_S)
                self._fail_quietly(job_id)

    def _fail_quietly(self, job_id: int) -> None:
        try:
            self._finish(job_id, state="failed", error="internal error: the job's result could not be recorded; "
                                                       "start it again")
        except Exception:
            log.exception("job %s stays 'running' until the next start", job_id)

    def _claim(self) -> int | None:
        """The oldest queued job, marked running by one UPDATE (so SQLite takes its write lock at once and
        two workers never both get it)."""
        oldest = select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(1).scalar_subquery()
        with self.ctx.db.session() as s:
            return s.scalar(update(Job).where(Job.id == oldest, Job.state == "queued").values(
                state="running", attempts=Job.attempts + 1, started_at=utcnow(), error=None,
                worker=worker_name()).returning(Job.id))

    def _progress(self, job_id: int) -> Progress:
        last = [0.0]

        def progress(done: int, total: int, what: str) -> None:
            if job_id in self._cancel or self._stop.is_set():
                raise JobCancelled()
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_S and done < total:
                return
            last[0] = now
            with self.ctx.db.session() as s:
                s.execute(update(Job).where(Job.id == job_id).values(done=done, total=total, what=str(what)[:300]))
                if s.scalar(select(Job.cancel_requested).where(Job.id == job_id)):
                    raise JobCancelled()

        return progress

    def _finish(self, job_id: int, **values) -> None:
        with self.ctx.db.session() as s:
            s.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))
        self._cancel.discard(job_id)

    def _run(self, job_id: int) -> None:
        with self.ctx.db.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                return  # its guide was deleted meanwhile
            s.expunge(job)
        progress = self._progress(job_id)
        try:
            result = self.handlers[job.kind](self.ctx, job, progress) or {}
        except JobCancelled:
            if self._stop.is_set() and job_id not in self._cancel:
                return  # server shutting down: stays "running", recovered at the next start
            self._finish(job_id, state="cancelled", what="cancelled")
        except GuidecastError as e:
            self._finish(job_id, state="failed", error=self.ctx.settings.public_message(str(e)))
        except Exception as e:
            log.exception("job %s (%s) failed", job_id, job.kind)
            self._finish(job_id, state="failed", error=self.ctx.settings.public_message(
                f"internal error: {type(e).__name__}: {e}"))
        else:
            self._finish(job_id, state="done", what="done", result_json=json.dumps(result))
        self._wake.set()


def job_json(job: Job) -> dict:
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "guide_id": job.guide_id,
        "done": job.done, "total": job.total, "what": job.what, "error": job.error,
        "attempts": job.attempts, "cancel_requested": job.cancel_requested, "worker": job.worker,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": json.loads(job.result_json or "{}"),
    }
