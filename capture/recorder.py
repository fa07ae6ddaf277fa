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

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from guidecast.capture.bundle import SCREENSHOT_DIR, CaptureBundle, CapturedStep, ElementInfo, WorkflowRef, save_capture
from guidecast.capture.locate import script, to_playwright
from guidecast.capture.privacy import SecretNames, app_name, env_prefix, secret_kind
from guidecast.capture.shots import Redactor
from guidecast.capture.tabs import Tabs
from guidecast.capture.workflow import (
    LoadedWorkflow,
    Locator,
    Step,
    Viewport,
    Workflow,
    dump_workflow,
    origin_of,
    relative_to,
    with_step_ids,
)
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_text, sha256_bytes, staged_dir, store_content_addressed

RECENT_S = 5.0  # a navigation or popup this soon after an action on the page is that action's doing
MAX_LOCATORS = 4


@dataclass
class Recorded:
    step: Step | None  # None while the event is being worked out
    page: str
    opened: str | None = None  # the popup this step opened
    note: str | None = None  # added from the toolbar
    t_page: float = 0.0  # when the page saw the action (epoch seconds)
    element: ElementInfo | None = None
    url: str = ""
    title: str = ""
    heading: str | None = None
    screenshot: str | None = None
    blurred: list[Box] = field(default_factory=list)
    what: str = ""  # how a person calls the target (its name, label, placeholder or row text): the step id
    t: float = field(default_factory=time.monotonic)


@dataclass
class SavedRecording:
    workflow: Path
    bundle: Path | None
    steps: int
    env_vars: dict[str, str]  # env var -> what to put in it
    warnings: list[str]


class Recorder:
    def __init__(self, context, *, title: str | None = None, screenshots: bool = True,
                 secret_prefix: str | None = None, verify: bool = True):
        self.context = context
        self.title = title
        self.verify = verify
        self.secret_prefix = secret_prefix
        self.items: list[Recorded] = []
        self.warnings: list[str] = []
        self.paused = False
        self.stopped = False
        self.start_url: str | None = None
        self.origin: str | None = None
        self.first_title = ""
        self.secret_names = SecretNames()
        self._secret_kind: dict[str, str] = {}
        self._history: dict[str, tuple[list[str], int]] = {}
        self._last_action: dict[str, float] = {}
        self._page_asked: dict[str, bool] = {}  # tab -> the page itself asked for a navigation (link, form, script)
        self._popups: list[tuple[str, str, float]] = []  # (popup, opener tab, when it opened)
        self._inflight = 0
        self._shooting = False
        self.redactor = Redactor()
        self._shots = Path(tempfile.mkdtemp(prefix="guidecast-rec-")) if screenshots else None
        self._final: tuple[str, str, str] | None = None
        self._field_shots: dict[str, tuple[str | None, list[Box]]] = {}  # field -> photographed at focus
        existing = list(context.pages)
        self.tabs = Tabs(context, existing[0] if existing else None)
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
            self._final = (store_content_addressed(self._shots, png, ".png"), page.url, page.title())
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
        elif kind == "note" and self.items and not self.stopped:
            it = self.items[-1]
            note = "\n".join(filter(None, [it.step.note if it.step else None, ev.get("text", "").strip()]))
            it.note = note
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
                step = self._on_load(name, ev)
            elif not self.paused:
                self._last_action[name] = time.monotonic()
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

    def _on_load(self, name: str, ev: dict) -> Step | None:
        url = ev.get("url") or ""
        if not url or url.startswith("about:"):
            return None
        urls, i = self._history.get(name, ([], -1))
        if not urls:
            self._history[name] = ([url], 0)
            if name == "main" and self.start_url is None:
                self.start_url, self.first_title = url, ev.get("title") or ""
            return None
        if ev.get("nav_type") == "back_forward":
            back = i > 0 and urls[i - 1] == url
            if not back and not (i + 1 < len(urls) and urls[i + 1] == url):
                return None
            self._history[name] = (urls, i - 1 if back else i + 1)
            return None if self.paused else Step(action="back" if back else "forward")
        if ev.get("nav_type") == "reload" or urls[i] == url:
            return None
        self._history[name] = (urls[: i + 1] + [url], i + 1)
        if name in self._page_asked:
            caused = self._page_asked[name]
            self._page_asked[name] = False
        else:
            caused = time.monotonic() - self._last_action.get(name, float("-inf")) < RECENT_S
        if caused or self.paused:
            return None
        return Step(action="goto", url=relative_to(url, self.origin_now()))

    def origin_now(self) -> str | None:
        self.origin = self.origin or origin_of(self.start_url or "")
        return self.origin

    def _on_action(self, page, frame, slot: Recorded, kind: str, ev: dict) -> Step | None:
        el = ev.get("element")
        target, fallbacks, offset = self._locators(page, frame, ev, el) if el else (None, [], None)
        tgt = {"target": target, "fallbacks": fallbacks}
        before = self._before(slot)
        if kind == "click":
            step = Step(action="click", **tgt)
        elif kind == "dblclick":
            # the two clicks of a double click were reported first: they become this one step
            for _ in range(2):
                prev = self._before(slot)
                if prev and prev.step and prev.step.action == "click" and prev.step.target == target:
                    self.items.remove(prev)
            step = Step(action="dblclick", **tgt)
        elif kind == "fill":
            step = self._fill_step(tgt, ev.get("value") or "", el)
            if before and before.step and before.step.action == "fill" and before.step.target == target:
                self.items.remove(before)  # typed into the same field again: keep the final value only
        elif kind == "select":
            step = Step(action="select", value=ev.get("value") or "", **tgt)
        elif kind in ("check", "uncheck"):
            step = Step(action=kind, **tgt)
        elif kind == "press":
            step = Step(action="press", key=ev["key"], **(tgt if target else {}))
        elif kind == "upload" and ev.get("files"):
            step = Step(action="upload", files=ev["files"], **tgt)
            self.warnings.append(f"an upload of {', '.join(ev['files'])} was recorded: put these files beside "
                                 "the workflow file before replaying it")
        else:
            return None
        slot.element = _element_info(el, offset, ev.get("dpr") or 1.0) if el else None
        slot.what = (el or {}).get("what") or ""
        return step

    def _before(self, slot: Recorded) -> Recorded | None:
        i = self.items.index(slot)
        return self.items[i - 1] if i > 0 else None

    def _fill_step(self, tgt: dict, value: str, el: dict) -> Step:
        if el.get("input_type") == "password":
            return Step(action="fill", secret=self.secret_names.name_for(value, "password"), **tgt)
        kind = secret_kind(value)
        if kind:
            self.warnings.append(f"a value typed into {el.get('name') or el.get('tag')!r} looks like a {kind}; "
                                 "it was recorded as a secret")
            return Step(action="fill", secret=self.secret_names.name_for(value, "token"), sensitive=True, **tgt)
        return Step(action="fill", value=value, **tgt)

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
        unique = [loc for loc, n in found if n == 1]
        if not unique and found:
            unique = [found[-1][0]]
            self.warnings.append(f"no locator is unique for {el.get('role') or el.get('tag')} "
                                 f"{el.get('name') or ''!r}; used {found[-1][0].describe()}, check it")
        if len(unique) > 2:  # a structural CSS path is only worth keeping when little else is unique
            unique = [u for u in unique if not (u.css and " > " in u.css)] or unique
        unique = unique[:MAX_LOCATORS]
        return (unique[0] if unique else None), unique[1:], offset

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
    def workflow(self) -> Workflow:
        if not any(it.step for it in self.items) or self.start_url is None:
            raise GuidecastError("nothing was recorded: no page was opened or no action was taken; nothing saved")
        origin = self.origin_now()
        prefix = self.secret_prefix or env_prefix(app_name(self.start_url, self.first_title))
        secrets = self.secret_names.env_vars(prefix)
        steps = with_step_ids(self._steps())
        vp = self.tabs.pages.get("main").viewport_size if self.tabs.pages.get("main") else None
        app = app_name(self.start_url, self.first_title)
        return Workflow(
            title=self.title or f"Recorded workflow in {app}",
            start_url=relative_to(self.start_url, origin),
            base_url=origin,
            viewport=Viewport(**vp) if vp else Viewport(),
            secrets=secrets,
            steps=steps,
        )

    def _steps(self) -> list[Step]:
        """The recorded steps, with `page:` where replay must change tabs and the toolbar's notes."""
        for popup, opener, at in self._popups:
            acts = [it for it in self.items if it.step and it.page == opener and it.t_page <= at + 0.05
                    and it.step.action in ("click", "dblclick", "press")]
            if acts and not acts[-1].opened:
                acts[-1].opened = popup
                acts[-1].step = acts[-1].step.model_copy(update={"opens_popup": True})
        steps, current = [], "main"
        taken: set[str] = set()
        for it in self.items:
            if it.step is None:
                continue
            update = {"note": "\n".join(filter(None, [it.step.note, it.note]))} if it.note else {}
            if it.step.action == "close_page" or it.page != current:
                update["page"] = it.page
                current = it.page
            if it.step.action == "close_page":
                current = self.tabs.opener.get(it.page, "main")
            if it.opened:
                current = it.opened
            sid = self._readable_id(it, taken)
            if sid:
                update["id"] = sid
            steps.append(it.step.model_copy(update=update))
        return steps

    @staticmethod
    def _readable_id(it: Recorded, taken: set[str]) -> str | None:
        """An id from what the person acted on ("check-buy-milk") where the target is CSS or an unnamed
        role, whose derived id would read like a selector; None to keep the derived one."""
        loc = it.step.target if it.step else None
        if loc is None or not (loc.css or loc.xpath or (loc.role and not loc.name)) or not it.what:
            return None
        base = re.sub(r"[^a-z0-9]+", "-", f"{it.step.action} {it.what}".lower()).strip("-")[:60].rstrip("-")
        sid, n = base, 1
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        taken.add(sid)
        return sid

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
            self._save_bundle(lw, bundle_dir)
        return SavedRecording(path, bundle_dir, len(wf.steps), env, list(self.warnings))

    def _save_bundle(self, lw: LoadedWorkflow, bundle_dir: Path) -> None:
        wf = lw.workflow
        items = [it for it in self.items if it.step is not None]
        shots = [it.screenshot for it in items]
        fallback = next((s for s in shots if s), None) or (self._final[0] if self._final else None)
        if fallback is None:
            return
        steps = []
        for i, (it, step) in enumerate(zip(items, wf.steps, strict=False)):
            shot = it.screenshot or next((s for s in reversed(shots[:i]) if s), fallback)
            steps.append(CapturedStep(
                id=step.id, index=i, action=step.action, value=None if step.is_sensitive else step.value,
                value_redacted=step.is_sensitive, key=step.key, url_arg=step.url, note=step.note,
                locator=step.target, locator_rank=0 if step.target else None, element=it.element,
                url=it.url, title=it.title, heading=it.heading, screenshot=shot, timing_ms=0.0, page=it.page,
                viewport=wf.viewport, blurred=it.blurred,
            ))
        final = self._final
        with staged_dir(bundle_dir) as stage:
            (stage / SCREENSHOT_DIR).mkdir()
            for name in {s.screenshot for s in steps} | ({final[0]} if final else set()):
                shutil.copyfile(self._shots / name, stage / SCREENSHOT_DIR / name)
            save_capture(CaptureBundle(
                id="rec-" + sha256_bytes((lw.sha256 + "".join(s.screenshot for s in steps)).encode())[:16],
                workflow=WorkflowRef(path=str(lw.path), sha256=lw.sha256, title=wf.title, description=wf.description),
                base_url=wf.base_url, captured_at=_now(), browser=f"chromium {self.context.browser.version}"
                if self.context.browser else "chromium", viewport=wf.viewport, steps=steps,
                final_screenshot=final[0] if final else None, final_url=final[1] if final else None,
                final_title=final[2] if final else None,
            ), stage)

    def close(self) -> None:
        if self._shots is not None:
            shutil.rmtree(self._shots, ignore_errors=True)


def _frame_chain(frame) -> tuple[list[str], tuple[float, float]]:
    """The iframe selectors from the top document down to `frame`, and the frame's offset in the viewport."""
    chain: list[str] = []
    dx = dy = 0.0
    while frame.parent_frame is not None:
        el = frame.frame_element()
        sel = el.evaluate(
            "(e) => { const q = (s) => s.replace(/\"/g, '\\\\\"');"
            " if (e.name) return `iframe[name=\"${q(e.name)}\"]`; if (e.id) return '#' + CSS.escape(e.id);"
            " if (e.title) return `iframe[title=\"${q(e.title)}\"]`;"
            " const all = Array.from(e.ownerDocument.querySelectorAll('iframe,frame'));"
            " return `iframe >> nth=${all.indexOf(e)}`; }")
        bb = el.bounding_box()
        if bb:
            border = el.evaluate("(e) => [e.clientLeft, e.clientTop]")
            dx, dy = dx + bb["x"] + border[0], dy + bb["y"] + border[1]
        chain.insert(0, sel)
        frame = frame.parent_frame
    return chain, (dx, dy)


def _element_info(el: dict, offset, dpr: float) -> ElementInfo:
    box = Box(**el["box"])
    if offset and offset != (0.0, 0.0):
        box = Box(x=box.x + offset[0], y=box.y + offset[1], width=box.width, height=box.height)
    keys = ("role", "name", "label", "tag", "input_type", "text", "test_id", "in_dialog", "in_navigation", "context")
    return ElementInfo(**{k: el.get(k) for k in keys}, box=box, box_device=box.scaled(dpr))


def _now() -> str:
    from datetime import datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
