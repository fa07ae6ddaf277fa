"""`guidecast check` and `guidecast refresh`: is a guide still true to the app, and bring it up to date."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from capture.check import check_capture
from capture.check_report import as_text, write_html, write_json
from capture.compare import FreshnessReport
from capture.errors import GuidecastError
from guidecast.progress import stage_progress
from guidecast.sample import sample_app as sample_app_ctx

EXIT_CHANGED = 1
EXIT_UNVERIFIED = 3


def resolve_target(target: Path) -> tuple[Path, Path, Path | None]:
    """(baseline capture folder, folder for check results, workflow file or None) for a build folder,
    a guide folder, a capture folder or a workflow file."""
    if target.is_file():
        raise GuidecastError(f"{target}: name a build folder (from `guidecast build`), a guide folder or a capture "
                             "folder; a workflow file alone has no baseline to compare with")
    if (target / "manifest.json").exists() and (target / "capture" / "capture.json").exists():
        manifest = json.loads((target / "manifest.json").read_text("utf-8"))
        wf = Path(manifest.get("workflow", {}).get("path", "")) or None
        return target / "capture", target / "check", wf
    if (target / "guide.json").exists():
        from composer.guide import load_guide

        g = load_guide(target)
        return Path(g.source.capture_dir), target.parent / "check", Path(g.source.workflow_path)
    if (target / "capture.json").exists():
        return target, target.parent / "check", None
    raise GuidecastError(f"{target}: not a build, guide or capture folder (no manifest.json, guide.json or capture.json)")


def run_check(target: Path, *, base_url=None, workflow=None, retry=True, find_timeout=5.0, quiet=False,
              browser_path=None) -> tuple[FreshnessReport, Path]:
    baseline, results, wf = resolve_target(target)
    current = results / "capture"
    with stage_progress("check", quiet) as p:
        report = check_capture(baseline, workflow=workflow or wf, base_url=base_url, keep_dir=current, retry=retry,
                               find_timeout=find_timeout, browser_path=browser_path, progress=p)
    write_json(report, results / "report.json")
    write_html(report, results / "report.html", baseline, current if current.exists() else None)
    return report, results


def exit_code(report: FreshnessReport) -> int:
    if not report.verified:
        return EXIT_UNVERIFIED
    return EXIT_CHANGED if report.changed else 0


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("target", type=click.Path(path_type=Path), required=False)
    @click.option("--all", "all_dir", type=click.Path(path_type=Path), help="Check every build folder under this folder.")
    @click.option("--base-url", help="Where the app runs now (default: where the baseline was captured).")
    @click.option("--workflow", type=click.Path(path_type=Path), help="Workflow file (default: the one recorded in the build).")
    @click.option("--sample-app", type=click.Choice(["base", "changed"]), help="Check against the bundled sample app.")
    @click.option("--no-retry", is_flag=True, help="Do not replay a second time to rule out flaky content.")
    @click.option("--find-timeout", type=float, default=5.0, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of text.")
    @click.pass_obj
    def check(obj, target, all_dir, base_url, workflow, sample_app, no_retry, find_timeout, as_json) -> None:
        """Replay the workflow behind TARGET (a build, guide or capture folder) and report what changed in the app.

        Exit code: 0 nothing user-visible changed, 1 something changed, 3 could not verify (app unreachable)."""
        if bool(target) == bool(all_dir):
            raise GuidecastError("name one TARGET folder, or --all FOLDER to check every build under it")
        targets = [target] if target else sorted(p.parent for p in Path(all_dir).glob("*/manifest.json"))
        if not targets:
            raise GuidecastError(f"{all_dir}: no build folders (with manifest.json) under it")
        worst = 0
        with sample_app_ctx(sample_app) as app:
            for t in targets:
                report, results = run_check(t, base_url=app.url if app else base_url, workflow=workflow,
                                            retry=not no_retry, find_timeout=find_timeout, quiet=obj["quiet"])
                click.echo(report.model_dump_json(indent=2) if as_json else as_text(report))
                if not as_json:
                    click.echo(f"report: {results / 'report.html'}")
                worst = max(worst, exit_code(report))
        sys.exit(worst)
