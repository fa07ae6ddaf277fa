"""`guidecast` commands of the capture area: record (interactive) and import (other recorders' formats)."""
from __future__ import annotations

import re
from pathlib import Path

import click

from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.paths import check_output


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`: record and import."""
    from guidecast.cli.progress import console

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
    @click.option("--cdp-port", type=click.IntRange(1, 65535), help="Also open Chrome DevTools Protocol on this port (automation).")
    def record(url, out: Path, headless, title, secret_prefix, viewport, no_screenshots, browser_path, cdp_port):
        """Open URL in Chromium and record what you do there as a workflow."""
        from guidecast.capture.recording import record_interactive

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
    def import_cmd(recording: Path, out: Path, test_name, title, strict):
        """Convert a Chrome DevTools Recorder JSON or Selenium IDE .side file into a workflow; a recording
        the guidecast browser extension saved (.zip) into a workflow and its capture bundle beside it."""
        from guidecast.capture.extension_recording import convert_recording, is_bundle, opened_bundle
        from guidecast.capture.imports import import_recording
        from guidecast.capture.workflow import dump_workflow
        from guidecast.kernel.files import atomic_write_text

        check_output(out, [recording], flag="-o", folder=False)
        if recording.exists() and is_bundle(recording):
            with opened_bundle(recording) as folder:
                wf, bundle, warnings = convert_recording(folder, out, title=title)
            for w in warnings:
                console.print(f"[yellow]warning:[/yellow] {recording}: {w}", highlight=False, soft_wrap=True)
            click.echo(f"workflow: {out} ({len(wf.steps)} steps)")
            if bundle is not None:
                click.echo(f"capture:  {bundle} (compose it: guidecast compose {bundle} -o GUIDE)")
            for name, var in wf.secrets.items():
                click.echo(f"before replaying, set {var} (the value typed as '{name}'): export {var}=...")
            return
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
