"""Turning a workflow locator into a Playwright locator, and describing the elements it finds."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from guidecast.capture.workflow import Locator

HERE = Path(__file__).parent


SETTLE_BUDGET_MS = 3000  # the longest a target (or the page) is waited for to stop moving
_SPLICED = {"__ARIA__": "aria.js", "__CONTEXT__": "context.js", "__MOTION__": "motion.js",
            "__ELEMENT_INFO__": "element_info.js"}


@cache
def script(name: str) -> str:
    """A page script from this folder, with the shared helpers spliced in: `__ARIA__` (aria.js),
    `__CONTEXT__` (context.js), `__MOTION__` (motion.js), `__ELEMENT_INFO__` (element_info.js)."""
    text = (HERE / name).read_text("utf-8")
    for mark, helper in _SPLICED.items():
        if mark in text:
            text = text.replace(mark, script(helper).strip().rstrip(";"))
    return text


def frame_root(page, frames: list[str]):
    """The page, or the frame locator reached through the given iframe selectors."""
    root = page
    for sel in frames:
        root = root.frame_locator(sel)
    return root


FIELD_ROLES = {"textbox", "combobox", "searchbox", "spinbutton", "listbox", "checkbox", "radio", "switch", "slider"}
FIELD_ACTIONS = {"fill", "select", "check", "uncheck", "upload"}
# What `label` finds for a step that types, picks or ticks: form controls, never the region, heading or
# link a page labels with the same words.
FORM_CONTROLS = ("input:not([type=hidden]), select, textarea, [contenteditable]:not([contenteditable=false]), "
                 + ", ".join(f"[role={r}]" for r in sorted(FIELD_ROLES)))
_MARK = r"(?:[*:\uff1a]|\(required\)|\(optional\))"


def strip_marks(text: str) -> str:
    """A label without its required-field mark or trailing colon: "Username*" and "Username:" are "Username"."""
    t = re.sub(r"^(?:\s*\*)+", "", text.strip())
    return re.sub(rf"(?:\s*{_MARK})+\s*$", "", t, flags=re.IGNORECASE).strip() or text.strip()


def label_pattern(text: str) -> re.Pattern[str]:
    """Matches `text` as a whole label, with or without a required-field mark or colon, any case."""
    words = r"\s+".join(re.escape(w) for w in strip_marks(text).split())
    return re.compile(rf"^\s*\*?\s*{words}(?:\s*{_MARK})*\s*$", re.IGNORECASE)


def to_playwright(page, loc: Locator, action: str | None = None):
    """The Playwright locator for `loc` (inside its frames), restricted to visible elements, the `nth` of
    them when given. Labels (and the names of fields) match without required-field marks and colons;
    for an `action` that types, picks or ticks, `label` matches form controls only."""
    root = frame_root(page, loc.frame)
    if loc.role:
        kw: dict = {"exact": loc.exact}
        if loc.name is not None:
            kw["name"] = label_pattern(loc.name) if loc.exact and loc.role in FIELD_ROLES else loc.name
        pw = root.get_by_role(loc.role, **kw)
    elif loc.label:
        pw = root.get_by_label(label_pattern(loc.label) if loc.exact else strip_marks(loc.label), exact=False)
        if action in FIELD_ACTIONS:
            pw = pw.and_(root.locator(FORM_CONTROLS))
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
    pw = pw.filter(visible=True)
    return pw if loc.nth is None else pw.nth(loc.nth - 1)


def probe(pw_locator, settle_ms: int = SETTLE_BUDGET_MS) -> tuple[int, dict | None]:
    """In one round trip: how many elements match, and for exactly one, once it has stopped moving
    (probe.js: animations finished, two measurements a frame apart agree; at most `settle_ms`), scroll it
    into view if needed and describe it: role, name, label, ... (`info`), `box` (CSS px of its frame),
    the `heading` around it, `dpr`, `url`, `title`, `top` (in the top frame?), the visible password
    fields of its document (`passwords`, boxes)."""
    res = pw_locator.evaluate_all(script("probe.js"), settle_ms)
    return res["count"], res.get("facts")


def settle_page(page, settle_ms: int = SETTLE_BUDGET_MS) -> bool:
    """Wait until the page's fonts are in and its animations with an end have finished (at most
    `settle_ms`); True when it is still."""
    return bool(page.evaluate("(ms) => (" + script("motion.js").strip().rstrip(";") + ").still(ms)", settle_ms))


_DESCRIBE_JS = """(els, limit) => { const A = __ARIA__; return els.slice(0, limit).map((el) => {
  const tag = el.tagName.toLowerCase(), type = (el.getAttribute('type') || '').toLowerCase();
  const fillable = tag === 'textarea' || tag === 'select' || el.isContentEditable ||
    (tag === 'input' && !['button', 'submit', 'reset', 'image', 'hidden'].includes(type));
  return { role: A.roleOf(el), name: A.nameOf(el) || null, label: A.labelOf(el) || null,
    placeholder: el.getAttribute('placeholder'), test_id: el.getAttribute('data-testid'), id: el.id || null,
    tag, fillable }; }); }"""
MAX_LISTED = 5


def describe_matches(pw_locator, limit: int = MAX_LISTED) -> list[dict]:
    """Role, name, label, placeholder, test id, id and whether one types into it, of the first matches."""
    return pw_locator.evaluate_all(_DESCRIBE_JS.replace("__ARIA__", script("aria.js").strip().rstrip(";")), limit)


def yaml_locator(loc: Locator) -> str:
    """The locator as it is written in a workflow: `{role: textbox, name: Title}`."""
    import yaml

    data = loc.model_dump(exclude_defaults=True)
    return yaml.safe_dump(data, default_flow_style=True, sort_keys=False, width=1000, allow_unicode=True).strip()


def _same(a, b) -> bool:
    try:
        ha, hb = a.element_handle(timeout=1000), b.element_handle(timeout=1000)
        return bool(ha and hb and ha.evaluate("(x, y) => x === y", hb))
    except Exception:  # noqa: BLE001 - an element gone meanwhile is no match
        return False


def _tries(m: dict, frame: list[str]) -> list[Locator]:
    """Locators a person could write for the element described by `m`, best first."""
    out: list[dict] = []
    if m.get("test_id"):
        out.append({"test_id": m["test_id"]})
    if m.get("fillable") and m.get("label"):
        out.append({"label": strip_marks(m["label"])})
    if m.get("role") and m.get("name"):
        out.append({"role": m["role"], "name": strip_marks(m["name"]) if m["role"] in FIELD_ROLES else m["name"]})
    if m.get("placeholder"):
        out.append({"placeholder": m["placeholder"]})
    if m.get("id") and re.fullmatch(r"[A-Za-z][\w-]*", m["id"]):
        out.append({"css": f"#{m['id']}"})
    locs = []
    for d in out:
        try:
            locs.append(Locator(**d, frame=frame))
        except ValueError:
            continue
    return locs


def working_locator(page, element, m: dict, frame: list[str], action: str | None) -> Locator | None:
    """A locator that finds `element` (a one-element Playwright locator) alone, checked in the page: from
    what `m` says about it, else its role and position."""
    tries = _tries(m, frame)
    if m.get("role"):
        role = to_playwright(page, Locator(role=m["role"], frame=frame))
        for k in range(min(role.count(), 50)):
            if _same(role.nth(k), element):
                tries.append(Locator(role=m["role"], nth=k + 1, frame=frame))
                break
    for loc in tries:
        pw = to_playwright(page, loc, action)
        try:
            if pw.count() == 1 and _same(pw, element):
                return loc
        except Exception:  # noqa: BLE001 - a locator the page cannot evaluate is no suggestion
            continue
    return None


def listed(page, pw_locator, loc: Locator, action: str | None, limit: int = MAX_LISTED) -> list[dict]:
    """The first matches of `pw_locator`: role, name and a `locator` (workflow YAML) that finds just it."""
    out = []
    for k, m in enumerate(describe_matches(pw_locator, limit)):
        works = working_locator(page, pw_locator.nth(k), m, loc.frame, action)
        out.append({"role": m.get("role"), "name": m.get("name"), "fillable": m.get("fillable"),
                     "locator": yaml_locator(works) if works else None})
    return out


_NAMED = ("a[href], button, input:not([type=hidden]), select, textarea, summary, [role], [placeholder], "
          "[aria-label], [data-testid], label")


def near_misses(page, loc: Locator, action: str | None, limit: int = 3) -> list[dict]:
    """Elements whose name, label, placeholder or test id reads like what `loc` asks for (one letter off,
    another case, a word more or less), with a locator that finds each."""
    import difflib

    wanted = strip_marks(loc.name or loc.label or loc.text or loc.placeholder or loc.test_id or "").lower()
    if not wanted:
        return []
    pool = frame_root(page, loc.frame).locator(_NAMED).filter(visible=True)
    described = describe_matches(pool, 400)
    scored = []
    for k, m in enumerate(described):
        if action in FIELD_ACTIONS and not m.get("fillable"):
            continue
        if loc.role and action not in FIELD_ACTIONS and m.get("role") not in (loc.role, None):
            continue
        names = {strip_marks(v).lower() for v in (m.get("name"), m.get("label"), m.get("placeholder"),
                                                  m.get("test_id")) if v}
        best = max((difflib.SequenceMatcher(None, wanted, n).ratio() + (0.3 if wanted in n or n in wanted else 0)
                    for n in names), default=0.0)
        if best >= 0.6:
            scored.append((best, k, m))
    scored.sort(key=lambda t: (-t[0], t[1]))
    out, seen = [], set()
    for _, k, m in scored:
        key = (m.get("role"), m.get("name"))
        if key in seen:
            continue
        seen.add(key)
        works = working_locator(page, pool.nth(k), m, loc.frame, action)
        out.append({"role": m.get("role"), "name": m.get("name"), "fillable": m.get("fillable"),
                    "locator": yaml_locator(works) if works else None})
        if len(out) == limit:
            break
    return out


def say(c: dict) -> str:
    """`textbox 'Title*' ({label: Title})` for a listed element."""
    what = f"{c.get('role') or 'element'} {c['name']!r}" if c.get("name") else (c.get("role") or "element")
    return what + (f" ({c['locator']})" if c.get("locator") else "")
