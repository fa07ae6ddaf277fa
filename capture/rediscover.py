"""Find the element a step recorded when none of its locators matches any more (a renamed button, a
relabelled field): by its other recorded traits, role, test id, stable attributes (id, name, link
address), its context (placeholder, column, row, group, the text before it, its position), whether it
sits in a dialog or menu, and its box. `rediscovery.js` scores every visible element of the same role (or
test id) in the page; the best one counts only when it scores well and clearly beats the runner-up, so an
element that is really gone stays gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guidecast.capture.bundle import ElementInfo
from guidecast.capture.locate import probe, script, to_playwright
from guidecast.capture.workflow import Locator

MIN_SCORE = 5.0  # e.g. the role, the place on the page and one more trait
MARGIN = 1.5  # the best candidate beats the runner-up by this much


@dataclass
class Found:
    pw: Any  # the Playwright locator of the element
    locator: Locator  # how to find it now (role + name, test id or label when unique, else its XPath)
    facts: dict  # its description (capture.locate.probe)
    traits: list[str]  # the recorded traits it matched ("test id", "role", "place on the page", ...)


def rediscover(page, recorded: ElementInfo, frames: list[str]) -> Found | None:
    """The one element of the page that is the recorded one, or None. Top-level documents only."""
    if frames or not (recorded.role or recorded.test_id):
        return None
    best = page.evaluate(script("rediscover.js"), recorded.model_dump(mode="json"))
    if not best or best["score"] < MIN_SCORE or best["score"] - best["second"] < MARGIN:
        return None
    by_path = Locator(xpath=best["xpath"])
    pw = to_playwright(page, by_path)
    count, facts = probe(pw)
    if count != 1 or facts is None:
        return None
    return Found(pw, _nicer(page, facts["info"]) or by_path, facts, list(best["matched"]))


def _nicer(page, info: dict) -> Locator | None:
    """A locator a person would write for the element, if one finds it alone."""
    options = []
    if info.get("role") and info.get("name"):
        options.append(Locator(role=info["role"], name=info["name"]))
    if info.get("test_id"):
        options.append(Locator(test_id=info["test_id"]))
    if info.get("label"):
        options.append(Locator(label=info["label"]))
    for loc in options:
        if probe(to_playwright(page, loc))[0] == 1:
            return loc
    return None
