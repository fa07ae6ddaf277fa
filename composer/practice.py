"""Practice mode (a simulation of the guide on its own screenshots): per step, what the learner must do on
the picture without the highlight. Derived from the `Guide` model; the server serves it, the page scores it.

A click step asks for a click inside the target's box (grown by `TOLERANCE_PX` on every side); a typing
step asks for a click into the field, then the value the guide names (any text when the guide keeps the
value to itself, as for passwords).
"""
from __future__ import annotations

import re
from typing import Final, Literal

from pydantic import Field

from guidecast.composer.guide import Guide
from guidecast.kernel.boxes import Box
from guidecast.kernel.markup import bold_names, plain
from guidecast.kernel.model import Strict

PRACTICE_SCHEMA_VERSION: Final = 1
TOLERANCE_PX = 8  # a click this close to the target's box (image pixels) still counts
HINT_AFTER = 2  # wrong tries before the page shows where to click
TYPING_ACTIONS = {"fill", "type"}
QUOTED = re.compile(r"“([^”]+)”")


class PracticeStep(Strict):
    id: str
    number: int
    kind: Literal["click", "type"]
    instruction: str  # plain words: the step's text without markup
    target: str  # the name of what to click or type into, as the screen shows it ("" when the text names none)
    image: str  # the picture without the highlight, relative to the guide folder
    image_size: tuple[int, int]
    box: Box  # the target in image pixels (where the highlight would be)
    value: str | None = None  # what to type (None: any text; the guide does not quote it)


class Practice(Strict):
    schema_version: Literal[1] = PRACTICE_SCHEMA_VERSION
    guide_id: str
    version: int
    tolerance: float  # image pixels
    hint_after: int = HINT_AFTER
    steps: list[PracticeStep] = Field(default_factory=list)


def quoted_value(text: str) -> str | None:
    """The value a step's text quotes (“128.50”), if any."""
    m = QUOTED.search(text)
    return m.group(1) if m else None


def practice_of(guide: Guide) -> Practice:
    """The practice steps of `guide`: every step with a picture and a highlighted target."""
    steps = []
    for st in guide.steps:
        if not st.practice_image or st.highlight is None or st.image_size is None:
            continue
        kind: Literal["click", "type"] = "type" if st.action in TYPING_ACTIONS else "click"
        names = bold_names(st.text)
        steps.append(PracticeStep(
            id=st.id, number=st.number, kind=kind, instruction=plain(st.text), target=names[0] if names else "",
            image=st.practice_image, image_size=st.image_size, box=st.highlight,
            value=quoted_value(st.text) if kind == "type" else None))
    return Practice(guide_id=guide.id, version=guide.version, tolerance=TOLERANCE_PX, steps=steps)


def hit(box: Box, x: float, y: float, tolerance: float) -> bool:
    """Whether a click at (x, y) image pixels lands on `box` grown by `tolerance`."""
    return (box.x - tolerance <= x <= box.x + box.width + tolerance
            and box.y - tolerance <= y <= box.y + box.height + tolerance)
