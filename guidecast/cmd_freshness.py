"""`guidecast check` and `guidecast refresh`: is a guide still true to the app, and bring it up to date."""
from __future__ import annotations

import json
import shutil
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import click

from capture.bundle import load_capture
from capture.check import check_capture
from capture.check_report import as_text, write_html, write_json
from capture.compare import FreshnessReport
from capture.errors import GuidecastError
from capture.files import atomic_write_text
from composer.compose import compose_guide
from composer.guide import load_guide
from narration.narrate import RenderReport, narrate_guide
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
    if report.verified and not needs_refresh(report) and (target / "manifest.json").exists():
        _update_manifest(target, last_verified=report.checked_at)
    return report, results


def _update_manifest(build: Path, **fields) -> dict:
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    manifest.update(fields)
    atomic_write_text(build / "manifest.json", json.dumps(manifest, indent=2))
    return manifest


def ownership_line(build: Path, today=None) -> str:
    """`owner, last verified, review by (OVERDUE)` for a build folder."""
    m = json.loads((build / "manifest.json").read_text("utf-8"))
    today = today or date.today()
    review = m.get("review_by")
    overdue = bool(review) and date.fromisoformat(review) < today
    return (f"{build.name}: owner {m.get('owner') or 'nobody'}, last verified {m.get('last_verified') or 'never'}, "
            f"review by {review or 'not set'}" + (" — OVERDUE" if overdue else ""))


def exit_code(report: FreshnessReport) -> int:
    if not report.verified:
        return EXIT_UNVERIFIED
    return EXIT_CHANGED if report.changed else 0


def register(cli: click.Group) -> None:
    _register_check(cli)
    _register_refresh(cli)


def _register_check(cli: click.Group) -> None:
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
                    if (t / "manifest.json").exists():
                        click.echo(ownership_line(t))
                worst = max(worst, exit_code(report))
        sys.exit(worst)


def needs_refresh(report: FreshnessReport) -> bool:
    return report.changed or any(s.user_visible for s in report.steps)


def run_refresh(build: Path, *, base_url=None, workflow=None, engine=None, quiet=False, retry=True,
                find_timeout=5.0) -> tuple[FreshnessReport, dict | None]:
    """Check the build; when the app changed, re-capture, re-compose with the edit layer, re-voice and
    re-render only what changed, and record a new version with a changelog. Returns (report, entry)."""
    if not (build / "manifest.json").exists():
        raise GuidecastError(f"{build}: not a build folder (no manifest.json); refresh works on `guidecast build` output")
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    report, results = run_check(build, base_url=base_url, workflow=workflow, retry=retry,
                                find_timeout=find_timeout, quiet=quiet)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if not report.verified or not needs_refresh(report):
        return report, None  # nothing to do (run_check recorded a verified, unchanged app)
    old = load_capture(build / "capture")
    archive = build / "captures" / old.id
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        (build / "capture").rename(archive)
    else:
        shutil.rmtree(build / "capture")
    (results / "capture").rename(build / "capture")
    with stage_progress("compose", quiet) as p:
        guide = compose_guide(build / "capture", build / "guide", progress=p)
    rendered = RenderReport()
    engine = engine or manifest.get("video", {}).get("engine", "pyttsx3")
    with stage_progress("narrate", quiet) as p:
        video = narrate_guide(build / "guide", build / "video", engine=engine, cache_dir=build / ".cache",
                              progress=p, report=rendered)
    entry = {
        "version": guide.version,
        "refreshed_at": now,
        "capture": {"before": old.id, "after": guide.source.capture_id},
        "changes": [{"step": s.id, "classes": s.classes, "details": s.details} for s in report.steps
                    if s.status != "unchanged"],
        "flow": [f.model_dump() for f in report.flow],
        "conflicts": [c.model_dump() for c in guide.conflicts],
        "review": [{"step": s.id, "why": s.review} for s in guide.steps if s.review],
        "new_steps": list(guide.new_step_ids),
        "segments_rendered": rendered.rendered,
        "segments_reused": rendered.reused,
    }
    manifest.update({
        "capture": {"id": guide.source.capture_id, "dir": "capture", "captured_at": guide.source.captured_at},
        "guide": {**manifest.get("guide", {}), "id": guide.id, "version": guide.version},
        "video": {**manifest.get("video", {}), "duration": video.duration, "engine": video.engine},
        "last_verified": now,
        "history": manifest.get("history", []) + [entry],
    })
    atomic_write_text(build / "manifest.json", json.dumps(manifest, indent=2))
    _append_changelog(build / "CHANGELOG.md", entry)
    return report, entry


def _append_changelog(path: Path, entry: dict) -> None:
    lines = [f"## Version {entry['version']} ({entry['refreshed_at']})", "",
             f"Re-captured: {entry['capture']['before']} -> {entry['capture']['after']}.", ""]
    for c in entry["changes"]:
        lines.append(f"- {c['step']}: {', '.join(c['classes'])}" + (f" ({'; '.join(c['details'])})" if c["details"] else ""))
    for c in entry["conflicts"]:
        lines.append(f"- CONFLICT {c['step_id']}: {c['message']}")
    for r in entry["review"]:
        lines.append(f"- REVIEW {r['step']}: {r['why']}")
    lines += ["", f"Video: {len(entry['segments_rendered'])} segment(s) re-rendered, "
                  f"{len(entry['segments_reused'])} reused.", "", ""]
    old = path.read_text("utf-8") if path.exists() else "# Changelog\n\n"
    atomic_write_text(path, old + "\n".join(lines))


def _register_refresh(cli: click.Group) -> None:
    @cli.command()
    @click.argument("build", type=click.Path(path_type=Path))
    @click.option("--base-url", help="Where the app runs now (default: where the baseline was captured).")
    @click.option("--workflow", type=click.Path(path_type=Path), help="An updated workflow file to replay instead.")
    @click.option("--sample-app", type=click.Choice(["base", "changed"]), help="Refresh against the bundled sample app.")
    @click.option("--engine", help="Voice engine (default: the one the video was made with).")
    @click.option("--no-retry", is_flag=True, help="Do not replay a second time to rule out flaky content.")
    @click.pass_obj
    def refresh(obj, build, base_url, workflow, sample_app, engine, no_retry) -> None:
        """Bring the guide and video in BUILD up to date with the app, keeping every edit.

        Exit code: 0 refreshed or already current, 2 bad input, 3 could not verify (nothing changed on disk)."""
        with sample_app_ctx(sample_app) as app:
            report, entry = run_refresh(build, base_url=app.url if app else base_url, workflow=workflow,
                                        engine=engine, quiet=obj["quiet"], retry=not no_retry)
        click.echo(as_text(report))
        if not report.verified:
            click.echo("nothing was changed: the app could not be verified")
            sys.exit(EXIT_UNVERIFIED)
        if entry is None:
            click.echo("already current: nothing to refresh")
            return
        click.echo(f"refreshed to guide version {entry['version']}: {len(entry['segments_rendered'])} video "
                   f"segment(s) re-rendered, {len(entry['segments_reused'])} reused")
        for c in entry["conflicts"]:
            click.echo(f"conflict: {c['step_id']}: {c['message']}")
        for r in entry["review"]:
            click.echo(f"review: {r['step']}: {r['why']}")
        click.echo(f"changelog: {build / 'CHANGELOG.md'}")
