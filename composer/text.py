"""Step text a technical writer would write, from the element's role, name and label."""
from __future__ import annotations

from capture.bundle import CapturedStep

KEY_NAMES = {"Enter": "Enter", "Tab": "Tab", "Escape": "Esc", "ArrowDown": "Down arrow", "ArrowUp": "Up arrow"}


def bold(s: str) -> str:
    return f"**{s.replace('*', '')}**"


def target_name(step: CapturedStep) -> str:
    el = step.element
    if el:
        for cand in (el.name, el.label, el.text, el.test_id):
            if cand:
                return cand
    if step.locator:
        return step.locator.name or getattr(step.locator, step.locator.kind)
    return "the highlighted element"


def step_text(step: CapturedStep) -> str:
    el = step.element
    role = (el.role if el else None) or ""
    name = bold(target_name(step))
    a = step.action
    if a == "goto":
        return f"Go to {step.url_arg or step.url}." if not step.heading else f"Open the {bold(step.heading)} page."
    if a == "click":
        if role == "link" and el and el.in_navigation:
            return f"Go to {name} in the {el.in_navigation.lower()}."
        if role in ("checkbox", "switch"):
            return f"Select the {name} checkbox."
        if role in ("tab", "menuitem", "option", "radio"):
            return f"Choose {name}."
        return f"Click {name}."
    if a == "fill":
        if step.value_redacted or step.value is None:
            what = "your password" if (el and el.input_type == "password") else "the value"
            return f"In {name}, enter {what}."
        return f"In {name}, enter “{step.value}”."
    if a == "select":
        return f"Select {bold(step.value or '')} from {name}."
    if a == "check":
        return f"Select the {name} checkbox."
    if a == "uncheck":
        return f"Clear the {name} checkbox."
    if a == "press":
        key = bold(KEY_NAMES.get(step.key or "", step.key or ""))
        return f"Press {key}." if not el else f"In {name}, press {key}."
    if a == "hover":
        return f"Point to {name}."
    return f"{a.capitalize()} {name}."


def section_title(step: CapturedStep) -> str | None:
    if not step.heading:
        return None
    if step.element and step.element.in_dialog:
        return f"In the {step.heading} dialog"
    return f"On the {step.heading} page"


def intro_text(title: str, description: str | None, app_title: str | None) -> str:
    goal = (description or title).rstrip(".")
    goal = goal[0].lower() + goal[1:] if goal[:2] != goal[:2].upper() else goal
    where = f" in {app_title}" if app_title else ""
    return f"In this guide you will {goal}{where}. Follow the steps in order; each screenshot highlights where to act."


def outro_text(final_heading: str | None) -> str:
    if final_heading:
        return f"Done. You should now see the {final_heading} page."
    return "Done. You have completed every step of this guide."
