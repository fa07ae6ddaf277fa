"""Steps a writer folds into the step they serve: a click into a field and the typing that follows it
are one step ("In **Description**, enter ..."); typing and then pressing Enter in the same field are one
step ("... type “Buy milk” and press **Enter**."). Recordings and imports (DevTools: click, then change)
both produce such pairs; the composer folds them, and the edit layer still reaches every captured id.
"""
from __future__ import annotations

from dataclasses import dataclass

from guidecast.capture.bundle import CapturedStep

ENTRY_ROLES = {"textbox", "searchbox", "spinbutton", "combobox"}
FOLDED_KEYS = {"Enter"}
_SAME_BOX_PX = 3.0


@dataclass(frozen=True)
class Fold:
    """One step of the guide: `main` (whose id, text and picture it takes) and every captured step in it."""

    main: CapturedStep
    parts: tuple[CapturedStep, ...]
    then_key: str | None = None  # a key pressed right after `main` in the same field

    @property
    def absorbed(self) -> list[CapturedStep]:
        return [p for p in self.parts if p is not self.main]


def _entry(s: CapturedStep) -> bool:
    el = s.element
    if el is None:
        return False
    if (el.role or "").lower() in ENTRY_ROLES and el.tag != "select":
        return True
    return el.tag == "textarea" or (el.tag == "input" and (el.input_type or "text") not in
                                    ("checkbox", "radio", "button", "submit", "reset", "file", "image", "range"))


def same_target(a: CapturedStep, b: CapturedStep) -> bool:
    """Both steps act on the same element of the same page."""
    if a.url != b.url or a.page != b.page:
        return False
    if a.locator is not None and a.locator == b.locator:
        return True
    ea, eb = a.element, b.element
    if ea is None or eb is None or ea.box is None or eb.box is None:
        return False
    near = all(abs(getattr(ea.box, k) - getattr(eb.box, k)) <= _SAME_BOX_PX for k in ("x", "y", "width", "height"))
    return near and ea.role == eb.role and ea.name == eb.name


def _quiet(s: CapturedStep) -> bool:
    """Nothing else happened in the step: no dialog, no new tab, no note of the author's to keep apart."""
    return not s.dialogs and s.opened_page is None and not s.note


def fold_steps(steps: list[CapturedStep]) -> list[Fold]:
    out: list[Fold] = []
    i, n = 0, len(steps)
    while i < n:
        s = steps[i]
        parts = [s]
        main = s
        if (s.action == "click" and _entry(s) and _quiet(s) and i + 1 < n and steps[i + 1].action == "fill"
                and same_target(s, steps[i + 1])):
            i += 1
            main = steps[i]
            parts.append(main)
        key = None
        if main.action == "fill" and _quiet(main) and i + 1 < n:
            nxt = steps[i + 1]
            if (nxt.action == "press" and nxt.key in FOLDED_KEYS and not nxt.note
                    and (nxt.element is None or same_target(main, nxt)) and nxt.url == main.url):
                i += 1
                parts.append(nxt)
                key = nxt.key
        out.append(Fold(main=main, parts=tuple(parts), then_key=key))
        i += 1
    return out
