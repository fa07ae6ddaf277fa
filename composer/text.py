"""Step text a technical writer would write, from the element's role, accessible name, label and page.

Every sentence uses `**bold**` for the names of things on screen (the only inline markup) and quotes
values only when they are not sensitive.
"""
from __future__ import annotations

import re

from guidecast.capture.bundle import CapturedStep

KEY_NAMES = {
    "Enter": "Enter", "Tab": "Tab", "Escape": "Esc", "Backspace": "Backspace", "Delete": "Delete", "Space": "Space",
    " ": "Space", "ArrowDown": "Down arrow", "ArrowUp": "Up arrow", "ArrowLeft": "Left arrow",
    "ArrowRight": "Right arrow", "PageDown": "Page Down", "PageUp": "Page Up", "Home": "Home", "End": "End",
    "Control": "Ctrl", "Meta": "Cmd", "Alt": "Alt", "Shift": "Shift", "ControlOrMeta": "Ctrl",
}
# What to call a sensitive value the reader types themselves, by input type.
SENSITIVE_WHAT = {"password": "your password", "email": "your email address", "tel": "your phone number"}
GENERIC_MENUS = {"navigation", "main menu", "menu", "main navigation", "primary navigation", "site navigation", "nav"}
CHOICE_ROLES = {"menuitem", "menuitemradio", "menuitemcheckbox", "option", "treeitem"}
MAX_QUOTED = 80


def bold(s: str) -> str:
    s = re.sub(r"\s+", " ", s.replace("*", "")).strip()
    return f"**{s}**" if s else "the highlighted element"


def target_name(step: CapturedStep) -> str:
    el = step.element
    if el:
        for cand in (el.name, el.label, el.text, el.test_id):
            if cand and cand.strip():
                return cand
    if step.locator:
        return step.locator.name or getattr(step.locator, step.locator.kind)
    return ""


def quoted(value: str) -> str:
    value = re.sub(r"\s+", " ", value).strip()
    if len(value) > MAX_QUOTED:
        value = value[: MAX_QUOTED - 1].rstrip() + "…"
    return f"“{value}”"


def key_name(key: str) -> str:
    return "+".join(KEY_NAMES.get(k, k) for k in re.split(r"\+(?=.)", key))


def menu_place(step: CapturedStep, viewport_width: int | None = None) -> str:
    """'the left menu', 'the top menu' or 'the Account menu': where a navigation link lives."""
    el = step.element
    label = (el.in_navigation or "").strip() if el else ""
    if label.lower() not in GENERIC_MENUS:
        return f"the {bold(label)} menu"
    box = el.box if el else None
    if box is not None:
        width = viewport_width or 1280
        if box.x + box.width / 2 < width * 0.25 and box.y > 40:
            return "the left menu"
        if box.y < 100:
            return "the top menu"
    return "the main menu" if label.lower() != "nav" else "the menu"


def sensitive_what(step: CapturedStep) -> str:
    el = step.element
    if el and el.input_type in SENSITIVE_WHAT:
        return SENSITIVE_WHAT[el.input_type]
    name = target_name(step)
    return f"your {name.lower()}" if name else "the value"


# Actions whose sentence depends only on the target's name.
FIXED_PHRASES = {
    "hover": "Point to {name}.",
    "dblclick": "Double-click {name}.",
    "upload": "In {name}, choose the file to upload.",
    "wait_for": "Wait until {name} appears.",
    "back": "Go back to the previous page.",
    "forward": "Go forward again.",
    "close_page": "Close this tab.",
}


def step_text(step: CapturedStep, viewport_width: int | None = None) -> str:
    """One imperative sentence for the captured step."""
    el = step.element
    role = ((el.role if el else None) or "").lower()
    raw = target_name(step)
    name = bold(raw) if raw else "the highlighted element"
    a = step.action
    if a == "goto":
        if step.heading:
            return f"Open the {bold(step.heading)} page."
        return f"Go to {step.url_arg or step.url}."
    if a in ("click", "check", "uncheck") and role in ("checkbox", "switch"):
        on = a != "uncheck"  # a click is recorded before it toggles: write it as turning on
        if role == "switch":
            return f"Turn {'on' if on else 'off'} {name}."
        return f"{'Select' if on else 'Clear'} the {name} checkbox."
    if a in ("click", "check") and role == "radio":
        return f"Select {name}."
    if a == "click":
        if role == "link" and el and el.in_navigation:
            return f"Go to {name} in {menu_place(step, viewport_width)}."
        if role == "tab":
            return f"Select the {name} tab."
        if role in CHOICE_ROLES:
            return f"Choose {name}."
        if role in ("combobox", "listbox"):
            return f"Open the {name} list."
        if role in ("textbox", "searchbox", "spinbutton"):
            return f"Click in {name}."
        return f"Click {name}."
    if a == "fill":
        if step.value_redacted or step.value is None or (el and el.input_type == "password"):
            return f"In {name}, enter {sensitive_what(step)}."
        if step.value == "":
            return f"Clear {name}."
        return f"In {name}, enter {quoted(step.value)}."
    if a == "select":
        if step.value_redacted or step.value is None:
            return f"From {name}, select your option."
        return f"Select {bold(step.value)} from {name}."
    if a == "check":
        return f"Select the {name} checkbox."
    if a == "uncheck":
        return f"Clear the {name} checkbox."
    if a == "press":
        key = bold(key_name(step.key or ""))
        return f"In {name}, press {key}." if raw else f"Press {key}."
    if a in FIXED_PHRASES:
        return FIXED_PHRASES[a].format(name=name)
    return f"{a.replace('_', ' ').capitalize()} {name}."


def section_title(step: CapturedStep) -> str | None:
    """The heading a page (or dialog) change starts: 'On the **New expense** page'."""
    if not step.heading:
        return None
    if step.element and step.element.in_dialog:
        return f"In the {bold(step.heading)} dialog"
    return f"On the {bold(step.heading)} page"


def _sentence_case_goal(text: str) -> str:
    goal = text.strip().rstrip(".")
    if goal[:1].isupper() and not goal[1:2].isupper():
        goal = goal[0].lower() + goal[1:]
    return goal


def intro_text(title: str, description: str | None, steps: int | None = None, start_page: str | None = None) -> str:
    """'In this guide you will ...': one paragraph."""
    goal = _sentence_case_goal(description or title)
    parts = [f"In this guide you will {goal}."]
    if steps:
        where = f", starting on the {start_page} page" if start_page else ""
        parts.append(f"It takes {steps} step{'s' if steps != 1 else ''}{where}.")
    parts.append("Follow the steps in order; each screenshot highlights where to act.")
    return " ".join(parts)


def outro_text(final_heading: str | None) -> str:
    if final_heading:
        return f"Done. You should now see the {final_heading} page."
    return "Done. You have completed every step of this guide."


def page_title_heading(title: str | None) -> str | None:
    """'Expense submitted · Expensely' -> 'Expense submitted'."""
    title = title or ""
    return re.split(r" [·|–—-] ", title)[0].strip() or None
