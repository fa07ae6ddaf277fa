"""Rectangles on a screenshot, shared by capture (where the target was), composer (what to highlight or
blur) and narration (where the camera zooms)."""
from __future__ import annotations

from guidecast.kernel.model import Strict


class Box(Strict):
    """A rectangle in CSS pixels of the viewport (the screenshot's coordinate space / device scale)."""

    x: float
    y: float
    width: float
    height: float

    def scaled(self, factor: float) -> Box:
        return Box(x=self.x * factor, y=self.y * factor, width=self.width * factor, height=self.height * factor)
