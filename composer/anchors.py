"""Blur regions that follow their element: a blur a person draws is tied to the control under it (a field,
button or menu item the capture recorded with its box, `CapturedStep.controls`), and placed again on every
new capture: moved with the element when it moved (the step goes in review), kept where it was and the step
blocked when the element is not on the page any more (`PlacedBlur.state == "lost"`: a refresh does not
publish it until someone looked).
"""
from __future__ import annotations

from typing import Literal

from guidecast.capture.bundle import CapturedStep, Control
from guidecast.kernel.boxes import Box
from guidecast.kernel.model import Strict

MOVE_PX = 6.0  # CSS px an element may shift before its blur counts as moved
UNDER = 0.5  # share of the blur's area a control must cover to be the element under it


class BlurAnchor(Strict):
    kind: Literal["field", "button", "menu item"]
    name: str
    dx: float  # the blur's top-left from the element's top-left (CSS px)
    dy: float
    element: Box  # the element's box on the capture it was last placed on


class PlacedBlur(Strict):
    drawn: Box  # as in the edit layer (CSS px of the screenshot it was drawn on)
    box: Box  # where it is on this capture's screenshot (CSS px)
    anchor: BlurAnchor | None = None
    state: Literal["anchored", "unanchored", "followed", "moved", "lost"] = "anchored"


def place_blurs(drawn: list[Box], step: CapturedStep, prev: list[PlacedBlur]) -> tuple[list[PlacedBlur], str | None]:
    """Each drawn blur placed on this capture of the step; `prev`: how the previous guide version placed the
    step's blurs. Returns the placements and why the step needs review (None: it does not)."""
    controls = [c for c in (step.controls or []) if c.box is not None]
    out: list[PlacedBlur] = []
    for rect in drawn:
        before = next((p for p in prev if p.drawn == rect), None)
        if before is None or before.anchor is None:  # a new blur: tie it to what is under it
            out.append(_anchored(rect, controls) if before is None else before.model_copy(update={"box": before.box}))
            continue
        a = before.anchor
        now = next((c for c in controls if c.kind == a.kind and c.name == a.name), None)
        if now is None or now.box is None:
            out.append(before.model_copy(update={"state": "lost"}))
            continue
        moved = abs(now.box.x - a.element.x) > MOVE_PX or abs(now.box.y - a.element.y) > MOVE_PX
        box = Box(x=max(0.0, now.box.x + a.dx), y=max(0.0, now.box.y + a.dy), width=rect.width, height=rect.height)
        out.append(PlacedBlur(drawn=rect, box=box, anchor=a.model_copy(update={"element": now.box}),
                              state="moved" if moved else "followed"))
    return out, _review(out)


def _anchored(rect: Box, controls: list[Control]) -> PlacedBlur:
    best, share = None, 0.0
    for c in controls:
        assert c.box is not None
        s = _overlap(rect, c.box) / max(rect.width * rect.height, 1.0)
        if s > share:
            best, share = c, s
    if best is None or best.box is None or share < UNDER:
        return PlacedBlur(drawn=rect, box=rect, state="unanchored")
    anchor = BlurAnchor(kind=best.kind, name=best.name, dx=rect.x - best.box.x, dy=rect.y - best.box.y,
                        element=best.box)
    return PlacedBlur(drawn=rect, box=rect, anchor=anchor)


def _overlap(a: Box, b: Box) -> float:
    w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    return max(w, 0.0) * max(h, 0.0)


def _review(placed: list[PlacedBlur]) -> str | None:
    lost = [p.anchor.name for p in placed if p.state == "lost" and p.anchor]
    moved = [p.anchor.name for p in placed if p.state == "moved" and p.anchor]
    if lost:
        return ("a blurred element is not on the page any more (" + ", ".join(f"**{n}**" for n in lost)
                + "): check what the picture shows before it is published")
    if moved:
        return ("a blurred element moved (" + ", ".join(f"**{n}**" for n in moved)
                + "); the blur moved with it: check it still covers it")
    return None


def blocks_publishing(placed: list[PlacedBlur]) -> bool:
    return any(p.state == "lost" for p in placed)
