"""Replay a workflow in Chromium and write the capture bundle: the capture stage's core function.

Per step: wait until the page is ready (loaded, fonts in), find the target (locators in rank order,
retried until one matches exactly one visible element), scroll it into view, describe it, take the
"before" screenshot with sensitive fields blurred, then act. Popups, iframes and JS dialogs are
followed as the workflow says (see `capture.workflow.Step`). A failure keeps the steps captured so
far in `<out>.partial/` and says at which step it stopped.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidecast.capture import locate
from guidecast.capture.browser import Hosts, host_allowed, host_resolver_rules, launch_browser, parse_hosts, url_host
from guidecast.capture.bundle import (
    CAPTURE_FILE,
    SCREENSHOT_DIR,
    CaptureBundle,
    CapturedStep,
    ElementInfo,
    WorkflowRef,
    save_capture,
)
from guidecast.capture.hooks import run_hooks
from guidecast.capture.inventory import Control, read_controls
from guidecast.capture.locate import frame_root, probe, script, settle_page, to_playwright
from guidecast.capture.privacy import scrub, secret_kind, strip_query
from guidecast.capture.rediscover import rediscover
from guidecast.capture.refusal import ACTS, SIGNALS_JS, WATCH_JS, Signals, refusal
from guidecast.capture.runvars import RunValues, names_in
from guidecast.capture.shots import THAW_JS, Redactor
from guidecast.capture.tabs import Tabs
from guidecast.capture.workflow import LOCATOR_KINDS, LoadedWorkflow, Locator, Step, load_workflow
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import (
    CaptureError,
    GuidecastError,
    StepRefused,
    TargetAmbiguous,
    TargetNotFound,
    WorkflowError,
)
from guidecast.kernel.files import sha256_bytes, staged_dir, store_content_addressed
from guidecast.kernel.paths import check_output
from guidecast.kernel.progress import Progress

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FIND_TIMEOUT_S = 10.0
ACTION_TIMEOUT_MS = 15000
NAV_TIMEOUT_MS = 30000
SETTLE_TIMEOUT_S = 30.0
CRASH_WORDS = ("target crashed", "page crashed", "has been closed", "target closed", "browser closed",
               "disconnected", "connection closed")


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
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
    find_timeout: float = FIND_TIMEOUT_S,
    strip_query_strings: bool | None = None,
    allowed_hosts: Iterable[str] | None = None,
    browser: Browser | None = None,
    run_values: RunValues | None = None,
    recorded: Mapping[str, ElementInfo] | None = None,
) -> CaptureBundle:
    """Replay `workflow` against the app and write a capture bundle to `out_dir` (replaced whole on success).

    On failure nothing at `out_dir` changes; the steps captured so far go to `<out_dir>.partial/`.
    `strip_query_strings` overrides the workflow's `privacy.strip_query`.
    `allowed_hosts` (`host`, `host:port`, `[v6]:port` entries; the server's SSRF guard): the browser reaches
    no other host. A request route aborts every request to another host, and Chromium's resolver rules
    leave every other host unresolvable (redirect hops, which routes do not see, included). A page that
    goes to another host (link, redirect, script, popup) stops the capture with a CaptureError naming the
    step and the host; other requests to such hosts (images, iframes) are just not answered.
    `browser`: a launched Chromium to replay in (a fresh context each time; it stays open), e.g. one
    browser for several replays. With `allowed_hosts` the replay launches its own: the resolver rules are
    launch flags.
    `run_values`: the per-run values (`{{ run.id }}`, ...; default: new ones). The workflow's setup hooks run
    first, its teardown hooks after, whether the replay went through or not (see `capture.hooks`).
    `recorded`: per step id, the element an earlier capture found (a check passes its baseline's): when every
    locator of the step fails, the element is looked for by its other traits (`capture.rediscover`).
    """
    lw = workflow if isinstance(workflow, LoadedWorkflow) else load_workflow(workflow)
    out = Path(out_dir)
    check_output(out, [lw.path], ours=[CAPTURE_FILE])
    hosts = None if allowed_hosts is None else parse_hosts(allowed_hosts)
    values = run_values or RunValues.new(lw.path, lw.workflow.vars, counted=lw.workflow.uses_counter)
    run = _Replay(lw, values, recorded or {}, base_url=base_url, env=os.environ if env is None else env, progress=progress,
                  settle_timeout_s=settle_timeout_s, find_timeout=find_timeout,
                  device_scale_factor=device_scale_factor, hosts=hosts,
                  strip_query=lw.workflow.privacy.strip_query if strip_query_strings is None else strip_query_strings)
    args = None if hosts is None else [f"--host-resolver-rules={host_resolver_rules(hosts)}"]
    opened = nullcontext(browser) if browser is not None and args is None else \
        launch_browser(headless=headless, executable=browser_path, args=args)
    with staged_dir(out) as stage, opened as b:
        try:
            run_hooks(lw, "setup", values, base_url, hosts)
            bundle = run.execute(b, stage / SCREENSHOT_DIR)
        except (GuidecastError, KeyboardInterrupt) as e:
            _teardown_after_failure(lw, values, base_url, hosts)
            raise _keep_partial(run, e, stage / SCREENSHOT_DIR, partial_dir(out)) from None
        run_hooks(lw, "teardown", values, base_url, hosts)
        save_capture(bundle, stage)
    shutil.rmtree(partial_dir(out), ignore_errors=True)
    return bundle


def _teardown_after_failure(lw: LoadedWorkflow, values: RunValues, base_url: str | None, hosts: Hosts | None) -> None:
    """Teardown after a failed replay: the replay's error is the one to report, not the teardown's."""
    try:
        run_hooks(lw, "teardown", values, base_url, hosts)
    except GuidecastError:
        pass


def partial_dir(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


class _Replay:
    def __init__(self, lw: LoadedWorkflow, values: RunValues, recorded: Mapping[str, ElementInfo], *, base_url, env, progress, settle_timeout_s, find_timeout,
                 device_scale_factor, strip_query, hosts: Hosts | None = None):
        self.lw, self.wf = lw, lw.workflow
        self.base_url = base_url
        self.secrets = _read_secrets(lw, env)
        self.values = values
        self.recorded = recorded
        self.traits: dict[str, list[str]] = {}  # step id -> traits that found its element (no locator did)
        self.start_url = _resolve(lw, values.expand(self.wf.start_url), base_url, "start_url")
        self.progress = progress or (lambda *_: None)
        self.settle_ms = int(settle_timeout_s * 1000)
        self.find_s = find_timeout
        self.dpr = device_scale_factor
        self.strip = strip_query
        self.steps: list[CapturedStep] = []
        self.redactor = Redactor()
        self.sensitive_values = [v for v in self.secrets.values()]
        self.browser_version = ""
        self.where = "start_url"
        self.acted = "start_url"  # the last step that acted: what sent the page elsewhere
        self.hosts = hosts
        self.refused: str | None = None  # the first top-level navigation to a host off `hosts`
        self.documents: list[tuple[int, str]] = []  # (status, reason) of every top-level document answer
        self.doc_mark = 0  # len(documents) when the last step acted
        self.signals: Signals | None = None  # the error signals on the page before the last step acted

    # -- the run ---------------------------------------------------------------------------------
    def execute(self, browser, shots: Path) -> CaptureBundle:
        from playwright.sync_api import Error as PlaywrightError

        shots.mkdir(exist_ok=True)
        self.shots = shots
        self.browser_version = browser.version
        wf = self.wf
        context = browser.new_context(
            viewport={"width": wf.viewport.width, "height": wf.viewport.height},
            device_scale_factor=self.dpr,
            reduced_motion="reduce",
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        if self.hosts is not None:
            self._guard(context)
        context.on("response", self._document_answer)
        context.add_init_script(WATCH_JS)
        self.tabs = Tabs(context, context.new_page(), ACTION_TIMEOUT_MS)
        try:
            self._open(self.tabs.page, self.start_url)
            ids = wf.step_ids()
            total = len(wf.steps)
            for i, (step, sid) in enumerate(zip(wf.steps, ids, strict=True)):
                self.where = f"step {i + 1} ({sid})"
                self.progress(i, total, f"step {i + 1}/{total}: {step.action}")
                self.steps.append(self._run_step(i, sid, step))
                self._stop_if_refused()
                self._stop_if_app_refused(i + 1, sid, step)
            self.where = "the final screenshot"
            self.tabs.take_new()
            page = self.tabs.page
            self._settle(page)
            final, _ = self.redactor.shoot(page, self.tabs.current, self.dpr)
            final_name = store_content_addressed(shots, final, ".png")
            final_url, final_title = page.url, page.title()
            self.final_dialog = _open_dialog(page)
            self.final_controls = read_controls(page)
            self.final_heading = _page_heading(page)
            self.progress(total, total, "done")
        except PlaywrightError as e:
            raise self._browser_error(e) from None
        try:
            context.close()
        except PlaywrightError:
            pass
        return self._bundle(final_name, final_url, final_title)

    def _bundle(self, final: str | None, final_url: str | None, final_title: str | None, *,
                error: str | None = None) -> CaptureBundle:
        wf, lw = self.wf, self.lw
        bundle = CaptureBundle(
            id=_bundle_id(lw.sha256, self.steps, final or ""),
            workflow=WorkflowRef(path=str(lw.path), sha256=lw.sha256, title=wf.title, description=wf.description),
            base_url=self.base_url,
            captured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            browser=f"chromium {self.browser_version}",
            viewport=wf.viewport,
            device_scale_factor=self.dpr,
            steps=self.steps,
            final_screenshot=final,
            final_url=self._url(final_url),
            final_title=final_title,
            final_dialog=getattr(self, "final_dialog", None),
            final_controls=getattr(self, "final_controls", None),
            final_heading=getattr(self, "final_heading", None),
            partial=error is not None,
            error=error,
        )
        # Last line of defence: no secret value leaves the run, wherever it may have slipped in.
        text = bundle.model_dump_json()
        clean = scrub(text, self.sensitive_values)
        return bundle if clean == text else CaptureBundle.model_validate_json(clean)

    def _document_answer(self, response) -> None:
        try:
            if response.request.resource_type == "document" and response.frame.parent_frame is None:
                self.documents.append((response.status, response.status_text or ""))
        except Exception:  # noqa: BLE001 - a closing page's answer says nothing about the step
            pass

    def _before_acting(self, page, step: Step) -> None:
        self.doc_mark = len(self.documents)
        self.signals = Signals.read(page) if step.action in ACTS else None

    def _stop_if_app_refused(self, n: int, sid: str, step: Step) -> None:
        """The app refused step `n` (see `capture.refusal`): stop with what it said, unless that was expected."""
        if step.expect_refusal or step.action in ("close_page", "wait_for", "hover"):
            return
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.tabs.take_new()
        page = self.tabs.page
        try:
            page.wait_for_load_state("load", timeout=self.settle_ms)
        except PlaywrightTimeout:
            return  # a page that never settles is the next step's error, said there
        answers = self.documents[self.doc_mark:]
        said = refusal(self.signals, Signals.read(page), answers[-1] if answers else None)
        if said is None:
            return
        status = answers[-1][0] if answers and answers[-1][0] >= 400 else None
        raise StepRefused(
            f"{self.lw.path}: the app refused step {n} ({sid}): {said!r}. If the workflow creates something, give "
            "it a per-run name ({{{{ run.id }}}} in the workflow's vars) or reset the app in a setup hook; if the app "
            "is meant to refuse this step, mark it expect_refusal",
            step=n, step_id=sid, app_message=said, status=status)

    def _expanded(self, step: Step) -> Step:
        """The step with this run's values put in (`capture.runvars`)."""
        v = self.values

        def loc(x: Locator) -> Locator:
            return x.model_copy(update={k: v.expand(getattr(x, k)) for k in ("name", *LOCATOR_KINDS)
                                        if isinstance(getattr(x, k), str)})

        return step.model_copy(update={
            "value": v.expand(step.value) if step.value is not None else None,
            "url": v.expand(step.url) if step.url is not None else None,
            "target": loc(step.target) if step.target else None,
            "fallbacks": [loc(f) for f in step.fallbacks],
        })

    def _url(self, url: str | None) -> str | None:
        return strip_query(url) if self.strip else url

    def _guard(self, context) -> None:
        """Abort every request to a host off the allowlist and note a page sent to one (see capture_workflow)."""
        def route(r) -> None:
            if host_allowed(r.request.url, self.hosts):
                r.fallback()
            else:
                r.abort("blockedbyclient")

        def seen(request) -> None:  # every request, redirect hops too
            if self.refused is None and url_host(request.url) and not host_allowed(request.url, self.hosts) \
                    and _top_level(request):
                self.refused = request.url

        context.route("**/*", route)
        context.on("request", seen)

    def _refused_error(self) -> CaptureError | None:
        if self.refused is None:
            return None
        host, port = url_host(self.refused)
        allowed = ", ".join(f"[{h}]" if ":" in h else h if p is None else f"{h}:{p}" for h, p in self.hosts) or "none"
        return CaptureError(
            f"{self.lw.path}: {self.acted}: the page went to {strip_query(self.refused)}, but {host}:{port} is not an "
            f"allowed host for this capture (allowed: {allowed}); nothing was loaded from it. Keep the workflow on "
            "the allowed hosts, or have the host allowed"
        )

    def _stop_if_refused(self) -> None:
        err = self._refused_error()
        if err is not None:
            raise err

    def _browser_error(self, e: Exception) -> CaptureError:
        refused = self._refused_error()
        if refused is not None:
            return refused
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if self.tabs.crashed or any(w in msg.lower() for w in CRASH_WORDS):
            return CaptureError(f"{self.lw.path}: {self.where}: the browser crashed or was closed ({msg})")
        return CaptureError(f"{self.lw.path}: {self.where}: {msg}")

    def _open(self, page, url: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            page.goto(url, wait_until="commit", timeout=NAV_TIMEOUT_MS)
        except PlaywrightError as e:
            self._stop_if_refused()
            reason = str(e).splitlines()[0].replace("Page.goto: ", "")
            raise CaptureError(
                f"{self.lw.path}: start_url: could not open {url} ({reason}); is the app running and the URL right?"
            ) from None
        self._settle(page)

    def _settle(self, page, *, still: bool = True) -> None:
        """Wait until the page is ready to be photographed: loaded, its web fonts in and (`still`) its
        animations finished (`settle_page`). No sleeping. Before a step with a target only the load is
        waited for here: `probe` waits for the rest on the target itself."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for _ in range(3):
            try:
                page.wait_for_load_state("load", timeout=self.settle_ms)
            except PlaywrightTimeout:
                raise self._not_settled(page) from None
            if not still:
                break
            try:
                settle_page(page)
                break
            except PlaywrightError as e:  # a navigation replaced the document meanwhile: wait for it
                if "context was destroyed" not in str(e) and "navigat" not in str(e):
                    raise
        self._stop_if_refused()  # a page sent off the allowed hosts shows the browser's error page

    def _not_settled(self, page) -> CaptureError:
        return CaptureError(
            f"{self.lw.path}: {self.where}: the page {page.url} did not finish loading within "
            f"{self.settle_ms / 1000:g}s (something it loads never completes); check the app, or raise "
            "--settle-timeout"
        )

    # -- one step --------------------------------------------------------------------------------
    def _run_step(self, i: int, sid: str, step: Step) -> CapturedStep:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        n = i + 1
        t0 = time.perf_counter()
        template = step.value if step.value is not None and names_in(step.value) else None
        step = self._expanded(step)
        tabs = self.tabs
        tabs.dialogs = []
        tabs.dialog_answer = step.dialog or "accept"
        closing = step.action == "close_page"
        if step.page and not closing:
            if not tabs.switch(step.page):
                raise CaptureError(
                    f"{self.lw.path}: step {n} ({sid}), field 'page': no tab named '{step.page}' is open "
                    f"(open: {', '.join(tabs.pages)}); a step with opens_popup: true opens popup-1, popup-2, ..."
                )
        else:
            tabs.take_new()
        if closing:  # close the tab (it may be closing itself, as it did when recorded); show where we are back
            self._close(step.page or tabs.current)
        page, page_name = tabs.page, tabs.current
        value = self.secrets[step.secret] if step.secret else step.value
        rec: dict[str, Any] = {"element": None, "locator": None, "rank": None, "heading": None, "blurred": [],
                               "ignore": []}
        try:
            if closing:
                self._settle(page)
                shot, rec["blurred"] = self.redactor.shoot(page, page_name, self.dpr)
                rec["ignore"] = self._dynamic_boxes(page)
                rec["controls"] = read_controls(page)
                url_at, title_at = page.url, page.title()
            elif step.action in ("goto", "back", "forward"):
                self.acted = self.where
                self._before_acting(page, step)
                self._navigate(page, step, n)
                self._settle(page)
                shot, rec["blurred"] = self.redactor.shoot(page, page_name, self.dpr)
                rec["ignore"] = self._dynamic_boxes(page)
                rec["controls"] = read_controls(page)
                url_at, title_at = page.url, page.title()
                rec["heading"] = _page_heading(page)
            else:
                self._settle(page, still=step.target is None)
                target = None
                if step.target is not None:
                    target, facts = self._find_and_describe(page, n, sid, step, rec)
                    url_at, title_at = facts["url"], facts["title"]
                    if not facts["top"]:
                        url_at, title_at = page.url, page.title()
                    if self._is_sensitive(step, value, rec["element"]):
                        self.redactor.add(page_name, rec["locator"])
                        if value:
                            self.sensitive_values.append(value)
                else:
                    url_at, title_at = page.url, page.title()
                    rec["heading"] = _page_heading(page)
                top_passwords = facts["passwords"] if target is not None and facts["top"] else None
                shot, rec["blurred"] = self.redactor.shoot(page, page_name, self.dpr, top_passwords, thaw=False)
                self.doc_mark = len(self.documents)
                rec["controls"], self.signals = _after_shot(page, step.action in ACTS)
                rec["ignore"] = self._dynamic_boxes(page)
                self.acted = self.where
                self._act(page, target, step, value, rec["element"], n, sid)
        except GuidecastError:
            self._stop_if_refused()  # a page sent off the allowed hosts meanwhile is the cause, not this
            raise
        except PlaywrightTimeout as e:
            self._stop_if_refused()
            raise CaptureError(f"{self.lw.path}: step {n} ({sid}), action '{step.action}': "
                               f"{str(e).strip().splitlines()[0]}") from None
        except PlaywrightError as e:
            raise self._browser_error(e) from None
        opened = tabs.take_new()
        if opened:
            self._settle(tabs.page)
        sensitive = self._is_sensitive(step, value, rec["element"])
        return CapturedStep(
            id=sid,
            index=i,
            action=step.action,
            value=None if sensitive else step.value,
            value_template=None if sensitive else template,
            value_redacted=sensitive,
            key=step.key,
            url_arg=self._url(step.url),
            note=step.note,
            locator=rec["locator"],
            locator_rank=rec["rank"],
            element=rec["element"],
            url=self._url(url_at),
            title=title_at,
            heading=rec["heading"],
            screenshot=store_content_addressed(self.shots, shot, ".png"),
            timing_ms=round((time.perf_counter() - t0) * 1000, 1),
            page=page_name,
            opened_page=opened,
            viewport=self.wf.viewport,
            device_scale_factor=self.dpr,
            dialogs=list(tabs.dialogs),
            blurred=rec["blurred"],
            ignore_boxes=rec["ignore"],
            rediscovered=rec.get("traits", []),
            controls=rec.get("controls"),
        )

    def _dynamic_boxes(self, page) -> list[Box]:
        """Boxes (CSS px) of the workflow's dynamic regions visible on the page now."""
        boxes = []
        for loc in self.wf.dynamic:
            pw = to_playwright(page, loc)
            for k in range(min(pw.count(), 20)):
                b = pw.nth(k).bounding_box()
                if b:
                    boxes.append(Box(**b))
        return boxes

    def _is_sensitive(self, step: Step, value: str | None, element: ElementInfo | None) -> bool:
        if step.is_sensitive or (element is not None and element.input_type == "password"):
            return True
        return bool(self.wf.privacy.detect_secrets and step.action == "fill" and secret_kind(value))

    def _close(self, name: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        if name == "main":
            raise CaptureError(f"{self.lw.path}: {self.where}, field 'page': close_page closes popups, not the main tab")
        page = self.tabs.pages.get(name)
        if page is not None:
            try:
                page.close(run_before_unload=True)
            except PlaywrightError:  # it was closing itself already
                pass
        self.tabs.closed(name)

    def _navigate(self, page, step: Step, n: int) -> None:
        if step.action == "goto":
            url = _resolve(self.lw, step.url, self.base_url, f"step {n} url")
            page.goto(url, wait_until="commit", timeout=NAV_TIMEOUT_MS)
        elif step.action == "back":
            page.go_back(wait_until="commit", timeout=NAV_TIMEOUT_MS)
        else:
            page.go_forward(wait_until="commit", timeout=NAV_TIMEOUT_MS)

    def _find_and_describe(self, page, n: int, sid: str, step: Step, rec: dict):
        target, rank, loc, facts = self._find(page, n, sid, step)
        info = ElementInfo(**facts["info"])
        if loc.frame:  # the box in the page's viewport, through the iframes
            bb = target.bounding_box()
            box = Box(**bb) if bb else None
        else:
            box = Box(**facts["box"])
        if box:
            info.box = box
            info.box_device = box.scaled(facts["dpr"] or self.dpr)
        rec.update(element=info, locator=loc, rank=rank, heading=facts["heading"], traits=self.traits.pop(sid, []))
        return target, facts

    def _find(self, page, n: int, sid: str, step: Step):
        """The single visible element for the step's first matching locator (falls back in rank order),
        with its description (see `capture.locate.probe`)."""
        from playwright.sync_api import Error as PlaywrightError

        candidates = step.locators()
        deadline = time.monotonic() + self.find_s
        ambiguous = None
        while True:
            for rank, loc in enumerate(candidates):
                pw = to_playwright(page, loc, step.action)
                try:
                    count, facts = probe(pw)
                except PlaywrightError as e:  # a navigation replaced the document meanwhile: look again
                    if "context was destroyed" not in str(e) and "navigat" not in str(e):
                        raise
                    self._settle(page, still=False)
                    count, facts = 0, None
                if count == 1:
                    return pw, rank, loc, facts
                if count > 1 and ambiguous is None:
                    ambiguous = (count, loc, pw)
            if time.monotonic() > deadline:
                break
            self._stop_if_refused()
            page.wait_for_timeout(100)
        where = f"{self.lw.path}: step {n} ({sid}), field 'target'"
        if ambiguous:
            count, loc, pw = ambiguous
            listed = locate.listed(page, pw, loc, step.action)
            fits = [c for c in listed if c["locator"] and (c["fillable"] or step.action not in locate.FIELD_ACTIONS)]
            hint = f"e.g. target: {fits[0]['locator']}" if fits else \
                "e.g. add 'name' to a role, use a test_id, or add nth: 1 for the first"
            raise TargetAmbiguous(
                f"{where}: {loc.describe()} matches {count} elements on {page.url}: "
                f"{'; '.join(locate.say(c) for c in listed)}{'; ...' if count > len(listed) else ''}. "
                f"Make it name one, {hint}", step=n, step_id=sid, locator=loc, count=count, candidates=listed)
        if sid in self.recorded:  # the element the capture recorded, by its other traits
            found = rediscover(page, self.recorded[sid], candidates[0].frame)
            if found is not None:
                self.traits[sid] = found.traits
                return found.pw, len(candidates), found.locator, found.facts
        missing = _missing_frame(page, candidates)
        if missing:
            raise CaptureError(f"{where}: {missing}")
        tried = "; ".join(c.describe() for c in candidates)
        title = page.title()
        near = locate.near_misses(page, candidates[0], step.action)
        hint = f"near misses: {'; '.join(locate.say(c) for c in near)}" if near else \
            "check the locator against the page, or add fallbacks"
        raise TargetNotFound(
            f"{where}: {tried} matches nothing visible on {page.url} (title {title!r}) after "
            f"{self.find_s:g}s; {hint}",
            step=n, step_id=sid, locator=candidates, url=page.url, page_title=title, near_misses=near)

    def _act(self, page, target, step: Step, value: str | None, element: ElementInfo | None, n: int, sid: str):
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        a = step.action
        try:
            if step.opens_popup:
                with page.context.expect_page(timeout=ACTION_TIMEOUT_MS):
                    _perform(page, target, a, step, value, element, self._files(step, n, sid))
            else:
                _perform(page, target, a, step, value, element, self._files(step, n, sid))
        except PlaywrightTimeout:
            raise
        except PlaywrightError as e:
            wrong = _wrong_kind(a, element, str(e))
            if wrong is None:
                raise
            raise CaptureError(f"{self.lw.path}: step {n} ({sid}), action '{a}': {wrong}", step=n, step_id=sid) from None

    def _files(self, step: Step, n: int, sid: str) -> list[str]:
        paths = []
        for f in step.files:
            p = (self.lw.path.parent / f).resolve()
            if not p.is_file():
                raise WorkflowError(f"{self.lw.path}: step {n} ({sid}), field 'files': no such file {p}")
            paths.append(str(p))
        return paths


@cache
def _after_shot_script() -> str:
    return (f"(signals) => {{ (\n{THAW_JS}\n)(); return {{ controls: (\n{script('inventory.js')}\n)(), "
            f"signals: signals ? (\n{SIGNALS_JS}\n)() : null }}; }}")


def _after_shot(page, signals: bool) -> tuple[list[Control] | None, Signals | None]:
    """In one round trip after a step's screenshot: the page thawed (`shots.THAW_JS`), its controls
    (`capture.inventory`) and, before an action that can submit, its error signals (`capture.refusal`)."""
    try:
        got = page.evaluate(_after_shot_script(), signals)
    except Exception:  # noqa: BLE001 - a page being replaced: nothing to compare, no signals to read
        return None, (Signals([], []) if signals else None)
    return [Control(**c) for c in got["controls"]], (Signals.parse(got["signals"]) if signals else None)


def _perform(page, target, a: str, step: Step, value, element: ElementInfo | None, files: list[str]) -> None:
    tag = element.tag if element else None
    if a == "click":
        target.click()
    elif a == "dblclick":
        target.dblclick()
    elif a in ("fill", "select") and tag == "select":
        try:
            target.select_option(label=value, timeout=3000)
        except Exception:  # noqa: BLE001 - fall back to the option's value attribute
            target.select_option(value=value)
    elif a in ("fill", "select"):
        target.fill(value or "")
    elif a == "check":
        target.check()
    elif a == "uncheck":
        target.uncheck()
    elif a == "hover":
        target.hover()
    elif a == "press":
        (target.press if target is not None else page.keyboard.press)(step.key)
    elif a == "upload":
        if tag == "input" and element.input_type == "file":
            target.set_input_files(files)
        else:
            with page.expect_file_chooser() as chooser:
                target.click()
            chooser.value.set_files(files)
    # close_page is done before the screenshot (see _Replay._close); wait_for: finding the target was the whole step


_CAN = {"fill": ("typed into", "a text field"), "select": ("picked from", "a list (select)"),
        "check": ("ticked", "a checkbox or radio button"), "uncheck": ("unticked", "a checkbox")}


def _wrong_kind(action: str, element: ElementInfo | None, error: str) -> str | None:
    """What to say when the target cannot take the action (a fill aimed at a region, a check at a link),
    instead of Playwright's words; None for other errors."""
    low = error.lower()
    if action not in _CAN or not any(w in low for w in ("is not an", "is not a", "not a checkbox", "not a <select>",
                                                         "not an <input>", "cannot")):
        return None
    verb, kind = _CAN[action]
    what = "the target"
    if element is not None:
        what = f"the {element.role or element.tag or 'element'}" + (f" {element.name!r}" if element.name else "")
    return (f"{what} cannot be {verb}; the locator must find {kind} (e.g. a label or role of the field itself, "
            "or a role such as textbox, combobox, checkbox with its name)")


def _top_level(request) -> bool:
    """A navigation of a tab's main frame (not an iframe's, not a subresource)."""
    from playwright.sync_api import Error as PlaywrightError

    if not request.is_navigation_request():
        return False
    try:
        return request.frame.parent_frame is None
    except PlaywrightError:  # a popup's first navigation comes before its frame exists
        return True


def _missing_frame(page, candidates) -> str | None:
    """Say which iframe of the locators does not exist, and which ones the page has."""
    for loc in candidates:
        for depth, sel in enumerate(loc.frame):
            root = frame_root(page, loc.frame[:depth])
            if root.locator(sel).count() == 0:
                present = root.locator("iframe, frame").evaluate_all(
                    "(els) => els.map((e) => e.name ? `iframe[name=\"${e.name}\"]` : e.id ? `#${e.id}` : "
                    "`iframe[src=\"${e.getAttribute('src')}\"]`)")
                have = f"it has {len(present)}: {', '.join(present)}" if present else "it has none"
                return (f"frame {sel!r} does not exist on {page.url} ({have}); fix 'frame' of the locator")
    return None


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


def _page_heading(page) -> str | None:
    try:
        return page.evaluate("(() => { const h = document.querySelector('main h1, h1');"
                             " return h ? h.innerText.replace(/\\s+/g, ' ').trim() || null : null; })()")
    except Exception:  # noqa: BLE001 - a page without a heading is fine
        return None


OPEN_DIALOG_JS = """() => {
  const d = [...document.querySelectorAll('dialog[open], [role=dialog], [role=alertdialog]')]
    .find(e => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null);
  if (!d) return null;
  const h = d.querySelector('h1,h2,h3,[role=heading]') || document.getElementById(d.getAttribute('aria-labelledby') || '');
  return ((h && h.innerText) || d.getAttribute('aria-label') || 'dialog').replace(/\\s+/g, ' ').trim();
}"""


def _open_dialog(page) -> str | None:
    """The heading of the modal dialog open on the page, if one is."""
    try:
        return page.evaluate(OPEN_DIALOG_JS)
    except Exception:  # noqa: BLE001 - a page that cannot be asked has no dialog we can name
        return None


def _keep_partial(run: _Replay, err: BaseException, shots: Path, target: Path) -> BaseException:
    """Write the steps captured so far to `target` (atomically) and return the error to raise."""
    if not run.steps:
        return err
    message = str(err) if isinstance(err, GuidecastError) else f"interrupted at {run.where}"
    with staged_dir(target) as stage:
        (stage / SCREENSHOT_DIR).mkdir()
        for s in run.steps:
            src = shots / s.screenshot
            if src.exists():
                shutil.copyfile(src, stage / SCREENSHOT_DIR / s.screenshot)
        save_capture(run._bundle(None, None, None, error=message), stage)
    if isinstance(err, KeyboardInterrupt):
        return err
    n = len(run.steps)
    kept = f"the step captured before it is in {target}" if n == 1 else f"the {n} steps captured before it are in {target}"
    stopped = f"{message} — stopped there; {kept}"
    return err.with_message(stopped) if isinstance(err, CaptureError) else CaptureError(stopped)


def _bundle_id(workflow_sha: str, steps: list[CapturedStep], final: str) -> str:
    parts = [workflow_sha, final] + [
        f"{s.id}:{s.screenshot}:{s.element.model_dump_json() if s.element else ''}" for s in steps
    ]
    return "cap-" + sha256_bytes("\n".join(parts).encode())[:16]
