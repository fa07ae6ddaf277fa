"""What a writer calls the element a step acts on: its own name as the screen shows it, or, when it has
none, what the reader sees around it (placeholder, column header, row, group heading, the text before
it, its position). Never a selector, an id or a role word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from guidecast.capture.bundle import CapturedStep, ElementContext

# What to call a control by its role, in words a reader uses ("list", not "combobox").
NOUNS = {
    "textbox": "box", "searchbox": "search box", "spinbutton": "box", "combobox": "list", "listbox": "list",
    "checkbox": "checkbox", "radio": "option", "switch": "switch", "button": "button", "link": "link",
    "tab": "tab", "menuitem": "menu item", "option": "option", "img": "picture", "slider": "slider",
    "treeitem": "item", "row": "row", "cell": "cell", "gridcell": "cell",
}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
# Required-field marks, trailing colons and the like: punctuation that belongs to the label, not the name.
_LABEL_TRIM = re.compile(r"^[\s*•:]+|(?:\s*(?:\*|:|：|\(required\)|\(obligatoire\)|\(\*\)))+\s*$", re.IGNORECASE)


_COUNT = re.compile(r"\s*\(\d+\)$")  # "Clear completed (1)": a count that changes with the data


def clean_name(s: str | None) -> str:
    """'Username*' -> 'Username', 'Title:' -> 'Title', 'Clear completed (1)' -> 'Clear completed';
    whitespace collapsed; the markup star removed."""
    s = re.sub(r"\s+", " ", s or "").strip()
    prev = None
    while prev != s:
        prev, s = s, _COUNT.sub("", _LABEL_TRIM.sub("", s)).strip()
    return s.replace("*", "")


def bold(s: str) -> str:
    s = clean_name(s)
    return f"**{s}**" if s else "the highlighted element"


def noun_of(step: CapturedStep) -> str:
    el = step.element
    role = ((el.role if el else None) or "").lower()
    if role in NOUNS:
        return NOUNS[role]
    if el and el.tag in ("input", "textarea"):
        return "box"
    if el and el.tag == "select":
        return "list"
    return "element"


@dataclass(frozen=True)
class Ref:
    """How a sentence refers to the target: by its own name (`own`, bolded) or by a phrase built from
    what is around it (`phrase`, which carries its own noun), or, for a field in a headed group, `under`."""

    own: str = ""  # the element's name, cleaned ("Username")
    phrase: str = ""  # "the checkbox for **Buy milk**", "the box after **=**", "the first list"
    under: str = ""  # "Sign in": the group heading, for "Under **Sign in**, enter ..."

    @property
    def named(self) -> bool:
        return bool(self.own)

    def plain(self) -> str:
        """'**Save**' / 'the button for **Buy milk**'."""
        return f"**{self.own}**" if self.own else self.phrase

    def with_noun(self, noun: str) -> str:
        """'the **I agree** checkbox' / 'the checkbox for **Buy milk**'."""
        return f"the **{self.own}** {noun}" if self.own else self.phrase

    def where(self) -> str:
        """The start of a sentence that acts in a field: 'In **Amount**' / 'Under **Sign in**'."""
        if self.own:
            return f"In **{self.own}**"
        if self.under:
            return f"Under **{self.under}**"
        return f"In {self.phrase}"


def own_name(step: CapturedStep) -> str:
    """The element's own name as the screen shows it, or the human words of its locator; '' if none."""
    el = step.element
    if el:
        for cand in (el.name, el.label, el.text):
            if clean_name(cand):
                return clean_name(cand)
    loc = step.locator
    if loc is not None:  # the words a person wrote in the workflow; never CSS, XPath, a test id or a bare role
        for cand in (loc.name, loc.label, loc.text, loc.placeholder):
            if clean_name(cand):
                return clean_name(cand)
    return ""


def reference(step: CapturedStep) -> Ref:
    own = own_name(step)
    if own:
        return Ref(own=own)
    el = step.element
    ctx = (el.context if el else None) or ElementContext()
    noun = noun_of(step)
    heading = clean_name(step.heading)
    if ctx.placeholder and clean_name(ctx.placeholder):
        ph = clean_name(ctx.placeholder.strip(" -–—_.…"))
        if ph:
            return Ref(own=ph) if noun != "list" else Ref(phrase=f"the **{ph}** list")
    column, row = clean_name(ctx.column), clean_name(ctx.row or ctx.item)
    if column and row:
        return Ref(phrase=f"**{column}** for **{row}**")
    if column:
        return Ref(own=column)
    if row:
        return Ref(phrase=f"the {noun} for **{row}**")
    before = clean_name(ctx.before)
    group = clean_name(ctx.group)
    if group and group == heading:
        group = ""
    if before and len(before) <= 30:
        return Ref(phrase=f"the {noun} after **{before}**", under=group if (ctx.count or 0) <= 1 else "")
    if ctx.ordinal and ctx.count and ctx.count > 1 and ctx.ordinal <= len(ORDINALS):
        where = f" under **{group}**" if group else ""
        return Ref(phrase=f"the {ORDINALS[ctx.ordinal - 1]} {noun}{where}")
    if group:
        return Ref(phrase=f"the {noun} under **{group}**", under=group)
    return Ref(phrase=f"the highlighted {noun}")


# Names that say what a control does but not which one: in a table, the row tells ("Edit" in the row for
# "Some Like It Hot", the id link "12").
GENERIC_ACTIONS = {"edit", "delete", "remove", "view", "open", "more", "actions", "details", "show", "select",
                   "copy", "duplicate", "archive", "go", "change", "manage", "settings", "options", "…", "..."}


def row_context(step: CapturedStep, own: str) -> str:
    """'the row for **Some Like It Hot**' when a table row's control has a name that alone does not say
    which row it is in (a number, a short code, a generic action); else ''."""
    el = step.element
    ctx = el.context if el else None
    if not ctx or not ctx.row or ctx.header:
        return ""
    row = clean_name(ctx.row)
    if not row or row == own:
        return ""
    if len(own) <= 4 or own.replace(",", "").replace(".", "").isdigit() or own.lower() in GENERIC_ACTIONS:
        return f"the row for **{row}**"
    return ""
