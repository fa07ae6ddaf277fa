"""Screenshots for the bundle, with sensitive fields blurred into the pixels.

Blurred in every screenshot where they are visible: all password fields, and every field a step
typed a sensitive value into (kept as its locator, so it is found again on later screenshots).
"""
from __future__ import annotations

from guidecast.capture.locate import to_playwright
from guidecast.capture.privacy import blur_regions
from guidecast.capture.workflow import Locator
from guidecast.kernel.boxes import Box

PAD = 2  # CSS px around a field
_RECTS_JS = """(els) => els.map((e) => { const r = e.getBoundingClientRect();
  return [r.x, r.y, r.width, r.height]; }).filter((r) => r[2] > 0 && r[3] > 0)"""


def screenshot(page, attempts: int = 3) -> bytes:
    """A viewport screenshot. Chromium refuses one while a navigation swaps the document ("Unable to
    capture screenshot"); wait for the new page to load and take it again."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(attempts):
        try:
            return page.screenshot(animations="disabled", caret="hide", scale="device")
        except PlaywrightError as e:
            if "Unable to capture screenshot" not in str(e) or attempt == attempts - 1:
                raise
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

    def shoot(self, page, page_name: str, dpr: float, main_passwords: list | None = None) -> tuple[bytes, list[Box]]:
        """A screenshot of `page` with its sensitive fields blurred, and the blurred boxes (device px)."""
        boxes = [b.scaled(dpr) for b in self.boxes(page, page_name, main_passwords)]
        png = screenshot(page)
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
