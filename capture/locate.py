"""Turning a workflow locator into a Playwright locator, and describing the element it finds."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from capture.bundle import ElementInfo
from capture.workflow import Locator

_ARIA_LINE = re.compile(r'^- (?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')


def to_playwright(page, loc: Locator):
    """The Playwright locator for `loc`, restricted to visible elements."""
    if loc.role:
        kw = {"exact": loc.exact}
        if loc.name is not None:
            kw["name"] = loc.name
        pw = page.get_by_role(loc.role, **kw)
    elif loc.label:
        pw = page.get_by_label(loc.label, exact=loc.exact)
    elif loc.test_id:
        pw = page.get_by_test_id(loc.test_id)
    elif loc.text:
        pw = page.get_by_text(loc.text, exact=loc.exact)
    elif loc.placeholder:
        pw = page.get_by_placeholder(loc.placeholder, exact=loc.exact)
    else:
        pw = page.locator(loc.css)
    return pw.filter(visible=True)


@lru_cache(maxsize=1)
def _info_script() -> str:
    return (Path(__file__).with_name("element_info.js")).read_text("utf-8")


def role_and_name(pw_locator) -> tuple[str | None, str | None]:
    """Role and accessible name as Chromium's accessibility tree computes them."""
    try:
        snap = pw_locator.aria_snapshot(timeout=2000)
    except Exception:  # noqa: BLE001 - element without an accessibility node
        return None, None
    m = _ARIA_LINE.match(snap.strip().splitlines()[0]) if snap.strip() else None
    if not m:
        return None, None
    name = m.group("name")
    return m.group("role"), (name.replace('\\"', '"') if name else None)


def describe_element(pw_locator) -> tuple[ElementInfo, str | None]:
    """ElementInfo (without boxes) and the page/dialog heading around the element."""
    data = pw_locator.evaluate(_info_script())
    role, name = role_and_name(pw_locator)
    heading = data.pop("heading", None)
    return ElementInfo(role=role, name=name, **data), heading
