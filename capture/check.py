"""`check`: replay a workflow against the app now and compare with the capture a guide was built from."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from guidecast.capture.browser import launch_browser
from guidecast.capture.bundle import CaptureBundle, load_capture
from guidecast.capture.compare import FreshnessReport, Refusal, StepChange, compare_captures, looks_like_sign_in
from guidecast.capture.replay import capture_workflow, partial_dir
from guidecast.kernel.errors import CaptureError, GuidecastError, StepRefused, TargetNotFound
from guidecast.kernel.progress import Progress

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def check_capture(
    baseline_dir: str | Path,
    *,
    workflow: str | Path | None = None,
    base_url: str | None = None,
    keep_dir: str | Path | None = None,
    retry: bool = True,
    find_timeout: float = 5.0,
    headless: bool = True,
    browser_path: str | None = None,
    progress: Progress | None = None,
    allowed_hosts: list[str] | None = None,
    browser: Browser | None = None,
) -> FreshnessReport:
    """Replay the baseline's workflow against `base_url` (default: where the baseline was captured) and
    classify every step. A step only counts as changed when a second replay agrees (flaky content is not
    a change). With `keep_dir`, the new capture is kept there (for `refresh`). `allowed_hosts`: the replays
    reach no other host (see `capture_workflow`)."""
    baseline_dir = Path(baseline_dir)
    base = load_capture(baseline_dir)
    wf_path = Path(workflow) if workflow else Path(base.workflow.path)
    if not wf_path.exists():
        raise GuidecastError(f"{wf_path}: the workflow this capture came from is gone; pass --workflow FILE")
    url = base_url or base.base_url
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="guidecast-check-"))
        if browser is None and allowed_hosts is None:  # one browser for both replays
            browser = stack.enter_context(launch_browser(headless=headless, executable=browser_path))
        runs = 2 if retry else 1
        reports: list[FreshnessReport] = []
        captures: list[Path] = []
        for k in range(runs):
            out = Path(tmp) / f"run{k}"
            report = _run_once(base, baseline_dir, wf_path, out, url, checked_at, find_timeout, headless,
                               browser_path, _scaled(progress, k, runs), allowed_hosts, browser)
            reports.append(report)
            captures.append(out)
            if not report.verified or not report.changed:
                break
        final = reports[-1] if len(reports) == 1 else _agreed(reports[0], reports[1])
        if keep_dir and final.verified and captures[-1].exists():
            keep = Path(keep_dir)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(captures[-1], keep)
    return final


def _run_once(base: CaptureBundle, baseline_dir: Path, wf_path: Path, out: Path, url: str | None, checked_at: str,
              find_timeout: float, headless: bool, browser_path: str | None, progress,
              allowed_hosts: list[str] | None = None, browser: Browser | None = None) -> FreshnessReport:
    try:
        cur = capture_workflow(wf_path, out, base_url=url, find_timeout=find_timeout, headless=headless,
                               browser_path=browser_path, progress=progress, allowed_hosts=allowed_hosts,
                               device_scale_factor=base.device_scale_factor, browser=browser,
                               recorded={s.id: s.element for s in base.steps if s.element})
        return compare_captures(base, baseline_dir, cur, out, checked_at=checked_at)
    except CaptureError as e:
        part = partial_dir(out)
        cur = load_capture(part) if part.exists() else None
        message = str(e).split(" — stopped there")[0]
        target_gone = isinstance(e, TargetNotFound)
        if isinstance(e, TargetNotFound) and _asks_to_sign_in(e, base, len(cur.steps) if cur else 0):
            return _unverified(base, wf_path, checked_at, "the app now asks to sign in: " + _short(message))
        if cur is None and not target_gone:
            return _unverified(base, wf_path, checked_at, _short(message))
        # A gone target at step 1 still gives the table: step 1 gone, the rest not verified.
        report = compare_captures(base, baseline_dir, cur, part if cur else None, checked_at=checked_at,
                                  error=_short(message), failed_at=len(cur.steps) if cur else 0) if target_gone \
            else compare_captures(base, baseline_dir, cur, part, checked_at=checked_at, error=_short(message))
        if isinstance(e, StepRefused):
            report.refused = Refusal(step=e.step or 0, id=e.step_id or "", message=e.app_message)
        report.verified = target_gone  # a gone target is a finding; any other failure leaves the app unverified
        return report


def _unverified(base: CaptureBundle, wf_path: Path, checked_at: str, error: str) -> FreshnessReport:
    return FreshnessReport(workflow_path=str(wf_path), workflow_sha256=base.workflow.sha256,
                           baseline_capture=base.id, current_capture=None, checked_at=checked_at,
                           verified=False, error=error)


def _asks_to_sign_in(e: TargetNotFound, base: CaptureBundle, done: int) -> bool:
    """The replay stopped on a sign-in page (after `done` steps) where the baseline was past signing in."""
    if not looks_like_sign_in(e.page_title, e.url):
        return False
    step = base.steps[done] if done < len(base.steps) else None
    return step is not None and not looks_like_sign_in(step.title, step.url)


def _short(message: str) -> str:
    return message.split(": ", 1)[1] if message.count(": ") and message.startswith("/") else message


def _agreed(first: FreshnessReport, second: FreshnessReport) -> FreshnessReport:
    """Keep a step's change only where both runs saw the same change; the rest was flaky content."""
    if not second.verified:
        return second
    one = {s.id: s for s in first.steps}
    steps: list[StepChange] = []
    for s in second.steps:
        a = one.get(s.id)
        if s.status != "unchanged" and (a is None or a.status != s.status):
            s = s.model_copy(update={"status": "unchanged", "classes": [],
                                     "details": s.details + ["changed in one replay only: treated as dynamic content"]})
        steps.append(s)
    flow = [f for f in second.flow if f in first.flow]
    return second.model_copy(update={"steps": steps, "flow": flow})


def _scaled(progress: Progress | None, k: int, runs: int) -> Progress | None:
    if progress is None:
        return None

    def update(done: int, total: int, what: str) -> None:
        progress(k * total + done, runs * total, ("re-check " if k else "") + what)

    return update
