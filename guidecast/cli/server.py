"""Extra `guidecast` commands of the server area, registered on the main group."""
from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`."""
    cli.add_command(user)
    cli.add_command(check_due)
    cli.add_command(gc)
    cli.add_command(worker)


@click.group()
def user() -> None:
    """Manage the web app's users."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="viewer", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters (prompted for when left out).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="As for `guidecast serve`.")
def user_add(email: str, role: str, password: str, data_dir: Path | None) -> None:
    """Create a user, e.g. the first admin: guidecast user add EMAIL --role admin."""
    from fastapi import HTTPException

    from guidecast.kernel.errors import GuidecastError
    from guidecast.server.app import make_context
    from guidecast.server.routes_auth import create_user
    from guidecast.server.settings import load_settings

    ctx = make_context(load_settings(data_dir=data_dir))
    try:
        with ctx.db.session() as s:
            u = create_user(s, email, role, password)
            click.echo(f"user {u.email} ({u.role}) created in {ctx.settings.data_dir}")
    except HTTPException as e:
        raise GuidecastError(f"user add: {e.detail}") from None


@click.command("check-due")
@click.option("--data-dir", type=click.Path(path_type=Path), help="As for `guidecast serve`.")
@click.option("--interval-hours", type=click.FloatRange(0, min_open=True),
              help="Check guides not checked for this long (default: GUIDECAST_CHECK_INTERVAL_HOURS, or 24 when off).")
@click.option("--limit", type=click.IntRange(1), help="Run at most this many checks.")
def check_due(data_dir: Path | None, interval_hours: float | None, limit: int | None) -> None:
    """Run the web app's due freshness checks once, one after the other (for cron).

    Exit code: 0 every checked guide is unchanged (or none was due), 1 some app changed, 3 some app could not
    be verified, 4 some check failed (its job's error is printed)."""

    from guidecast.kernel.errors import GuidecastError
    from guidecast.server.app import make_context
    from guidecast.server.freshness import run_due
    from guidecast.server.settings import load_settings

    ctx = make_context(load_settings(data_dir=data_dir))
    hours = interval_hours if interval_hours is not None else (ctx.settings.check_interval_hours or 24.0)
    if hours <= 0:
        raise GuidecastError("check-due: --interval-hours must be more than 0")
    worst = [0]
    codes = {"unchanged": 0, "changed": 1, "unverified": 3}

    def report(guide, job, check) -> None:
        name = f"guide {guide.id} ({guide.title})" if guide is not None else f"guide {job.guide_id}"
        if check is not None:
            detail = ", ".join(f"{c['id']} {'+'.join(c['labels'])}" for c in check.summary.get("changes", []))
            if check.outcome == "unverified":
                detail = check.summary.get("error") or ""
            outcome = "could not verify" if check.outcome == "unverified" else check.outcome
            click.echo(f"{name}: {outcome}: {detail}" if detail else f"{name}: {outcome}")
            worst[0] = max(worst[0], codes[check.outcome])
        elif job.state == "queued" or job.state == "running":
            click.echo(f"{name}: taken by the running server (job {job.id})")
        else:
            click.echo(f"{name}: check {job.state}: {job.error or ''}".rstrip(": "))
            worst[0] = max(worst[0], 4)

    ran = run_due(ctx, hours, limit, report)
    if not ran:
        click.echo(f"no guide is due (interval {hours:g} h)")
    click.get_current_context().exit(worst[0])


@click.command("gc")
@click.option("--data-dir", type=click.Path(path_type=Path), help="As for `guidecast serve`.")
@click.option("--grace-minutes", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Keep unreferenced files younger than this (an upload or job may be about to refer to them).")
def gc(data_dir: Path | None, grace_minutes: float) -> None:
    """Delete the web app's stored files no guide refers to any more, and trim its caches to CACHE_MAX_BYTES."""
    from guidecast.server.app import make_context
    from guidecast.server.settings import load_settings
    from guidecast.server.storage import collect, prune_caches

    ctx = make_context(load_settings(data_dir=data_dir))
    out = collect(ctx, grace_s=grace_minutes * 60)
    prune_caches(ctx)
    click.echo(out.line())


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), help="As for `guidecast serve` (work folders, caches).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes to run here; each runs one job at a time.")
def worker(data_dir: Path | None, processes: int) -> None:
    """Run jobs of the queue (capture, compose, publish, render, check, refresh) until stopped.

    Needs GUIDECAST_JOBS_BACKEND=queue and GUIDECAST_DATABASE_URL=postgresql://... (the same settings as
    the web processes). Run as many as you like, here or on other machines; stop with Ctrl+C or SIGTERM
    (the job in hand finishes first)."""
    import os
    import signal
    import subprocess
    import sys

    from guidecast.kernel.errors import SettingsError
    from guidecast.server.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    if settings.jobs_backend != "queue":
        raise SettingsError("guidecast worker runs the job queue: set GUIDECAST_JOBS_BACKEND=queue and "
                            "GUIDECAST_DATABASE_URL=postgresql://... (as for the web processes)")
    if processes > 1:
        cmd = [sys.executable, "-m", "guidecast", "worker", "--processes", "1", "--data-dir", str(settings.data_dir)]
        children = [subprocess.Popen(cmd) for _ in range(processes)]

        def forward(signum, _frame) -> None:
            for c in children:
                if c.poll() is None:
                    c.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        click.echo(f"guidecast: {processes} workers running (pids {', '.join(str(c.pid) for c in children)})")
        codes = [c.wait() for c in children]
        sys.exit(max(codes))
    from guidecast.server.app import make_context

    ctx = make_context(settings)
    click.echo(f"guidecast worker {os.getpid()} waiting for jobs")
    ctx.jobs.run_worker()  # type: ignore[attr-defined]
