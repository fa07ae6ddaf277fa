"""Chrome DevTools Recorder recordings (the JSON @puppeteer/replay reads) -> workflow.

A recording is `{"title": ..., "steps": [...]}`; each step has a `type` (navigate, click,
doubleClick, change, keyDown, keyUp, hover, setViewport, waitForElement, scroll, close, ...),
optional `target` (the tab: "main", else the URL of a popup), `frame` (child-frame indexes from the
top document, e.g. [0, 1]) and `selectors`: alternatives, each a string or a list of strings that
pierce shadow roots/ancestors; prefixes `aria/Name[role="button"]`, `text/`, `xpath/`, `pierce/`,
plain CSS otherwise.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from guidecast.capture.imports.common import Builder, ImportFormatError, ImportResult, css_locator, rank
from guidecast.capture.workflow import Locator, Viewport

MODIFIERS = {"Shift", "Control", "Alt", "Meta"}
_ARIA = re.compile(r'^(?P<name>.*?)(?:\[role="(?P<role>[a-z]+)"\])?$')


def is_devtools(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("steps"), list) and "tests" not in data


def frame_path(b: Builder, where: str, frame) -> list[str]:
    if frame is None:
        return []
    if not isinstance(frame, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in frame):
        raise b.error(where, "field 'frame': expected a list of child-frame indexes, e.g. [0]")
    if any(i < 0 for i in frame):
        raise b.error(where, f"field 'frame': {frame} names a frame that does not exist (indexes start at 0)")
    return [f"iframe >> nth={i}" for i in frame]


def selector_locator(sel, frame: list[str]) -> Locator | None:
    """The locator, or None where the recording's selector has no workflow equivalent (empty, or not one the
    workflow model accepts)."""
    try:
        return _selector_locator(sel, frame)
    except ValidationError:
        return None


def _selector_locator(sel, frame: list[str]) -> Locator | None:
    """One DevTools selector as a workflow locator (None for ones that have no equivalent)."""
    if isinstance(sel, list):
        if len(sel) == 1:
            return _selector_locator(sel[0], frame)
        if all(isinstance(s, str) and not re.match(r"^(aria|text|xpath|pierce)/", s) for s in sel):
            return Locator(css=" >> ".join(sel), frame=frame)  # Playwright's CSS pierces open shadow roots
        return None
    if not isinstance(sel, str) or not sel:
        return None
    if sel.startswith("aria/"):
        m = _ARIA.match(sel[5:])
        if m is None:
            raise ImportFormatError(f"selector {sel!r}: not an aria/ selector guidecast can read")
        name, role = m.group("name"), m.group("role")
        return Locator(role=role, name=name, frame=frame) if role else Locator(label=name, frame=frame)
    if sel.startswith("text/"):
        return Locator(text=sel[5:], exact=False, frame=frame)
    if sel.startswith("xpath/"):
        return Locator(xpath=sel[6:], frame=frame)
    if sel.startswith("pierce/"):
        return css_locator(sel[7:], frame)
    return css_locator(sel, frame)


def import_devtools(data: dict, source: Path) -> ImportResult:
    b = Builder(source, str(data.get("title") or source.stem))
    pages = {"main": "main"}  # DevTools target -> tab name
    held: list[str] = []
    for n, st in enumerate(data["steps"], 1):
        where = f"step {n}"
        if not isinstance(st, dict) or not isinstance(st.get("type"), str):
            raise b.error(where, "field 'type': missing; every step needs a type such as 'click'")
        t = st["type"]
        target = st.get("target") or "main"
        if target not in pages:
            if not b.steps:
                raise b.error(where, f"field 'target': the tab {target!r} was never opened by an earlier step")
            pages[target] = b.open_popup()
        page = pages[target]
        frame = frame_path(b, where, st.get("frame"))
        sels = st.get("selectors")
        locs: list[Locator] = []
        if t in ("click", "doubleClick", "change", "hover", "waitForElement"):
            if not isinstance(sels, list) or not sels:
                raise b.error(where, f"field 'selectors': a '{t}' step needs a list of selectors")
            locs = rank([selector_locator(s, frame) for s in sels])
            if not locs:
                raise b.error(where, "field 'selectors': none of the selectors can be used (unknown kinds)")
        tgt = {"target": locs[0], "fallbacks": locs[1:]} if locs else {}
        if t == "setViewport":
            try:
                vp = Viewport(width=int(st["width"]), height=int(st["height"]))
            except (KeyError, TypeError, ValueError):
                raise b.error(where, "fields 'width'/'height': a setViewport step needs width and height "
                                     "between 320x240 and 3840x2160") from None
            if b.viewport is None and not b.steps:
                b.viewport = vp
            else:
                b.note(where, "a later viewport change is not replayed; the workflow keeps one viewport", True)
        elif t == "navigate":
            if not isinstance(st.get("url"), str):
                raise b.error(where, "field 'url': a navigate step needs a URL")
            b.navigate(where, st["url"], page)
        elif t in ("click", "doubleClick"):
            if st.get("button") in ("secondary", "auxiliary", "back", "forward"):
                b.note(where, f"a {st['button']}-button click has no workflow equivalent; left out", True)
                continue
            b.add(where, action="click" if t == "click" else "dblclick", **tgt, **b.on_page(page))
        elif t == "hover":
            b.add(where, action="hover", **tgt, **b.on_page(page))
        elif t == "change":
            b.fill(where, locs, str(st.get("value", "")), page)
        elif t == "keyDown":
            key = st.get("key")
            if not isinstance(key, str) or not key:
                raise b.error(where, "field 'key': a keyDown step needs a key, e.g. \"Enter\"")
            if key in MODIFIERS:
                held.append(key)
            else:
                b.add(where, action="press", key="+".join(held + [key]), **b.on_page(page))
        elif t == "keyUp":
            if st.get("key") in held:
                held.remove(st["key"])
        elif t == "waitForElement":
            if st.get("operator", "==") != "==" or st.get("count", 1) != 1 or st.get("visible") is False:
                b.note(where, "waitForElement with a count/operator is replayed as waiting for one element")
            b.add(where, action="wait_for", **tgt, **b.on_page(page))
        elif t == "scroll":
            b.note(where, "scroll steps are not needed: replay scrolls each target into view; left out")
        elif t == "close":
            b.close_page(where, page)
        else:
            b.note(where, f"step type '{t}' is not supported by guidecast; left out", True)
    return b.result()
