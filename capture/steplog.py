"""What a recording's events make: steps in order, one per field, notes, secrets, readable step ids, and
at the end the workflow and its capture bundle.

One copy for both recorders: `guidecast record` (capture/recorder.py: events from capture/recorder.js
through a Playwright binding, locator counts verified again with Playwright) and the browser extension
(capture/extension_recording.py: the same recorder.js events, counted in the page, replayed from the
extension's upload). Nothing here talks to a browser.
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guidecast.capture.bundle import SCREENSHOT_DIR, CaptureBundle, CapturedStep, ElementInfo, WorkflowRef, save_capture
from guidecast.capture.privacy import SecretNames, app_name, env_prefix, secret_kind
from guidecast.capture.workflow import (
    LoadedWorkflow,
    Locator,
    Step,
    Viewport,
    Workflow,
    origin_of,
    relative_to,
    with_step_ids,
)
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import sha256_bytes, staged_dir

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
class Final:
    """The last screenshot, taken at stop."""

    screenshot: str
    url: str
    title: str


class StepLog:
    """The steps a recording's events make. Subclasses feed it events and screenshots."""

    def __init__(self, *, title: str | None = None, secret_prefix: str | None = None):
        self.title = title
        self.secret_prefix = secret_prefix
        self.items: list[Recorded] = []
        self.warnings: list[str] = []
        self.paused = False
        self.stopped = False
        self.start_url: str | None = None
        self.origin: str | None = None
        self.first_title = ""
        self.secret_names = SecretNames()
        self.opener: dict[str, str] = {}  # popup tab -> the tab that opened it
        self._history: dict[str, tuple[list[str], int]] = {}
        self._last_action: dict[str, float] = {}
        self._page_asked: dict[str, bool] = {}  # tab -> the page itself asked for a navigation (link, form, script)
        self._popups: list[tuple[str, str, float]] = []  # (popup, opener tab, when it opened, epoch s)

    def clock(self, ev: dict) -> float:
        """Seconds on the clock navigations are compared with (`RECENT_S`)."""
        return time.monotonic()

    # -- events --------------------------------------------------------------------------------------
    def add_note(self, text: str) -> None:
        """A note from the toolbar, for the last step."""
        if self.items and not self.stopped:
            it = self.items[-1]
            it.note = "\n".join(filter(None, [it.step.note if it.step else None, text.strip()]))

    def on_load(self, name: str, ev: dict) -> Step | None:
        """A document loaded in tab `name`: a goto step when the person typed the URL, back/forward for
        history moves, nothing when an action of the page caused it. `ev["asked"]` (when present) says
        whether the page itself asked for the navigation."""
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
        if "asked" in ev:
            caused = bool(ev["asked"])
        elif name in self._page_asked:
            caused = self._page_asked[name]
            self._page_asked[name] = False
        else:
            caused = self.clock(ev) - self._last_action.get(name, float("-inf")) < RECENT_S
        if caused or self.paused:
            return None
        return Step(action="goto", url=relative_to(url, self.origin_now()))

    def origin_now(self) -> str | None:
        self.origin = self.origin or origin_of(self.start_url or "")
        return self.origin

    def rank(self, el: dict, found: list[tuple[Locator, int]]) -> tuple[Locator | None, list[Locator]]:
        """The target and fallbacks from the counted candidates (best first): the unique ones, at most
        `MAX_LOCATORS`, a structural CSS path only when little else is unique."""
        unique = [loc for loc, n in found if n == 1]
        if not unique and found:
            unique = [found[-1][0]]
            self.warnings.append(f"no locator is unique for {el.get('role') or el.get('tag')} "
                                 f"{el.get('name') or ''!r}; used {found[-1][0].describe()}, check it")
        if len(unique) > 2:
            unique = [u for u in unique if not (u.css and " > " in u.css)] or unique
        unique = unique[:MAX_LOCATORS]
        return (unique[0] if unique else None), unique[1:]

    def step_for(self, slot: Recorded, kind: str, ev: dict, target: Locator | None, fallbacks: list[Locator],
                 offset: tuple[float, float] | None) -> Step | None:
        """The step an action event makes (`target`, `fallbacks`: its ranked locators); folds a double
        click's two clicks and a field typed into again into one step."""
        el = ev.get("element")
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
            step = self._fill_step(tgt, ev.get("value") or "", el or {}, ev.get("secret_kind"))
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
        slot.element = element_info(el, offset, ev.get("dpr") or 1.0) if el else None
        slot.what = (el or {}).get("what") or ""
        return step

    def _before(self, slot: Recorded) -> Recorded | None:
        i = self.items.index(slot)
        return self.items[i - 1] if i > 0 else None

    def _fill_step(self, tgt: dict, value: str, el: dict, said: str | None = None) -> Step:
        """`said`: the kind of secret the browser already found the value to be (the extension sends a
        `secret:` reference in its place)."""
        if el.get("input_type") == "password":
            return Step(action="fill", secret=self.secret_names.name_for(value, "password"), **tgt)
        kind = said or secret_kind(value)
        if kind:
            self.warnings.append(f"a value typed into {el.get('name') or el.get('tag')!r} looks like a {kind}; "
                                 "it was recorded as a secret")
            return Step(action="fill", secret=self.secret_names.name_for(value, "token"), sensitive=True, **tgt)
        return Step(action="fill", value=value, **tgt)

    # -- results -----------------------------------------------------------------------------------
    def workflow(self, viewport: Viewport | None = None) -> Workflow:
        if not any(it.step for it in self.items) or self.start_url is None:
            raise GuidecastError("nothing was recorded: no page was opened or no action was taken; nothing saved")
        origin = self.origin_now()
        prefix = self.secret_prefix or env_prefix(app_name(self.start_url, self.first_title))
        secrets = self.secret_names.env_vars(prefix)
        steps = with_step_ids(self._steps())
        app = app_name(self.start_url, self.first_title)
        return Workflow(
            title=self.title or f"Recorded workflow in {app}",
            start_url=relative_to(self.start_url, origin),
            base_url=origin,
            viewport=viewport or Viewport(),
            secrets=secrets,
            steps=steps,
        )

    def _steps(self) -> list[Step]:
        """The recorded steps, with `page:` where replay must change tabs and the toolbar's notes."""
        for popup, opener, at in self._popups:
            acts = [it for it in self.items if it.step and it.page == opener and it.t_page <= at + 0.05
                    and it.step.action in ("click", "dblclick", "press")]
            last = acts[-1] if acts else None
            if last is not None and last.step is not None and not last.opened:
                last.opened = popup
                last.step = last.step.model_copy(update={"opens_popup": True})
        steps, current = [], "main"
        taken: set[str] = set()
        for it in self.items:
            if it.step is None:
                continue
            update: dict = {"note": "\n".join(filter(None, [it.step.note, it.note]))} if it.note else {}
            if it.step.action == "close_page" or it.page != current:
                update["page"] = it.page
                current = it.page
            if it.step.action == "close_page":
                current = self.opener.get(it.page, "main")
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
        if it.step is None or loc is None or not (loc.css or loc.xpath or (loc.role and not loc.name)) or not it.what:
            return None
        base = re.sub(r"[^a-z0-9]+", "-", f"{it.step.action} {it.what}".lower()).strip("-")[:60].rstrip("-")
        sid, n = base, 1
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        taken.add(sid)
        return sid

    def write_bundle(self, lw: LoadedWorkflow, bundle_dir: Path, shots: Path, final: Final | None,
                     browser: str) -> bool:
        """The capture bundle of the recording (`shots`: the folder holding its screenshots), written
        through a staging folder; False when no screenshot was taken."""
        wf = lw.workflow
        items = [it for it in self.items if it.step is not None]
        names = [it.screenshot for it in items]
        fallback = next((s for s in names if s), None) or (final.screenshot if final else None)
        if fallback is None:
            return False
        steps = []
        for i, (it, step) in enumerate(zip(items, wf.steps, strict=False)):
            shot = it.screenshot or next((s for s in reversed(names[:i]) if s), fallback)
            steps.append(CapturedStep(
                id=step.id, index=i, action=step.action, value=None if step.is_sensitive else step.value,
                value_redacted=step.is_sensitive, key=step.key, url_arg=step.url, note=step.note,
                locator=step.target, locator_rank=0 if step.target else None, element=it.element,
                url=it.url, title=it.title, heading=it.heading, screenshot=shot, timing_ms=0.0, page=it.page,
                viewport=wf.viewport, blurred=it.blurred,
            ))
        with staged_dir(bundle_dir) as stage:
            (stage / SCREENSHOT_DIR).mkdir()
            for name in {s.screenshot for s in steps} | ({final.screenshot} if final else set()):
                shutil.copyfile(shots / name, stage / SCREENSHOT_DIR / name)
            save_capture(CaptureBundle(
                id="rec-" + sha256_bytes((lw.sha256 + "".join(s.screenshot for s in steps)).encode())[:16],
                workflow=WorkflowRef(path=str(lw.path), sha256=lw.sha256, title=wf.title, description=wf.description),
                base_url=wf.base_url, captured_at=datetime.now(UTC).isoformat(timespec="seconds"), browser=browser,
                viewport=wf.viewport, steps=steps,
                final_screenshot=final.screenshot if final else None, final_url=final.url if final else None,
                final_title=final.title if final else None,
            ), stage)
        return True


def element_info(el: dict, offset, dpr: float) -> ElementInfo:
    """The element as recorder.js described it, its box moved by its frame's `offset` in the viewport."""
    box = Box(**el["box"])
    if offset and offset != (0.0, 0.0):
        box = Box(x=box.x + offset[0], y=box.y + offset[1], width=box.width, height=box.height)
    keys = ("role", "name", "label", "tag", "input_type", "text", "test_id", "in_dialog", "in_navigation", "context")
    return ElementInfo(**{k: el.get(k) for k in keys}, box=box, box_device=box.scaled(dpr))
