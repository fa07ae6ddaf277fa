"""The recorder: turns what a person does in a browser context into workflow steps.

`Recorder(context)` injects capture/recorder.js into every page and frame of a Playwright browser
context and receives one event per meaningful action through an exposed binding. For each step it
keeps the element's role, name and label, a ranked set of locators whose uniqueness was checked
(in the page at the moment of the action, and again with Playwright while the page is unchanged),
and a screenshot with the element's box (sensitive fields blurred). Typed passwords and values that
look like credentials become `secret:` references to environment variables, never values.

    rec = Recorder(context)            # before or after opening pages
    ... the person (or a test script) uses the pages ...
    saved = rec.save("flow.yaml")      # flow.yaml + flow.capture/ (atomically)
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from guidecast.capture.locate import script, to_playwright
from guidecast.capture.shots import Redactor
from guidecast.capture.steplog import Final, Recorded, StepLog
from guidecast.capture.tabs import Tabs
from guidecast.capture.workflow import LoadedWorkflow, Locator, Step, Viewport, Workflow, dump_workflow
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_text, sha256_bytes, store_content_addressed


@dataclass
class SavedRecording:
    workflow: Path
    bundle: Path | None
    steps: int
    env_vars: dict[str, str]  # env var -> what to put in it
    warnings: list[str]


class Recorder(StepLog):
    def __init__(self, context, *, title: str | None = None, screenshots: bool = True,
                 secret_prefix: str | None = None, verify: bool = True):
        super().__init__(title=title, secret_prefix=secret_prefix)
        self.context = context
        self.verify = verify
        self._inflight = 0
        self._shooting = False
        self.redactor = Redactor()
        self._shots = Path(tempfile.mkdtemp(prefix="guidecast-rec-")) if screenshots else None
        self._final: Final | None = None
        self._field_shots: dict[str, tuple[str | None, list[Box]]] = {}  # field -> photographed at focus
        existing = list(context.pages)
        self.tabs = Tabs(context, existing[0] if existing else None)
        self.opener = self.tabs.opener
        context.expose_binding("__guidecastRecord", self._on_event)
        context.add_init_script(script("recorder.js"))
        context.on("page", self._on_page)
        for page in existing:
            self._watch(page)
            if page.url and not page.url.startswith("about:"):
                self.start_url = self.start_url or page.url
                self._history["main"] = ([page.url], 0)
            for frame in page.frames:
                try:
                    frame.evaluate(script("recorder.js"))
                except PlaywrightError:  # a frame that is navigating gets the init script anyway
                    pass

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stopped

    def stop(self) -> None:
        """Stop listening; takes the final screenshot if a tab is still open."""
        if self.stopped:
            return
        self._drain()
        self.stopped = True
        page = next(iter(self.tabs.pages.values()), None)
        deadline = time.monotonic() + 5
        while self._inflight and page is not None and time.monotonic() < deadline:
            try:
                page.wait_for_timeout(20)  # lets the handlers still talking to the browser finish
            except PlaywrightError:
                break
        page = self.tabs.pages.get(self.tabs.current) or next(iter(self.tabs.pages.values()), None)
        if page is None or self._shots is None:
            return
        try:
            png, _ = self._shoot_without_toolbar(page, self.tabs.name_of(page) or "main", 1.0)
            self._final = Final(store_content_addressed(self._shots, png, ".png"), page.url, page.title())
        except PlaywrightError:  # the browser is going away; the steps are what matter
            self._final = None

    def _drain(self) -> None:
        """Have every frame report a field still being typed in, and receive the events in flight."""
        for page in list(self.tabs.pages.values()):
            for frame in page.frames:
                try:
                    frame.evaluate("window.__guidecastFlush && window.__guidecastFlush()")
                except PlaywrightError:  # closed or navigating: nothing to drain there
                    pass

    def _watch(self, page) -> None:
        name = self.tabs.name_of(page) or "main"
        page.on("close", lambda _page: self._on_close(name))
        # Chromium skips init scripts when a popup leaves its first about:blank: install it there too.
        page.on("framenavigated", self._ensure_script)
        if name != "main":
            self._ensure_script(page.main_frame)
        try:  # navigations the page asks for itself are an action's doing; others (typed URL) are steps
            cdp = self.context.new_cdp_session(page)
            main_id = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
            cdp.on("Page.frameRequestedNavigation",
                   lambda ev: ev.get("frameId") == main_id and self._page_asked.__setitem__(name, True))
            cdp.send("Page.enable")
        except PlaywrightError:  # no CDP (another browser): fall back on timing
            self._page_asked.pop(name, None)

    @staticmethod
    def _ensure_script(frame) -> None:
        try:
            frame.evaluate(script("recorder.js"))
        except PlaywrightError:  # navigating on again or closed: its next document reports
            pass

    def _on_page(self, page) -> None:
        name = self.tabs.name_of(page)
        self._watch(page)
        if name in (None, "main"):
            return
        if not self.stopped:  # which step opened it is settled when saving: its event may still be on the way
            self._popups.append((name, self.tabs.opener.get(name, "main"), time.time()))

    def _on_close(self, name: str) -> None:
        if not self.tabs.pages:
            self.stop()
        elif name != "main" and not self.stopped and not self.paused:
            self.items.append(Recorded(step=Step(action="close_page"), page=name))

    # -- events from the page ------------------------------------------------------------------------
    def _on_event(self, source, ev: dict):
        kind = ev.get("kind")
        if kind == "pause":
            self.paused = not self.paused
        elif kind == "stop":
            self.stop()
        elif kind == "note":
            self.add_note(ev.get("text", ""))
        elif kind == "focus" and not self.stopped and not self.paused:
            self._shoot_field(source, ev)
        elif kind not in ("hello", "note") and not self.stopped:
            self._record(source, kind, ev)
        return {"paused": self.paused, "stopped": self.stopped}

    def _record(self, source, kind: str, ev: dict) -> None:
        page = source["page"]
        name = self.tabs.name_of(page) or "main"
        # Take this event's place in the order now: handlers interleave while they wait on the browser.
        slot = Recorded(step=None, page=name, url=ev.get("url") or "", title=ev.get("title") or "",
                        heading=ev.get("heading"), t_page=(ev.get("t") or 0) / 1000)
        self.items.append(slot)
        self._inflight += 1
        try:
            if kind == "load":
                step = self.on_load(name, ev)
            elif not self.paused:
                self._last_action[name] = self.clock(ev)
                step = self._on_action(page, source["frame"], slot, kind, ev)
            else:
                step = None
            if step is None:
                self.items.remove(slot)
            else:
                slot.step = step
                self._shoot(slot, page, ev.get("dpr") or 1.0, ev.get("field"))
        except (PlaywrightError, GuidecastError, ValueError) as e:  # never break the person's session; say what was lost
            if slot in self.items:
                self.items.remove(slot)
            self.warnings.append(f"a '{kind}' on {ev.get('url')} was not recorded ({type(e).__name__}: {e})")
        finally:
            self._inflight -= 1

    def _on_action(self, page, frame, slot: Recorded, kind: str, ev: dict) -> Step | None:
        el = ev.get("element")
        target, fallbacks, offset = self._locators(page, frame, ev, el) if el else (None, [], None)
        return self.step_for(slot, kind, ev, target, fallbacks, offset)

    def _shoot(self, slot: Recorded, page, dpr: float, field_id: str | None = None) -> None:
        if self._shots is None or slot.step is None:
            return
        early = self._field_shots.pop(field_id, None) if field_id else None
        if slot.step.is_sensitive and slot.step.target is not None:
            self.redactor.add(slot.page, slot.step.target)
        elif early is not None and slot.step.action == "fill" and early[0]:
            # the field as it was when the person went into it: before the typing, and before an Enter
            # that submits or clears it (a sensitive value is photographed now instead, blurred)
            slot.screenshot, slot.blurred = early
            return
        slot.screenshot, slot.blurred = self._screenshot(page, slot.page, dpr)

    def _shoot_field(self, source, ev: dict) -> None:
        """A text field got the focus: photograph the page now for the fill step that may follow."""
        if self._shots is None or not ev.get("field"):
            return
        page = source["page"]
        try:
            self._field_shots[ev["field"]] = self._screenshot(page, self.tabs.name_of(page) or "main",
                                                              ev.get("dpr") or 1.0)
        except PlaywrightError:  # the page moved on; the fill is photographed when it is reported
            pass

    def _screenshot(self, page, name: str, dpr: float) -> tuple[str | None, list[Box]]:
        # One at a time: handlers interleave, and overlapping screenshots can leave the style that hides
        # the toolbar behind in the page.
        deadline = time.monotonic() + 5
        while self._shooting and time.monotonic() < deadline and not page.is_closed():
            try:
                page.wait_for_timeout(10)
            except PlaywrightError:  # the tab closed meanwhile
                return None, []
        if page.is_closed():
            return None, []
        self._shooting = True
        try:
            for _ in range(2):
                try:
                    png, boxes = self._shoot_without_toolbar(page, name, dpr)
                    return store_content_addressed(self._shots, png, ".png"), boxes
                except PlaywrightError:  # navigating away right now; try once more
                    continue
            return None, []
        finally:
            self._shooting = False

    def _shoot_without_toolbar(self, page, name: str, dpr: float):
        toggle = "(hide) => window.__guidecastHideToolbar && window.__guidecastHideToolbar(hide)"
        page.evaluate(toggle, True)
        try:
            return self.redactor.shoot(page, name, dpr)
        finally:
            try:
                page.evaluate(toggle, False)
            except PlaywrightError:  # gone on to another document, whose toolbar shows anyway
                pass

    # -- locators ----------------------------------------------------------------------------------
    def _locators(self, page, frame, ev: dict, el: dict):
        chain, offset = _frame_chain(frame)
        found = [(Locator(**c["loc"], frame=chain), c["count"]) for c in el.get("candidates", [])]
        if self.verify:
            found = self._verify(page, frame, ev.get("doc"), found)
        target, fallbacks = self.rank(el, found)
        return target, fallbacks, offset

    @staticmethod
    def _verify(page, frame, doc: str | None, found: list[tuple[Locator, int]]):
        """Counts from Playwright, which replay will use, while the document is still the one acted on."""
        try:
            if frame.evaluate("window.__guidecastDoc") != doc:
                return found
            checked = [(loc, to_playwright(page, loc).count()) for loc, _ in found]
            if frame.evaluate("window.__guidecastDoc") != doc:
                return found
            return checked
        except PlaywrightError:  # the page moved on: the in-page counts stand
            return found

    # -- results -----------------------------------------------------------------------------------
    def workflow(self, viewport: Viewport | None = None) -> Workflow:
        vp = self.tabs.pages.get("main").viewport_size if self.tabs.pages.get("main") else None
        return super().workflow(viewport or (Viewport(**vp) if vp else None))

    def save(self, path: str | Path) -> SavedRecording:
        """Write the workflow (atomically) and, beside it, its capture bundle (`flow.yaml` -> `flow.capture/`)."""
        path = Path(path)
        wf = self.workflow()
        text = dump_workflow(wf, "Recorded with `guidecast record`. Replay: guidecast capture " + path.name)
        atomic_write_text(path, text)
        env = {var: f"the value typed as '{name}'" for name, var in wf.secrets.items()}
        bundle_dir = None
        if self._shots is not None:
            bundle_dir = path.with_suffix(".capture")
            lw = LoadedWorkflow(path=path, sha256=sha256_bytes(text.encode()), workflow=wf)
            if not self._save_bundle(lw, bundle_dir):
                bundle_dir = None
                self.warnings.append("no screenshot was taken while recording, so no capture bundle was saved; "
                                     f"run `guidecast capture {path.name}` to make one")
        return SavedRecording(path, bundle_dir, len(wf.steps), env, list(self.warnings))

    def _save_bundle(self, lw: LoadedWorkflow, bundle_dir: Path) -> bool:
        if self._shots is None:
            return False
        browser = f"chromium {self.context.browser.version}" if self.context.browser else "chromium"
        return self.write_bundle(lw, bundle_dir, self._shots, self._final, browser)

    def close(self) -> None:
        if self._shots is not None:
            shutil.rmtree(self._shots, ignore_errors=True)


def _frame_chain(frame) -> tuple[list[str], tuple[float, float]]:
    """The iframe selectors from the top document down to `frame`, and the frame's offset in the viewport."""
    chain: list[str] = []
    dx = dy = 0.0
    while frame.parent_frame is not None:
        el = frame.frame_element()
        sel = el.evaluate(script("frame_selector.js"))
        bb = el.bounding_box()
        if bb:
            border = el.evaluate("(e) => [e.clientLeft, e.clientTop]")
            dx, dy = dx + bb["x"] + border[0], dy + bb["y"] + border[1]
        chain.insert(0, sel)
        frame = frame.parent_frame
    return chain, (dx, dy)
