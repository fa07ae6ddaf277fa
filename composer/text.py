"""Step text a technical writer would write, from the element's role, accessible name, label and page.

Every sentence uses `**bold**` for the names of things on screen (the only inline markup) and quotes
values only when they are not sensitive.
"""
from __future__ import annotations

import re

from guidecast.capture.bundle import CapturedStep, ElementContext
from guidecast.composer.names import bold, clean_name, own_name, reference, row_context

KEY_NAMES = {
    "Enter": "Enter", "Tab": "Tab", "Escape": "Esc", "Backspace": "Backspace", "Delete": "Delete", "Space": "Space",
    " ": "Space", "ArrowDown": "Down arrow", "ArrowUp": "Up arrow", "ArrowLeft": "Left arrow",
    "ArrowRight": "Right arrow", "PageDown": "Page Down", "PageUp": "Page Up", "Home": "Home", "End": "End",
    "Control": "Ctrl", "Meta": "Cmd", "Alt": "Alt", "Shift": "Shift", "ControlOrMeta": "Ctrl",
}
# What to call a sensitive value the reader types themselves, by input type (passwords: `password_what`).
SENSITIVE_WHAT = {"email": "your email address", "tel": "your phone number"}
GENERIC_MENUS = {"navigation", "main menu", "menu", "main navigation", "primary navigation", "site navigation", "nav"}
CHOICE_ROLES = {"menuitem", "menuitemradio", "menuitemcheckbox", "option", "treeitem"}
MAX_QUOTED = 80


def quoted(value: str) -> str:
    value = re.sub(r"\s+", " ", value).strip()
    if len(value) > MAX_QUOTED:
        value = value[: MAX_QUOTED - 1].rstrip() + "…"
    return f"“{value}”"


def end_sentence(s: str) -> str:
    """One full stop: none after a quoted value that ends a sentence of its own (“Hello.”)."""
    s = s.rstrip()
    return s if re.search(r"[.!?]”$|[.!?]$", s) else s + "."


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


_CONFIRM = re.compile(r"confirm|again|repeat|retype|re-enter|verify|verification|\b2\b", re.IGNORECASE)
_OTHER_ACCOUNT = re.compile(
    r"\b(?:add|new|create|invite|edit)\b[^.]*?\b(user|member|account|person|teammate|employee|customer|admin"
    r"|administrator|editor|contact|staff)s?\b", re.IGNORECASE)
_SELF_SIGN_UP = re.compile(r"sign ?up|register|join|create (?:your|an) account|get started", re.IGNORECASE)


def password_what(step: CapturedStep) -> str:
    """Whose password the reader types: their own on a sign-in form; on a form that creates another
    account, one for that account, then the same again in the confirmation field."""
    el = step.element
    ctx = (el.context if el else None) or ElementContext()
    name = own_name(step)
    auto = (ctx.autocomplete or "").lower()
    count, index = ctx.form_passwords or 1, ctx.password_index or 1
    page = " ".join(x for x in (step.heading, step.title, ctx.group, ctx.submit) if x)
    other = _OTHER_ACCOUNT.search(page)
    creating = bool(other) and not _SELF_SIGN_UP.search(page)
    if "current-password" in auto:
        return "your current password" if count >= 3 or "new-password" in page else "your password"
    if count >= 3:  # change password: current, new, confirmation
        return ["your current password", "a new password", "the same password again"][min(index, 3) - 1]
    if (count == 2 and index == 2) or (count > 1 and _CONFIRM.search(name)):
        return "the same password again"
    if creating:
        return f"a password for the new {other.group(1).lower()}" if other else "a password for the new user"
    if count == 2 or "new-password" in auto or _SELF_SIGN_UP.search(page):
        return "a password"
    return "your password"


def sensitive_what(step: CapturedStep) -> str:
    el = step.element
    if el and el.input_type == "password":
        return password_what(step)
    if el and el.input_type in SENSITIVE_WHAT:
        return SENSITIVE_WHAT[el.input_type]
    name = own_name(step)
    if re.search(r"password|passphrase", name, re.IGNORECASE):
        return password_what(step)
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


def step_text(step: CapturedStep, viewport_width: int | None = None, then_key: str | None = None) -> str:
    """One imperative sentence for the captured step; `then_key`: the key pressed right after a fill in
    the same field, folded into the same sentence ("... type “Buy milk” and press **Enter**.")."""
    el = step.element
    role = ((el.role if el else None) or "").lower()
    ref = reference(step)
    name = ref.plain()
    a = step.action
    if a == "goto":
        if step.heading:
            return f"Open the {page_name(step.heading)}."
        return f"Go to {step.url_arg or step.url}."
    if a in ("click", "check", "uncheck") and role in ("checkbox", "switch"):
        on = a != "uncheck"  # a click is recorded before it toggles: write it as turning on
        if role == "switch":
            return f"Turn {'on' if on else 'off'} {name}."
        return f"{'Select' if on else 'Clear'} {ref.with_noun('checkbox')}."
    if a in ("click", "check") and role == "radio":
        return f"Select {name}."
    if a == "click":
        ctx = el.context if el else None
        if ref.named and ctx is not None and ctx.header and role in ("link", "button", "columnheader"):
            return f"Click the {name} column heading."
        row = row_context(step, ref.own) if ref.named else ""
        if row:
            return f"Click {name} in {row}."
        if role == "link" and el and el.in_navigation and ref.named and not el.in_dialog:
            return f"Go to {name} in {menu_place(step, viewport_width)}."
        if role == "tab":
            return f"Select {ref.with_noun('tab')}."
        if role in CHOICE_ROLES:
            return f"Choose {name}."
        if role in ("combobox", "listbox"):
            return f"Open {ref.with_noun('list')}."
        if role in ("textbox", "searchbox", "spinbutton"):
            return f"Click in {name}."
        return f"Click {name}."
    press = f" and press {bold(key_name(then_key))}" if then_key else ""
    if a == "fill":
        if step.value_redacted or step.value is None or (el and el.input_type == "password"):
            return f"{ref.where()}, enter {sensitive_what(step)}{press}."
        if step.value == "":
            return f"Clear {name}{press}."
        verb = "type" if press else "enter"
        return end_sentence(f"{ref.where()}, {verb} {quoted(step.value)}{press}")
    if a == "select":
        if step.value_redacted or step.value is None:
            return f"{ref.where()}, select your option." if not ref.named else f"From {name}, select your option."
        if ref.named:
            return f"Select {bold(step.value)} from {name}."
        return f"{ref.where()}, select {bold(step.value)}."
    if a == "check":
        return f"Select {ref.with_noun('checkbox')}."
    if a == "uncheck":
        return f"Clear {ref.with_noun('checkbox')}."
    if a == "press":
        key = bold(key_name(step.key or ""))
        return f"{ref.where()}, press {key}." if ref.named else f"Press {key}."
    if a in FIXED_PHRASES:
        return FIXED_PHRASES[a].format(name=name)
    return f"{a.replace('_', ' ').capitalize()} {name}."


def page_name(heading: str) -> str:
    """'**Expenses** page'; a heading that already says page ('New: Article page') is not doubled."""
    h = clean_name(heading)
    return f"{bold(h)}" if re.search(r"\bpage$", h, re.IGNORECASE) else f"{bold(h)} page"


def section_title(step: CapturedStep) -> str | None:
    """The heading a page (or dialog) change starts: 'On the **New expense** page'."""
    if not step.heading:
        return None
    if step.element and step.element.in_dialog:
        h = clean_name(step.heading)
        return f"In the {bold(h)}" if re.search(r"\bdialog$", h, re.IGNORECASE) else f"In the {bold(h)} dialog"
    return f"On the {page_name(step.heading)}"


# Verbs a goal starts with ("Submit an expense"); a title that starts otherwise ("SSO setup") is a topic.
GOAL_VERBS = frozenset("""
add apply approve archive assign book build cancel change check choose clear close configure connect copy create
delete deploy disable download edit enable export file filter find fix import install invite join link log make
manage mark merge move open order pay plan post prepare print publish record register remove rename reply
report request reset restore review run save schedule search see select send set share sign sort start stop
submit subscribe switch track transfer turn unlock update upload use verify view write
""".split())


_TOPIC_WORD = re.compile(r"(?:tion|sion|ment|ness|ity|ance|ence|ship|ing|ings|setup|basics|overview)$", re.IGNORECASE)


def _is_task(goal: str) -> bool:
    """'submit an expense' is a task (starts with a verb); 'SSO setup', 'Expense reports' are topics.
    How-to titles are tasks unless the first word is an acronym or reads as a noun."""
    first = goal.split(" ", 1)[0]
    if first.lower() in GOAL_VERBS:
        return True
    if len(first) > 1 and first.isupper():
        return False
    return not (_TOPIC_WORD.search(first) or (first.endswith("s") and not first.endswith("ss")))


def _sentence_case_goal(text: str) -> str:
    goal = text.strip().rstrip(".")
    if goal[:1].isupper() and not goal[1:2].isupper():
        goal = goal[0].lower() + goal[1:]
    return goal


def intro_text(title: str, description: str | None, steps: int | None = None, start_page: str | None = None) -> str:
    """'In this guide you will ...' (or 'This guide walks you through ...' for a topic): one paragraph."""
    goal = _sentence_case_goal(description or title)
    parts = [f"In this guide you will {goal}." if _is_task(goal) else f"This guide walks you through {goal}."]
    if steps:
        where = f", starting on the {start_page} page" if start_page else ""
        parts.append(f"It takes {steps} step{'s' if steps != 1 else ''}{where}.")
    parts.append("Follow the steps in order; each screenshot highlights where to act.")
    return " ".join(parts)


def outro_text(final_heading: str | None, dialog: str | None = None) -> str:
    """What the reader now sees, in words from the screen: the dialog left open, else the last page."""
    if dialog:
        d = clean_name(dialog)
        return f"You now see the {bold(d)}." if re.search(r"\bdialog$", d, re.IGNORECASE) else \
            f"You now see the {bold(d)} dialog."
    if final_heading:
        return f"You now see the {page_name(final_heading)}."
    return "You have completed every step of this guide."


def page_title_heading(title: str | None) -> str | None:
    """'Expense submitted · Expensely' -> 'Expense submitted'."""
    title = title or ""
    return re.split(r" [·|–—-] ", title)[0].strip() or None
