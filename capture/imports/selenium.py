"""Selenium IDE projects (.side JSON) -> workflow.

A project is `{"version": "2.0", "name", "url", "tests": [{"name", "commands": [...]}], ...}`; a
command is `{"command", "target", "targets": [[locator, strategy], ...], "value"}`. Locators are
`id=`, `name=`, `css=`, `xpath=` (or a bare `//...`), `linkText=`, `partialLinkText=`.
Windows: a click with `opensWindow: true` and `windowHandleName` opens a popup that
`selectWindow handle=${name}` switches to (`${root}` is the first window). Frames: `selectFrame`
with `index=N`, `id=`/`name=`/`css=`, `relative=parent` and `relative=top`.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from pydantic import ValidationError

from guidecast.capture.imports.common import Builder, ImportFormatError, ImportResult, css_locator, rank
from guidecast.capture.workflow import Locator, Viewport

KEYS = {
    "ENTER": "Enter", "RETURN": "Enter", "TAB": "Tab", "ESC": "Escape", "ESCAPE": "Escape",
    "BACKSPACE": "Backspace", "BACK_SPACE": "Backspace", "DELETE": "Delete", "DEL": "Delete",
    "UP": "ArrowUp", "DOWN": "ArrowDown", "LEFT": "ArrowLeft", "RIGHT": "ArrowRight", "HOME": "Home",
    "END": "End", "PAGE_UP": "PageUp", "PAGEUP": "PageUp", "PAGE_DOWN": "PageDown", "PAGEDOWN": "PageDown",
    "SPACE": "Space",
}
_KEY = re.compile(r"\$\{KEY_([A-Z_]+)\}")
SKIPPED = {"pause": "pauses are not needed: replay waits until the page is ready",
           "setSpeed": "replay speed is not part of a workflow", "echo": "echo only prints"}


def is_selenium(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("tests"), list)


def selenium_locator(target: str, frame: list[str]) -> Locator | None:
    """The locator, or None where the recording's selector has no workflow equivalent (empty, or not one the
    workflow model accepts)."""
    try:
        return _selenium_locator(target, frame)
    except ValidationError:
        return None


def _selenium_locator(target: str, frame: list[str]) -> Locator | None:
    if not isinstance(target, str) or not target:
        return None
    kind, _, rest = target.partition("=")
    if target.startswith(("//", "(/")):
        return Locator(xpath=target, frame=frame)
    if kind == "id":
        return Locator(css=f'[id="{rest}"]' if re.search(r"[^\w-]", rest) else f"#{rest}", frame=frame)
    if kind == "name":
        return Locator(css=f'[name="{rest}"]', frame=frame)
    if kind == "css":
        return css_locator(rest, frame)
    if kind == "xpath":
        return Locator(xpath=rest, frame=frame)
    if kind == "linkText":
        return Locator(role="link", name=rest, frame=frame)
    if kind == "partialLinkText":
        return Locator(role="link", name=rest, exact=False, frame=frame)
    return None


def import_selenium(data: dict, source: Path, test: str | None = None) -> ImportResult:
    tests = [t for t in data["tests"] if isinstance(t, dict)]
    if not tests:
        raise ImportFormatError(f"{source}: field 'tests': the project has no tests to import")
    names = [str(t.get("name")) for t in tests]
    if test is not None:
        if test not in names:
            raise ImportFormatError(f"{source}: --test {test!r}: no such test; the project has: {', '.join(names)}")
        chosen = tests[names.index(test)]
    else:
        chosen = tests[0]
    b = Builder(source, f"{data.get('name') or source.stem}: {chosen.get('name')}" if len(tests) > 1
                else str(chosen.get("name") or data.get("name") or source.stem))
    if test is None and len(tests) > 1:
        b.note("top level", f"the project has {len(tests)} tests; imported the first, {names[0]!r} "
                            "(choose another with --test NAME)")
    base = data.get("url") or ""
    windows = {"root": "main"}  # windowHandleName -> tab name
    frames: list[str] = []
    page = "main"
    commands = chosen.get("commands")
    if not isinstance(commands, list):
        raise ImportFormatError(f"{source}: test {chosen.get('name')!r}, field 'commands': expected a list")
    for n, cmd in enumerate(commands, 1):
        where = f"test {chosen.get('name')!r}, command {n}"
        if not isinstance(cmd, dict):
            raise b.error(where, "expected an object with 'command', 'target' and 'value'")
        c, target, value = cmd.get("command") or "", cmd.get("target") or "", cmd.get("value") or ""
        if not c or c.startswith("//"):  # empty rows and commented-out commands
            continue
        where += f" ({c})"
        targets = [target] + [t[0] for t in cmd.get("targets") or [] if isinstance(t, list) and t]
        locs = rank([selenium_locator(t, list(frames)) for t in targets])
        tgt: dict[str, object] = {"target": locs[0], "fallbacks": locs[1:]} if locs else {}
        needs_target = c in ("click", "clickAt", "doubleClick", "doubleClickAt", "type", "select", "check",
                             "uncheck", "mouseOver", "waitForElementVisible", "waitForElementPresent")
        if needs_target and not tgt:
            raise b.error(where, f"field 'target': {target!r} is not a locator guidecast understands "
                                 "(id=, name=, css=, xpath=, linkText=, partialLinkText=)")
        on = b.on_page(page) if c not in ("open", "selectFrame", "selectWindow", "setWindowSize") else {}
        if c == "open":
            b.navigate(where, urljoin(base, target) if base else target, page)
        elif c in ("click", "clickAt"):
            b.add(where, action="click", **tgt, **on)
            if cmd.get("opensWindow"):
                windows[str(cmd.get("windowHandleName") or f"win{n}")] = b.open_popup()
                page = b.current_page
        elif c in ("doubleClick", "doubleClickAt"):
            b.add(where, action="dblclick", **tgt, **on)
        elif c == "type":
            b.fill(where, locs, value, page)
        elif c == "sendKeys":
            _send_keys(b, where, locs, value, page)
        elif c == "select":
            kind, _, option = value.partition("=")
            if kind not in ("label", "value"):
                b.note(where, f"option locator {value!r} is not supported (use label= or value=); left out", True)
                continue
            b.add(where, action="select", value=option, **tgt, **on)
        elif c in ("check", "uncheck"):
            b.add(where, action=c, **tgt, **on)
        elif c == "mouseOver":
            b.add(where, action="hover", **tgt, **on)
        elif c in ("waitForElementVisible", "waitForElementPresent"):
            b.add(where, action="wait_for", **tgt, **on)
        elif c == "selectFrame":
            frames = _select_frame(b, where, frames, target)
        elif c == "selectWindow":
            handle = re.fullmatch(r"handle=\$\{(\w+)\}", target)
            if not handle or handle.group(1) not in windows:
                raise b.error(where, f"field 'target': {target!r} names a window that no earlier command opened "
                                     f"(known: {', '.join('${' + w + '}' for w in windows)})")
            page = windows[handle.group(1)]
        elif c == "close":
            b.close_page(where, page)
            page = b.current_page
        elif c == "setWindowSize":
            m = re.fullmatch(r"(\d+)x(\d+)", target)
            if not m:
                raise b.error(where, f"field 'target': {target!r} is not a size like 1280x800")
            b.viewport = Viewport(width=max(320, int(m.group(1))), height=max(240, int(m.group(2))))
        elif c in SKIPPED:
            b.note(where, SKIPPED[c] + "; left out")
        else:
            b.note(where, f"command '{c}' is not supported by guidecast; left out", True)
    return b.result()


def _select_frame(b: Builder, where: str, frames: list[str], target: str) -> list[str]:
    if target == "relative=top":
        return []
    if target == "relative=parent":
        if not frames:
            raise b.error(where, "field 'target': relative=parent names a frame that does not exist "
                                 "(already at the top document)")
        return frames[:-1]
    m = re.fullmatch(r"index=(\d+)", target)
    if m:
        return frames + [f"iframe >> nth={m.group(1)}"]
    loc = selenium_locator(target, [])
    if loc is None or not (loc.css or loc.xpath):
        raise b.error(where, f"field 'target': {target!r} does not name a frame (index=N, id=, name=, css=, "
                             "relative=parent, relative=top)")
    return frames + [loc.css or f"xpath={loc.xpath}"]


def _send_keys(b: Builder, where: str, locs: list[Locator], value: str, page: str) -> None:
    parts = [p for p in _KEY.split(value) if p]
    keys = _KEY.findall(value)
    text = _KEY.sub("", value)
    unknown = [k for k in keys if k not in KEYS]
    if unknown:
        b.note(where, f"keys {', '.join(unknown)} are not supported; left out", True)
    if text and locs:
        b.note(where, "sendKeys with text is replayed as filling the field with that text")
        b.fill(where, locs, text, page)
    for k in keys:
        if k in KEYS:
            tgt = {"target": locs[0], "fallbacks": locs[1:]} if locs else {}
            b.add(where, action="press", key=KEYS[k], **tgt, **b.on_page(page))
    if not parts:
        b.note(where, "sendKeys without keys does nothing; left out")

