"""`guidecast` commands of the capture area: record, import, and capture (with its privacy/settle options)."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import click

from capture.errors import GuidecastError


def _literal_errors(f):
    """Print a GuidecastError's message literally (selectors like `iframe[name="pay"]` are not rich markup)."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        from rich.markup import escape

        from guidecast.progress import console

        try:
            return f(*args, **kwargs)
        except GuidecastError as e:
            console.print("[red]error:[/red] " + escape(str(e)), highlight=False, soft_wrap=True)
            raise SystemExit(e.exit_code) from None

    return wrapper


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli` (`capture` replaces the core one with a superset of its options)."""
    from guidecast.cli import _capture_options
    from guidecast.sample import sample_app as _sample_app
    from guidecast.progress import console, stage_progress

    @cli.command()
    @click.argument("workflow", type=click.Path(path_type=Path))
    @click.option("-o", "--out", type=click.Path(path_type=Path),
                  help="Capture bundle folder (default: out/<workflow>/capture).")
    @_capture_options
    @click.option("--settle-timeout", type=float, default=30.0, show_default=True,
                  help="Seconds to wait for a page to finish loading before giving up.")
    @click.option("--strip-query", is_flag=True, help="Store URLs without ?query and #fragment.")
    @click.pass_obj
    @_literal_errors
    def capture(obj, workflow: Path, out: Path | None, base_url, headed, device_scale, browser_path, find_timeout,
                sample_app, settle_timeout, strip_query) -> None:
        """Replay WORKFLOW in Chromium and write a capture bundle (screenshots + element semantics)."""
        from capture.replay import capture_workflow

        out = out or Path("out") / workflow.stem / "capture"
        with _sample_app(sample_app) as app, stage_progress("capture", obj["quiet"]) as p:
            bundle = capture_workflow(workflow, out, base_url=app.url if app else base_url, headless=not headed,
                                      device_scale_factor=device_scale, browser_path=browser_path, progress=p,
                                      settle_timeout_s=settle_timeout, find_timeout=find_timeout,
                                      strip_query_strings=strip_query or None)
        click.echo(f"capture: {out} ({len(bundle.steps)} steps, {bundle.id})")

    @cli.command()
    @click.argument("url")
    @click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
                  help="Workflow file to write (its capture bundle goes beside it: flow.yaml -> flow.capture/).")
    @click.option("--headless", is_flag=True, help="No window (for tests and automation; stop with SIGTERM).")
    @click.option("--title", help="Workflow title (default: from the app's name).")
    @click.option("--secret-prefix", help="Prefix of the env vars for typed secrets (default: the app's name).")
    @click.option("--viewport", default="1280x720", show_default=True, help="Window content size, WIDTHxHEIGHT.")
    @click.option("--no-screenshots", is_flag=True, help="Record the workflow only, no capture bundle.")
    @click.option("--browser", "browser_path", help="Chromium executable.")
    @click.option("--cdp-port", type=int, help="Also open Chrome DevTools Protocol on this port (automation).")
    @_literal_errors
    def record(url, out: Path, headless, title, secret_prefix, viewport, no_screenshots, browser_path, cdp_port):
        """Open URL in Chromium and record what you do there as a workflow."""
        from capture.recording import record_interactive

        m = re.fullmatch(r"(\d+)x(\d+)", viewport)
        if not m:
            raise click.BadParameter("expected WIDTHxHEIGHT, e.g. 1280x720", param_hint="--viewport")

        def ready():
            click.echo(f"recording {url} — use the page; stop with the toolbar's Stop button, by closing the "
                       "browser, or with Ctrl+C", err=True)

        saved = record_interactive(url, out, headless=headless, title=title, secret_prefix=secret_prefix,
                                   viewport=(int(m.group(1)), int(m.group(2))), screenshots=not no_screenshots,
                                   browser_path=browser_path, cdp_port=cdp_port, on_ready=ready)
        for w in saved.warnings:
            console.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)
        click.echo(f"workflow: {saved.workflow} ({saved.steps} steps)")
        if saved.bundle:
            click.echo(f"capture: {saved.bundle}")
        for var, what in saved.env_vars.items():
            click.echo(f"before replaying, set {var} ({what}): export {var}=...")

    @cli.command("import")
    @click.argument("recording", type=click.Path(path_type=Path))
    @click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Workflow file to write.")
    @click.option("--test", "test_name", help="Selenium IDE: which test of the project (default: the first).")
    @click.option("--title", help="Workflow title (default: the recording's).")
    @click.option("--strict", is_flag=True, help="Fail when a step has no workflow equivalent instead of leaving it out.")
    @_literal_errors
    def import_cmd(recording: Path, out: Path, test_name, title, strict):
        """Convert a Chrome DevTools Recorder JSON or Selenium IDE .side file into a workflow."""
        from capture.files import atomic_write_text
        from capture.imports import import_recording
        from capture.workflow import dump_workflow

        result = import_recording(recording, test=test_name)
        for issue in result.issues:
            tag = "warning" if issue.unsupported else "note"
            console.print(f"[yellow]{tag}:[/yellow] {recording}: {issue}", highlight=False, soft_wrap=True)
        if strict and result.unsupported:
            first = result.unsupported[0]
            raise GuidecastError(f"{recording}: {first} (--strict: {len(result.unsupported)} step(s) have no "
                                 "workflow equivalent; nothing written)")
        wf = result.workflow if not title else result.workflow.model_copy(update={"title": title})
        atomic_write_text(out, dump_workflow(wf, f"Imported from {recording.name} by `guidecast import`."))
        click.echo(f"workflow: {out} ({len(wf.steps)} steps, {len(result.unsupported)} left out)")
        for var, what in result.env_vars.items():
            click.echo(f"before replaying, set {var} ({what}): export {var}=...")
