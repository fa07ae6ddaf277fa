"""Jobs on a distributed queue: Procrastinate on the server's PostgreSQL database (`jobs_backend=queue`).

The same seam as the in-process threads (server/jobs.py `JobRunner`): `submit`, `cancel`, `run_now`, the
`jobs` table with state, progress and cancellation. What differs is who runs a job:

- `submit` adds the `jobs` row and defers a Procrastinate job in the same transaction (the session's own
  connection): a job exists exactly when its row does, and a rolled-back request queues nothing.
- `guidecast worker` processes (any number, on any machine reaching the database and the asset store)
  run them (`run_worker`): each process takes one job at a time (renders and captures are CPU-heavy).
- Every job of a guide carries the queue lock `guide-<id>`: one job per guide at a time, so one render
  per guide version, and a guide's work folder is never shared by two jobs.
- A worker that dies (SIGKILL, a lost machine) stops its heartbeat; the periodic `retry-stalled` task
  (run once per tick however many workers there are) gives its job back to the queue, and another worker
  runs it again while it has attempts left (`job_max_attempts`), else the job is marked failed. Whatever
  the dead worker half-made stays in its staging folders: published versions and videos are immutable
  assets, so the learner keeps the last good video.
- Scheduled freshness checks are Procrastinate periodic tasks (`check_cron`), deferred once per tick.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from guidecast.server.jobs import JobRunner, worker_name
from guidecast.server.models import Job, utcnow

log = logging.getLogger("guidecast.queue")
TASK = "guidecast.job"
QUEUE = "guidecast"


def conninfo(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy one (`postgresql+psycopg://` -> `postgresql://`)."""
    return "postgresql://" + database_url.split("://", 1)[1]


class QueueRunner(JobRunner):
    """`JobRunner` whose jobs go to Procrastinate and run in `guidecast worker` processes."""

    def __init__(self, ctx, handlers):
        super().__init__(ctx, handlers)
        import procrastinate

        st = ctx.settings
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(st.database_url or ""), min_size=1, max_size=4))
        self.app.task(name=TASK, queue=QUEUE, pass_context=False)(self.execute)
        # deferring happens on the caller's connection (its transaction), synchronously, in any process:
        # an app of its own whose connector is never opened (the worker's app has an async pool)
        self._defer = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(
            conninfo=conninfo(st.database_url or "")))

        @self.app.periodic(cron=st.queue_stalled_cron, periodic_id="retry-stalled")
        @self.app.task(name="guidecast.retry_stalled", queue=QUEUE, queueing_lock="retry-stalled")
        async def retry_stalled(timestamp: int) -> None:
            await self.retry_stalled()

        if st.check_interval_hours > 0:
            @self.app.periodic(cron=st.check_cron, periodic_id="freshness-tick")
            @self.app.task(name="guidecast.check_tick", queue=QUEUE, queueing_lock="check-tick")
            def check_tick(timestamp: int) -> None:
                from guidecast.server.freshness import tick

                tick(self.ctx)

    # -- the web process's side -----------------------------------------------------------------------
    def start(self) -> None:
        """Nothing runs here: the workers do."""

    def stop(self, timeout: float = 5.0) -> None:
        return None

    def alive(self) -> int:
        return 0

    def recover(self) -> dict[str, int]:
        return {"resumed": 0, "failed": 0}  # the workers' stalled-job retry does it

    def submit(self, s, kind: str, guide_id: int | None, params: dict | None = None,
               user_id: int | None = None) -> Job:
        job = super().submit(s, kind, guide_id, params, user_id)
        raw = s.connection().connection.driver_connection  # this transaction's psycopg connection
        lock = f"guide-{guide_id}" if guide_id is not None else f"kind-{kind}"
        self._defer.configure_task(TASK, queue=QUEUE, lock=lock, connection=raw).defer(job_id=job.id)
        return job

    def cancel(self, s, job: Job) -> None:
        """Queued: cancelled now (its queue entry then finds nothing to run); running: the worker sees
        `cancel_requested` at its next progress report, in whichever process it runs."""
        super().cancel(s, job)
        self._cancel.discard(job.id)

    # -- the worker's side ---------------------------------------------------------------------------
    def execute(self, job_id: int) -> None:
        """Run the job `job_id` here: claim its row (queued, or running when a dead worker's job came
        back), then the handler, as the thread backend does."""
        limit = self.ctx.settings.job_max_attempts
        with self.ctx.db.session() as s:
            claimed = s.execute(update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")),
                                                  Job.attempts < limit).values(
                state="running", attempts=Job.attempts + 1, started_at=utcnow(), error=None,
                worker=worker_name())).rowcount
            if not claimed:
                job = s.get(Job, job_id)
                if job is not None and job.state == "running":  # a dead worker's, out of attempts
                    job.state, job.finished_at = "failed", utcnow()
                    job.error = f"its worker stopped {job.attempts} time(s) while running it; start it again"
                return
        log.info("job %s: running in %s", job_id, worker_name())
        self._run(job_id)

    async def retry_stalled(self) -> None:
        st = self.ctx.settings
        for stalled in await self.app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=st.queue_stalled_after_s, task_name=TASK):
            log.warning("job %s: its worker stopped; queueing it again", stalled.task_kwargs.get("job_id"))
            await self.app.job_manager.retry_job(stalled)

    def run_worker(self, concurrency: int = 1) -> None:
        """Run jobs until SIGINT/SIGTERM (Procrastinate's worker: a graceful stop lets the job finish)."""
        st = self.ctx.settings
        self.app.run_worker(queues=[QUEUE], concurrency=concurrency, delete_jobs="successful",
                            update_heartbeat_interval=st.queue_heartbeat_s,
                            stalled_worker_timeout=st.queue_stalled_after_s, name=worker_name())

    def queued(self) -> int:
        """Jobs of this server in the queue now (for tests and `guidecast worker --status`)."""
        with self.ctx.db.session() as s:
            return len(s.scalars(select(Job.id).where(Job.state == "queued")).all())
