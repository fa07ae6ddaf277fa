"""Turning a workflow locator into a Playwright locator, and describing the elements it finds."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from guidecast.capture.workflow import Locator

HERE = Path(__file__).parent


@cache
def script(name: str) -> str:
    """A page script from this folder, with the shared helpers spliced in: `__ARIA__` (aria.js) and
    `__CONTEXT__` (context.js)."""
    text = (HERE / name).read_text("utf-8")
    for mark, part in (("__CONTEXT__", "context.js"), ("__ARIA__", "aria.js")):
        if mark in text:
            text = text.replace(mark, (HERE / part).read_text("utf-8").strip().rstrip(";"))
    return text


def frame_root(page, frames: list[str]):
    """The page, or the frame locator reached through the given iframe selectors."""
    root = page
    for sel in frames:
        root = root.frame_locator(sel)
    return root


def to_playwright(page, loc: Locator):
    """The Playwright locator for `loc` (inside its frames), restricted to visible elements."""
    root = frame_root(page, loc.frame)
    if loc.role:
        kw = {"exact": loc.exact}
        if loc.name is not None:
            kw["name"] = loc.name
        pw = root.get_by_role(loc.role, **kw)
    elif loc.label:
        pw = root.get_by_label(loc.label, exact=loc.exact)
    elif loc.test_id:
        pw = root.get_by_test_id(loc.test_id)
    elif loc.text:
        pw = root.get_by_text(loc.text, exact=loc.exact)
    elif loc.placeholder:
        pw = root.get_by_placeholder(loc.placeholder, exact=loc.exact)
    elif loc.xpath:
        pw = root.locator("xpath=" + loc.xpath)
    else:
        pw = root.locator(loc.css)
    return pw.filter(visible=True)


def probe(pw_locator) -> tuple[int, dict | None]:
    """In one round trip, without waiting: how many elements match, and for exactly one, scroll it into
    view if needed and describe it: role, name, label, ... (`info`), `box` (CSS px of its frame), the
    `heading` around it, `dpr`, `url`, `title`, `top` (in the top frame?) and the visible password
    fields of its document (`passwords`, boxes)."""
    res = pw_locator.evaluate_all(
        "(els) => els.length === 1 ? {count: 1, facts: (" + script("element_info.js") + ")(els[0])} "
        ": {count: els.length}")
    return res["count"], res.get("facts")


_MATCHES_JS = """(els) => { const A = __ARIA__; return els.slice(0, 5).map((el) => ({
  role: A.roleOf(el), name: A.nameOf(el) || null, test_id: el.getAttribute('data-testid'),
  id: el.id || null, label: A.labelOf(el) || null })); }"""


def describe_matches(pw_locator) -> list[dict]:
    """Role, name, test id, id and label of the first few elements a locator matches."""
    aria = script("aria.js").strip().rstrip(";")
    return pw_locator.evaluate_all(_MATCHES_JS.replace("__ARIA__", aria))


def suggest_locator(matches: list[dict], loc: Locator) -> str:
    """A more specific locator for the first match, taken from what tells the matches apart."""
    if not matches:
        return ""
    first, others = matches[0], matches[1:]
    frame = f", frame: {loc.frame}" if loc.frame else ""

    def unique(key: str) -> bool:
        return bool(first.get(key)) and all(m.get(key) != first[key] for m in others)

    if unique("test_id"):
        return f"{{test_id: {first['test_id']}{frame}}}"
    if first.get("role") and unique("name"):
        return f"{{role: {first['role']}, name: {first['name']}{frame}}}"
    if unique("label"):
        return f"{{label: {first['label']}{frame}}}"
    if unique("id"):
        return f"{{css: '#{first['id']}'{frame}}}"
    return ""
