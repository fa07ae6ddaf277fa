"""The reference for "the element's box after the app settled": walk a workflow with plain Playwright,
and before each step wait until nothing on the page animates any more and the target's box holds still
for a while, then measure it. Independent of the replay's own waiting (only the locator translation is
shared), and slow on purpose.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from guidecast.capture.browser import launch_browser
from guidecast.capture.locate import to_playwright
from guidecast.capture.workflow import load_workflow
from guidecast.kernel.boxes import Box

QUIET_MS = 250  # the box must hold this long
_IDLE_JS = "() => document.getAnimations().every((a) => a.playState !== 'running')"


def _settled_box(page, target) -> Box:
    page.wait_for_function(_IDLE_JS, timeout=10000)
    last = None
    for _ in range(50):
        bb = target.bounding_box()
        box = Box(**bb) if bb else None
        if box is not None and box == last:
            return box
        last = box
        page.wait_for_timeout(QUIET_MS)
    raise AssertionError(f"the box of {target} never held still")


def settled_boxes(workflow: Path, base_url: str, env: Mapping[str, str]) -> dict[str, Box]:
    """Step id -> the target's box (CSS px of the viewport) once the page stood still before the step."""
    lw = load_workflow(workflow)
    wf = lw.workflow
    secrets = {name: env[var] for name, var in wf.secrets.items()}
    boxes: dict[str, Box] = {}
    with launch_browser() as browser:
        context = browser.new_context(viewport={"width": wf.viewport.width, "height": wf.viewport.height},
                                      reduced_motion="reduce", locale="en-US", timezone_id="UTC")
        context.set_default_timeout(15000)
        page = context.new_page()
        page.goto(wf.resolve_url(wf.start_url, base_url))
        for step, sid in zip(wf.steps, wf.step_ids(), strict=True):
            page.wait_for_load_state("load")
            value = secrets[step.secret] if step.secret else step.value
            target = to_playwright(page, step.target, step.action) if step.target else None
            if target is not None:
                bb = target.bounding_box()
                vp = page.viewport_size
                if bb is None or bb["x"] < 0 or bb["y"] < 0 or bb["x"] + bb["width"] > vp["width"] \
                        or bb["y"] + bb["height"] > vp["height"]:  # as the replay does: only when not in view
                    target.evaluate("(el) => el.scrollIntoView({block: 'center', inline: 'nearest'})")
                boxes[sid] = _settled_box(page, target)
            if step.action == "click":
                target.click()
            elif step.action == "fill":
                target.fill(value)
            elif step.action == "select":
                target.select_option(label=value)
            elif step.action == "check":
                target.check()
            elif step.action == "press":
                (target.press if target is not None else page.keyboard.press)(step.key)
            elif step.action == "goto":
                page.goto(wf.resolve_url(step.url, base_url))
            else:
                raise AssertionError(f"the reference walk does not do {step.action!r} yet")
        context.close()
    return boxes
