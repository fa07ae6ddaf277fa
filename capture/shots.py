"""Screenshots for the bundle, with sensitive fields blurred into the pixels.

Blurred in every screenshot where they are visible: all password fields, and every field a step
typed a sensitive value into (kept as its locator, so it is found again on later screenshots).
"""
from __future__ import annotations

import base64
import weakref

from guidecast.capture.locate import to_playwright
from guidecast.capture.privacy import blur_regions
from guidecast.capture.workflow import Locator
from guidecast.kernel.boxes import Box

PAD = 2  # CSS px around a field
_RECTS_JS = """(els) => els.map((e) => { const r = e.getBoundingClientRect();
  return [r.x, r.y, r.width, r.height]; }).filter((r) => r[2] > 0 && r[3] > 0)"""


# Before the picture: the text caret hidden, and animations that never end (spinners, pulses) held at their
# start so that the same page gives the same pixels (animations with an end have finished: motion.js). After
# it, both are put back. What Playwright's `animations="disabled", caret="hide"` does, in one round trip each.
_FREEZE_JS = """() => {
  const s = document.createElement('style'); s.setAttribute('data-guidecast', 'caret');
  s.textContent = '*, *::before, *::after { caret-color: transparent !important; }';
  (document.head || document.documentElement).appendChild(s);
  const held = [];
  for (const a of document.getAnimations()) {
    const t = a.effect && a.effect.getComputedTiming();
    if (t && t.endTime === Infinity && a.playState === 'running') { held.push([a, a.currentTime]); a.pause(); a.currentTime = 0; }
  }
  window.__guidecastHeld = [s, held];
}"""
THAW_JS = """() => {
  const h = window.__guidecastHeld; if (!h) return; delete window.__guidecastHeld;
  h[0].remove(); for (const [a, t] of h[1]) { a.currentTime = t; a.play(); }
}"""
_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cdp(page):
    """The page's DevTools session (one per page, opened on first use)."""
    s = _SESSIONS.get(page)
    if s is None:
        s = _SESSIONS[page] = page.context.new_cdp_session(page)
    return s


def _capture(page, thaw: bool) -> bytes:
    """The viewport in device pixels, straight from Chromium (`Page.captureScreenshot`). Playwright's
    `page.screenshot` adds several round trips (fonts, animations, caret, a frame wait) that the settled-page
    wait (motion.js) has already done: this is ~40% faster per step (bench/capture)."""
    page.evaluate(_FREEZE_JS)
    try:
        shot = _cdp(page).send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False,
                                                          "optimizeForSpeed": True})
    except BaseException:
        page.evaluate(THAW_JS)
        raise
    if thaw:
        page.evaluate(THAW_JS)
    return base64.b64decode(shot["data"])


def screenshot(page, attempts: int = 3, thaw: bool = True, dpr: float = 1.0) -> bytes:
    """A viewport screenshot. Chromium refuses one while a navigation swaps the document ("Unable to
    capture screenshot", or the page's context is gone); wait for the new page to load and take it again. A
    browser without DevTools sessions, or a page scaled for a high-density screen (`dpr` > 1: Chromium's own
    capture is in CSS pixels there), gets Playwright's own screenshot. `thaw=False`: the caller's next page
    script runs `THAW_JS` first (one round trip less per step)."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(attempts):
        try:
            browser = page.context.browser
            if dpr != 1 or browser is None or browser.browser_type.name != "chromium":
                return page.screenshot(animations="disabled", caret="hide", scale="device")
            return _capture(page, thaw)
        except PlaywrightError:
            if attempt == attempts - 1:
                return page.screenshot(animations="disabled", caret="hide", scale="device")
            _SESSIONS.pop(page, None)
            try:
                page.wait_for_load_state("load", timeout=10000)
            except PlaywrightError:
                pass
            page.wait_for_timeout(100 * (attempt + 1))
    raise AssertionError("unreachable")


class Redactor:
    def __init__(self) -> None:
        self.fields: list[tuple[str, Locator]] = []

    def add(self, page_name: str, loc: Locator) -> None:
        if (page_name, loc) not in self.fields:
            self.fields.append((page_name, loc))

    def boxes(self, page, page_name: str, main_passwords: list | None = None) -> list[Box]:
        """Boxes (CSS px of the viewport) of the sensitive fields visible on `page` right now.
        `main_passwords`: the password fields' boxes in the top document, when already known."""
        rects: list[list[float]] = []
        for frame in page.frames:
            pw = frame.locator("input[type=password]").filter(visible=True)
            if frame is page.main_frame:
                rects += main_passwords if main_passwords is not None else pw.evaluate_all(_RECTS_JS)
            else:
                rects += _frame_rects(pw)
        for name, loc in self.fields:
            if name != page_name:
                continue
            pw = to_playwright(page, loc, "fill")
            rects += _frame_rects(pw) if loc.frame else pw.evaluate_all(_RECTS_JS)
        out = []
        for x, y, w, h in rects:
            b = Box(x=x - PAD, y=y - PAD, width=w + 2 * PAD, height=h + 2 * PAD)
            if b not in out:
                out.append(b)
        return out

    def shoot(self, page, page_name: str, dpr: float, main_passwords: list | None = None,
              thaw: bool = True) -> tuple[bytes, list[Box]]:
        """A screenshot of `page` with its sensitive fields blurred, and the blurred boxes (device px)."""
        boxes = [b.scaled(dpr) for b in self.boxes(page, page_name, main_passwords)]
        png = screenshot(page, thaw=thaw, dpr=dpr)
        if boxes:
            png = blur_regions(png, [(b.x, b.y, b.width, b.height) for b in boxes])
        return png, boxes


def _frame_rects(pw) -> list[list[float]]:
    rects = []
    for i in range(pw.count()):
        bb = pw.nth(i).bounding_box(timeout=1000)
        if bb:
            rects.append([bb["x"], bb["y"], bb["width"], bb["height"]])
    return rects
