"""`guidecast check` and `guidecast refresh`: the core's check and refresh with this command line's flags."""
from __future__ import annotations

from pathlib import Path

import click

from guidecast.capture.check_report import as_text
from guidecast.cli.progress import bars
from guidecast.cli.sample import sample_app as sample_app_ctx
from guidecast.core.manifest import MANIFEST_FILE, is_build
from guidecast.core.refresh import EXIT_UNVERIFIED, check_build, exit_code, ownership_line, refresh
from guidecast.kernel.errors import GuidecastError


def register(cli: click.Group) -> None:
    cli.add_command(check)
    cli.add_command(refresh_cmd)


@click.command()
@click.argument("target", type=click.Path(path_type=Path), required=False)
@click.option("--all", "all_dir", type=click.Path(path_type=Path), help="Check every build folder under this folder.")
@click.option("--base-url", help="Where the app runs now (default: where the baseline was captured).")
@click.option("--workflow", type=click.Path(path_type=Path), help="Workflow file (default: the one recorded in the build).")
@click.option("--sample-app", type=click.Choice(["base", "changed"]), help="Check against the bundled sample app.")
@click.option("--no-retry", is_flag=True, help="Do not replay a second time to rule out flaky content.")
@click.option("--find-timeout", type=click.FloatRange(0.1, 600), default=5.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of text.")
@click.pass_context
def check(ctx: click.Context, target, all_dir, base_url, workflow, sample_app, no_retry, find_timeout,
          as_json) -> None:
    """Replay the workflow behind TARGET (a build, guide or capture folder) and report what changed in the app.

    Exit code: 0 nothing user-visible changed, 1 something changed, 3 could not verify (app unreachable)."""
    if bool(target) == bool(all_dir):
        raise GuidecastError("name one TARGET folder, or --all FOLDER to check every build under it")
    targets = [target] if target else sorted(p.parent for p in Path(all_dir).glob(f"*/{MANIFEST_FILE}"))
    if not targets:
        raise GuidecastError(f"{all_dir}: no build folders (with {MANIFEST_FILE}) under it")
    worst = 0
    with sample_app_ctx(sample_app) as app:
        for t in targets:
            report, results = check_build(t, base_url=app.url if app else base_url, workflow=workflow,
                                          retry=not no_retry, find_timeout=find_timeout,
                                          stages=bars(ctx.obj["quiet"]))
            click.echo(report.model_dump_json(indent=2) if as_json else as_text(report))
            if not as_json:
                click.echo(f"report: {results / 'report.html'}")
                if is_build(t):
                    click.echo(ownership_line(t))
            worst = max(worst, exit_code(report))
    ctx.exit(worst)


@click.command("refresh")
@click.argument("build", type=click.Path(path_type=Path))
@click.option("--base-url", help="Where the app runs now (default: where the baseline was captured).")
@click.option("--workflow", type=click.Path(path_type=Path), help="An updated workflow file to replay instead.")
@click.option("--sample-app", type=click.Choice(["base", "changed"]), help="Refresh against the bundled sample app.")
@click.option("--engine", help="Voice engine (default: the one the video was made with).")
@click.option("--no-retry", is_flag=True, help="Do not replay a second time to rule out flaky content.")
@click.option("--reviewed", is_flag=True, help="Publish even where a blurred element is not on the page any more "
              "(after looking at the pictures).")
@click.pass_context
def refresh_cmd(ctx: click.Context, build, base_url, workflow, sample_app, engine, no_retry, reviewed) -> None:
    """Bring the guide and video in BUILD up to date with the app, keeping every edit.

    Exit code: 0 refreshed or already current, 2 bad input, 3 could not verify (nothing changed on disk)."""
    with sample_app_ctx(sample_app) as app:
        report, entry = refresh(build, base_url=app.url if app else base_url, workflow=workflow, engine=engine,
                                retry=not no_retry, reviewed=reviewed, stages=bars(ctx.obj["quiet"]))
    click.echo(as_text(report))
    if not report.verified:
        click.echo("nothing was changed: the app could not be verified")
        ctx.exit(EXIT_UNVERIFIED)
    if entry is None:
        click.echo("already current: nothing to refresh")
        return
    click.echo(f"refreshed to guide version {entry.version}: {len(entry.segments_rendered)} video "
               f"segment(s) re-rendered, {len(entry.segments_reused)} reused")
    for c in entry.conflicts:
        click.echo(f"conflict: {c['step_id']}: {c['message']}")
    for r in entry.review:
        click.echo(f"review: {r.step}: {r.why}")
    if entry.healed:
        click.echo(f"workflow updated: {', '.join(entry.healed)} now found by the new name (old target kept as a "
                   "fallback)")
    click.echo(f"changelog: {Path(build) / 'CHANGELOG.md'}")
