"""Compare two captures of the same workflow: what changed in the app, step by step.

Each step is classified by what happened to its target: renamed (same element, new name), moved,
restyled (pixels only), gone (no match), unchanged; and the flow between steps is checked for a new page
or dialog. Pixel comparisons are perceptual: both pictures are blurred slightly (anti-aliasing and
sub-pixel text rendering do not count) and regions the workflow marks as dynamic are masked.
"""
from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageFilter
from pydantic import Field

from guidecast.capture.bundle import CaptureBundle, CapturedStep
from guidecast.capture.inventory import control_changes, proceed_button
from guidecast.kernel.boxes import Box
from guidecast.kernel.model import Strict

REPORT_SCHEMA_VERSION: Final = 1
Status = Literal["unchanged", "restyled", "moved", "controls", "renamed", "new_flow", "new", "gone", "unverified"]
SEVERITY = ["unchanged", "restyled", "moved", "controls", "new_flow", "renamed", "new", "gone", "unverified"]
MOVE_PX = 6.0  # CSS px the target's centre may shift before it counts as moved
RESIZE = 0.25  # relative change of width or height that counts as moved/resized
PIXEL_DELTA = 28  # grey levels (0-255) a blurred pixel must change by to count
REGION_CHANGED = 0.02  # share of changed pixels that makes the target region "different"
PAGE_CHANGED = 0.005
CONTEXT_PX = 2  # the target's own pixels (its border and focus ring), not its neighbours'
FLOW_WORDS = {"new_dialog": "a new dialog", "new_page": "a different page", "sign_in": "a sign-in page"}


class Seen(Strict):
    """A step's target as one capture saw it."""

    role: str | None = None
    name: str | None = None
    box: Box | None = None
    url: str | None = None
    title: str | None = None
    screenshot: str | None = None
    locator_rank: int | None = None


class StepChange(Strict):
    id: str
    number: int
    status: Status
    classes: list[Status] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)
    region_diff: float | None = None
    page_diff: float | None = None
    before: Seen
    after: Seen | None = None

    @property
    def user_visible(self) -> bool:
        return self.status != "unchanged" or bool(self.page_diff and self.page_diff > PAGE_CHANGED)


class FlowChange(Strict):
    after_step: str  # the step after which the flow differs ("start" for the first page)
    kind: Literal["new_dialog", "new_page", "sign_in"]
    before: str
    after: str
    # For a new dialog: the step a reader now takes in it ("click **Confirm**"), to add to the workflow.
    proposal: str | None = None
    proposed_step: dict | None = None  # the same as a workflow step: {action: click, target: {role, name}}


class Refusal(Strict):
    """The app refused a step of the replay (a validation error, an error page): what it said."""

    step: int
    id: str
    message: str


class FreshnessReport(Strict):
    schema_version: Literal[1] = REPORT_SCHEMA_VERSION
    workflow_path: str
    workflow_sha256: str
    baseline_capture: str
    current_capture: str | None
    checked_at: str
    verified: bool = True
    error: str | None = None
    refused: Refusal | None = None
    steps: list[StepChange] = Field(default_factory=list)
    flow: list[FlowChange] = Field(default_factory=list)

    @property
    def changed_steps(self) -> list[StepChange]:
        return [s for s in self.steps if s.status != "unchanged"]

    @property
    def changed(self) -> bool:
        return bool(self.changed_steps or self.flow)


def _seen(s: CapturedStep) -> Seen:
    el = s.element
    return Seen(role=el.role if el else None, name=el.name if el else None, box=el.box if el else None,
                url=s.url, title=s.title, screenshot=s.screenshot, locator_rank=s.locator_rank)


def _blurred(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB").filter(ImageFilter.GaussianBlur(1.2))


def _masked(img: Image.Image, boxes: list[Box], scale: float) -> np.ndarray:
    """The picture as an int array (H, W, 3) with the masked (dynamic) regions set to -1."""
    arr = np.asarray(img, dtype=np.int16).copy()
    for b in boxes:
        x0, y0 = int(b.x * scale), int(b.y * scale)
        arr[max(0, y0): int((b.y + b.height) * scale) + 1, max(0, x0): int((b.x + b.width) * scale) + 1] = -1
    return arr


def changed_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels where a blurred colour channel differs by more than PIXEL_DELTA (masked ignored).

    Colour, not grey: a blue button turned green can keep its luminance."""
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    if h == 0 or w == 0:
        return 1.0
    a, b = a[:h, :w], b[:h, :w]
    valid = (a[..., 0] >= 0) & (b[..., 0] >= 0)
    if not valid.any():
        return 0.0
    return float((np.abs(a - b).max(axis=2)[valid] > PIXEL_DELTA).mean())


def _crop(arr: np.ndarray, box: Box, scale: float) -> np.ndarray:
    x0 = max(0, int((box.x - CONTEXT_PX) * scale))
    y0 = max(0, int((box.y - CONTEXT_PX) * scale))
    x1 = int((box.x + box.width + CONTEXT_PX) * scale) + 1
    y1 = int((box.y + box.height + CONTEXT_PX) * scale) + 1
    return arr[y0:y1, x0:x1]


def _norm(s: str | None) -> str:
    return " ".join((s or "").split()).casefold()


def looks_like_sign_in(step_or_title: str | None, url: str | None) -> bool:
    t = f"{step_or_title or ''} {url or ''}".casefold()
    return any(w in t for w in ("sign in", "log in", "login", "signin"))


def compare_step(b: CapturedStep, c: CapturedStep, base_dir: Path, cur_dir: Path, base: CaptureBundle,
                 cur: CaptureBundle) -> StepChange:
    classes: list[Status] = []
    details: list[str] = []
    eb, ec = b.element, c.element
    if eb and ec:
        if _norm(eb.name) != _norm(ec.name) or (eb.role and ec.role and eb.role != ec.role):
            classes.append("renamed")
            details.append(f"{eb.role or 'element'} {eb.name!r} is now {ec.role or 'element'} {ec.name!r}")
        if c.rediscovered:
            details.append("no locator matches any more; found by its " + _and(c.rediscovered))
        elif (c.locator_rank or 0) > (b.locator_rank or 0):
            details.append(f"the first locator no longer matches; found by fallback #{c.locator_rank}")
        if eb.box and ec.box and moved(eb.box, ec.box):
            dx, dy = ec.box.x - eb.box.x, ec.box.y - eb.box.y
            classes.append("moved")
            details.append(f"moved by ({dx:+.0f}, {dy:+.0f}) px")
    sb, sc = base.device_scale_factor, cur.device_scale_factor
    dynamic = b.ignore_boxes + c.ignore_boxes  # masked in both pictures
    ib = _masked(_blurred(base.screenshot_path(base_dir, b.screenshot)), dynamic, sb)
    ic = _masked(_blurred(cur.screenshot_path(cur_dir, c.screenshot)), dynamic, sc)
    page = changed_share(ib, ic)
    region = None
    if eb and ec and eb.box and ec.box:
        region = changed_share(_crop(ib, eb.box, sb), _crop(ic, ec.box, sc))
        if region > REGION_CHANGED and not classes:
            classes.append("restyled")
            details.append(f"{region:.0%} of the target's pixels changed")
    status: Status = max(classes, key=SEVERITY.index) if classes else "unchanged"
    return StepChange(id=b.id, number=b.index + 1, status=status, classes=classes, details=details,
                      region_diff=region, page_diff=page, before=_seen(b), after=_seen(c))


def moved(a: Box, b: Box) -> bool:
    """The element moved when, along either axis, neither of its edges stayed put (a label that got
    shorter keeps one edge: that is a rename, not a move) or it grew or shrank a lot."""
    def axis(a0: float, a1: float, b0: float, b1: float) -> bool:
        return abs(b0 - a0) > MOVE_PX and abs(b1 - a1) > MOVE_PX and abs((b1 - b0) - (a1 - a0)) <= RESIZE * max(a1 - a0, 1.0)

    resized = any(abs(n - o) > RESIZE * max(o, 1.0) for o, n in ((a.width, b.width), (a.height, b.height)))
    return (axis(a.x, a.x + a.width, b.x, b.x + b.width) or axis(a.y, a.y + a.height, b.y, b.y + b.height)
            or resized and abs((b.x + b.width / 2) - (a.x + a.width / 2)) > a.width)


def _page_of(s: CapturedStep) -> str:
    dialog = s.heading if (s.element and s.element.in_dialog) else None
    return f"dialog {dialog!r}" if dialog else f"page {s.title!r}"


def compare_captures(base: CaptureBundle, base_dir: Path, cur: CaptureBundle | None, cur_dir: Path | None,
                     *, checked_at: str, failed_at: int | None = None, error: str | None = None) -> FreshnessReport:
    """Classify every step of `base` against `cur` (steps matched by stable id).

    `failed_at`: index of the step at which the current replay stopped (its target was gone), if it did.
    """
    report = FreshnessReport(workflow_path=base.workflow.path, workflow_sha256=base.workflow.sha256,
                             baseline_capture=base.id, current_capture=cur.id if cur else None,
                             checked_at=checked_at, error=error)
    current = {s.id: s for s in cur.steps} if cur else {}
    said: set[tuple[str, str]] = set()  # (page, change) already reported: a page's change is told once
    prev_id = "start"
    for b in base.steps:
        c = current.get(b.id)
        if c is None:
            complete = cur is not None and failed_at is None and not getattr(cur, "partial", False)
            gone = complete or (failed_at is not None and b.index == failed_at)
            why = "no longer in the workflow" if complete else (error or "no match")
            report.steps.append(StepChange(
                id=b.id, number=b.index + 1, status="gone" if gone else "unverified",
                classes=["gone" if gone else "unverified"],
                details=[why] if gone else ["not reached: an earlier step failed"],
                before=_seen(b)))
            prev_id = b.id
            continue
        if _page_of(b) != _page_of(c):
            kind = "sign_in" if looks_like_sign_in(c.title, c.url) and not looks_like_sign_in(b.title, b.url) else (
                "new_dialog" if c.element and c.element.in_dialog else "new_page")
            report.flow.append(_flow(prev_id, kind, _page_of(b), _page_of(c), c.controls))
        st = compare_step(b, c, base_dir, cur_dir, base, cur)
        _note_controls(st, b, c, said)
        report.steps.append(st)
        prev_id = b.id
    known = {b.id for b in base.steps}
    for c in (cur.steps if cur else []):
        if c.id not in known:  # a step the workflow gained
            seen = _seen(c)
            report.steps.append(StepChange(id=c.id, number=c.index + 1, status="new", classes=["new"],
                                           details=["a new step in the workflow"], before=Seen(), after=seen))
    if cur and failed_at is None and not cur.partial:  # a replay that stopped has no final page to compare
        fb = (base.final_title or "", getattr(base, "final_dialog", None))
        fc = (cur.final_title or "", getattr(cur, "final_dialog", None))
        if fb != fc:
            kind = "new_dialog" if fc[1] else "new_page"
            report.flow.append(_flow(prev_id, kind, _final_desc(*fb), _final_desc(*fc), cur.final_controls))
    for f in report.flow:  # a new page or dialog after a step is a change of that step
        st = next((s for s in report.steps if s.id == f.after_step), None)
        if st is not None and "new_flow" not in st.classes:
            st.classes.append("new_flow")
            st.details.append(f"then {FLOW_WORDS[f.kind]}: {f.after} (was {f.before})")
            st.status = max(st.classes, key=SEVERITY.index)
    return report


def _flow(after_step: str, kind: str, before: str, after: str, controls) -> FlowChange:
    """A flow change; for a new dialog with a button to go on, the step to propose."""
    f = FlowChange(after_step=after_step, kind=kind, before=before, after=after)
    button = proceed_button(controls) if kind == "new_dialog" and controls else None
    if button:
        f.proposal = f"add a step after {after_step}: click **{button}** in {after}"
        f.proposed_step = {"action": "click", "target": {"role": "button", "name": button}}
    return f


def page_name(s: CapturedStep) -> str:
    """`the New expense page`, `the Invite a teammate dialog`: the step's page as a reader names it."""
    in_dialog = bool(s.element and s.element.in_dialog)
    return f"the {s.heading or s.title or 'untitled'} {'dialog' if in_dialog else 'page'}"


def _note_controls(st: StepChange, b: CapturedStep, c: CapturedStep, said: set[tuple[str, str]]) -> None:
    """A step whose page gained or lost a field, button or menu item says so, once per page and change (a
    menu item once: the menu is on every page)."""
    if b.controls is None or c.controls is None:
        return
    own = {n for n in (b.element.name if b.element else None, c.element.name if c.element else None) if n}
    where = page_name(c)
    new = [(("" if kind == "menu item" else where), ch)
           for kind, ch in control_changes(b.controls, c.controls, ignore=own)]
    new = [k for k in new if k not in said]
    if not new:
        return
    said.update(new)
    st.classes.append("controls")
    st.details.extend(f"{where} {ch}" for _, ch in new)
    st.status = max(st.classes, key=SEVERITY.index)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _final_desc(title: str, dialog: str | None) -> str:
    return f"dialog {dialog!r} over page {title!r}" if dialog else f"page {title!r}"
