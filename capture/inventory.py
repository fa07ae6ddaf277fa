"""What a page offers: its form fields, buttons and menu items (`inventory.js`), recorded with every step,
so that a check can say what a step's page gained or lost ("the New expense page gained a field
**Project code**"), and what a new dialog asks of the reader."""
from __future__ import annotations

from difflib import SequenceMatcher

from guidecast.capture.bundle import Control
from guidecast.capture.locate import script

KINDS = ("field", "button", "menu item")
DISMISS = {"cancel", "close", "no", "back", "dismiss", "not now"}


def read_controls(page) -> list[Control] | None:
    """The visible controls of the page (or of its open modal dialog), in reading order; None if the page
    cannot be asked."""
    try:
        return [Control(**c) for c in page.evaluate(script("inventory.js"))]
    except Exception:  # noqa: BLE001 - a page being replaced: nothing to compare, not an error
        return None


def control_changes(before: list[Control], after: list[Control], *,
                    ignore: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    """What `after` gained or lost against `before`, per kind in reading order, as sentences' ends
    ("gained a field **Email address**", "lost a button **Export**"). A control in the same place under
    a new name is a rename, not a gain and a loss: those are left to the step that uses it. Names in
    `ignore` (the step's own target, old and new) are left out. Returns (kind, what) pairs."""
    said: list[tuple[str, str]] = []
    for kind in KINDS:
        a = [c.name for c in before if c.kind == kind]
        b = [c.name for c in after if c.kind == kind]
        for op, i0, i1, j0, j1 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            if op == "equal" or (op == "replace" and i1 - i0 == j1 - j0):
                continue
            said += [(kind, f"lost a {kind} **{n}**") for n in a[i0:i1] if n not in ignore and n not in b]
            said += [(kind, f"gained a {kind} **{n}**") for n in b[j0:j1] if n not in ignore and n not in a]
    return said


def proceed_button(controls: list[Control]) -> str | None:
    """The button a reader would press to go on in a dialog: the last one that does not dismiss it."""
    names = [c.name for c in controls if c.kind == "button" and c.name.casefold() not in DISMISS]
    return names[-1] if names else None
