"""Replay a workflow in Chromium and write the capture bundle: the capture stage's core function."""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from capture.browser import launch_browser
from capture.bundle import SCREENSHOT_DIR, Box, CaptureBundle, CapturedStep, WorkflowRef, save_capture
from capture.errors import CaptureError, GuidecastError, WorkflowError
from capture.files import sha256_bytes, staged_dir, store_content_addressed
from capture.locate import describe_element, role_and_name, to_playwright
from capture.workflow import LoadedWorkflow, Step, load_workflow

Progress = Callable[[int, int, str], None]
FIND_TIMEOUT_S = 10.0
ACTION_TIMEOUT_MS = 15000
NAV_TIMEOUT_MS = 30000


def capture_workflow(
    workflow: str | Path | LoadedWorkflow,
    out_dir: str | Path,
    *,
    base_url: str | None = None,
    headless: bool = True,
    device_scale_factor: float = 1.0,
    browser_path: str | None = None,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    find_timeout: float = FIND_TIMEOUT_S,
) -> CaptureBundle:
    """Replay `workflow` against the app and write a capture bundle to `out_dir` (replaced whole on success)."""
    lw = workflow if isinstance(workflow, LoadedWorkflow) else load_workflow(workflow)
    wf = lw.workflow
    env = os.environ if env is None else env
    secrets = _read_secrets(lw, env)
    start_url = _resolve(lw, wf.start_url, base_url, "start_url")
    ids = wf.step_ids()
    progress = progress or (lambda *_: None)

    with staged_dir(Path(out_dir)) as stage, launch_browser(headless=headless, executable=browser_path) as browser:
        shots = stage / SCREENSHOT_DIR
        shots.mkdir()
        context = browser.new_context(
            viewport={"width": wf.viewport.width, "height": wf.viewport.height},
            device_scale_factor=device_scale_factor,
            reduced_motion="reduce",
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        page = context.new_page()
        _open(page, start_url, lw)
        steps: list[CapturedStep] = []
        total = len(wf.steps)
        for i, (step, sid) in enumerate(zip(wf.steps, ids)):
            progress(i, total, f"step {i + 1}/{total}: {step.action}")
            url = _resolve(lw, step.url, base_url, f"step {i + 1} url") if step.action == "goto" else None
            steps.append(_run_step(page, lw, i, sid, step, secrets, url, shots, find_timeout))
        _settle(page)
        final = store_content_addressed(shots, _screenshot(page), ".png")
        progress(total, total, "done")
        bundle = CaptureBundle(
            id=_bundle_id(lw.sha256, steps, final),
            workflow=WorkflowRef(path=str(lw.path), sha256=lw.sha256, title=wf.title, description=wf.description),
            base_url=base_url,
            captured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            browser=f"chromium {browser.version}",
            viewport=wf.viewport,
            device_scale_factor=device_scale_factor,
            steps=steps,
            final_screenshot=final,
            final_url=page.url,
            final_title=page.title(),
        )
        context.close()
        save_capture(bundle, stage)
    return bundle


def _read_secrets(lw: LoadedWorkflow, env: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, var in lw.workflow.secrets.items():
        if not env.get(var):
            raise WorkflowError(
                f"{lw.path}: secret '{name}' is read from the environment variable {var}, which is not set; "
                f"set it (e.g. `export {var}=...`) and run again"
            )
        out[name] = env[var]
    return out


def _resolve(lw: LoadedWorkflow, url: str, base_url: str | None, field: str) -> str:
    try:
        return lw.workflow.resolve_url(url, base_url)
    except WorkflowError as e:
        raise WorkflowError(f"{lw.path}: {field}: {e}") from None


def _open(page, url: str, lw: LoadedWorkflow) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.goto(url, wait_until="load", timeout=NAV_TIMEOUT_MS)
    except PlaywrightError as e:
        reason = str(e).splitlines()[0].replace("Page.goto: ", "")
        raise CaptureError(
            f"{lw.path}: start_url: could not open {url} ({reason}); is the app running and the URL right?"
        ) from None


def _settle(page) -> None:
    """Wait until the page is ready to be photographed: loaded, fonts in, no pending navigation."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.wait_for_load_state("load", timeout=NAV_TIMEOUT_MS)
        page.evaluate("document.fonts ? document.fonts.ready.then(() => true) : true")
    except PlaywrightError:
        pass


def _screenshot(page) -> bytes:
    return page.screenshot(animations="disabled", caret="hide", scale="device")


def _find(page, lw: LoadedWorkflow, n: int, sid: str, step: Step, timeout: float = FIND_TIMEOUT_S):
    """The single visible element for the step's first matching locator (falls back in rank order)."""
    candidates = step.locators()
    deadline = time.monotonic() + timeout
    ambiguous: tuple[int, object, object] | None = None
    while True:
        for rank, loc in enumerate(candidates):
            pw = to_playwright(page, loc)
            count = pw.count()
            if count == 1:
                return pw, rank, loc
            if count > 1 and ambiguous is None:
                ambiguous = (count, loc, pw)
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    where = f"{lw.path}: step {n} ({sid}), field 'target'"
    if ambiguous:
        count, loc, pw = ambiguous
        names = []
        for k in range(min(count, 4)):
            role, name = role_and_name(pw.nth(k))
            names.append(f"{role or 'element'} {name!r}" if name else (role or "element"))
        raise CaptureError(
            f"{where}: {loc.describe()} matches {count} elements on {page.url} ({', '.join(names)}); "
            "make it more specific, e.g. add 'name' to a role, use a test_id, or set exact: true"
        )
    tried = "; ".join(c.describe() for c in candidates)
    raise CaptureError(
        f"{where}: {tried} matches nothing visible on {page.url} (title {page.title()!r}) after "
        f"{timeout:.0f}s; check the locator against the page, or add fallbacks"
    )


def _run_step(page, lw, i: int, sid: str, step: Step, secrets, url: str | None, shots: Path,
              find_timeout: float = FIND_TIMEOUT_S) -> CapturedStep:
    from playwright.sync_api import Error as PlaywrightError

    n = i + 1
    t0 = time.perf_counter()
    element = loc = rank = None
    heading = None
    value = secrets[step.secret] if step.secret else step.value
    try:
        if step.action == "goto":
            page.goto(url, wait_until="load", timeout=NAV_TIMEOUT_MS)
            _settle(page)
            shot = _screenshot(page)
            url_at, title_at = page.url, page.title()
        else:
            _settle(page)
            target = None
            if step.target is not None:
                target, rank, loc = _find(page, lw, n, sid, step, find_timeout)
                target.scroll_into_view_if_needed()
                element, heading = describe_element(target)
                box = target.bounding_box()
                if box:
                    b = Box(**box)
                    element.box = b
                    element.box_device = b.scaled(page.evaluate("window.devicePixelRatio"))
            shot = _screenshot(page)
            url_at, title_at = page.url, page.title()
            if heading is None:
                heading = _page_heading(page)
            _act(page, target, step, value)
    except GuidecastError:
        raise
    except PlaywrightError as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "closed" in msg.lower() or "crash" in msg.lower():
            raise CaptureError(f"{lw.path}: step {n} ({sid}): the browser closed or crashed during '{step.action}'") from None
        raise CaptureError(f"{lw.path}: step {n} ({sid}), action '{step.action}': {msg}") from None
    if heading is None and step.action == "goto":
        heading = _page_heading(page)
    return CapturedStep(
        id=sid,
        index=i,
        action=step.action,
        value=None if step.is_sensitive else step.value,
        value_redacted=step.is_sensitive,
        key=step.key,
        url_arg=step.url,
        note=step.note,
        locator=loc,
        locator_rank=rank,
        element=element,
        url=url_at,
        title=title_at,
        heading=heading,
        screenshot=store_content_addressed(shots, shot, ".png"),
        timing_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _page_heading(page) -> str | None:
    try:
        h = page.locator("h1").first
        return h.inner_text(timeout=500).strip() or None if h.count() else None
    except Exception:  # noqa: BLE001 - a page without a heading is fine
        return None


def _act(page, target, step: Step, value: str | None) -> None:
    a = step.action
    if a == "click":
        target.click()
    elif a == "fill":
        target.fill(value or "")
    elif a == "select":
        try:
            target.select_option(label=value, timeout=3000)
        except Exception:  # noqa: BLE001 - fall back to the option's value attribute
            target.select_option(value=value)
    elif a == "check":
        target.check()
    elif a == "uncheck":
        target.uncheck()
    elif a == "hover":
        target.hover()
    elif a == "press":
        (target.press if target is not None else page.keyboard.press)(step.key)


def _bundle_id(workflow_sha: str, steps: list[CapturedStep], final: str) -> str:
    parts = [workflow_sha, final] + [
        f"{s.id}:{s.screenshot}:{s.element.model_dump_json() if s.element else ''}" for s in steps
    ]
    return "cap-" + sha256_bytes("\n".join(parts).encode())[:16]
