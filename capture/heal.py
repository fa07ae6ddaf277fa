"""Locators healed in the workflow file by a refresh.

When none of a step's locators matched and the replay found the step's element by its other traits
(`capture.rediscover`: a renamed button, a relabelled field), the refresh that publishes that replay writes
the locator that found it into the workflow as the step's `target`, the old target becoming its first
fallback, so the next check finds the element at once (and says "unchanged", not "renamed" again). Only a
locator a person would write (role and name, test id, label) is written; an element found only by its place
on the page is left to the person. Like `capture.stepids`, a ruamel.yaml round trip: the person's comments,
order and layout stay.
"""
from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from guidecast.capture.bundle import CaptureBundle
from guidecast.capture.stepids import _round_trip
from guidecast.capture.workflow import Locator
from guidecast.kernel.files import atomic_write_text

WRITABLE = ("role", "test_id", "label")  # kinds of locator a refresh writes on its own


def healed_locators(bundle: CaptureBundle) -> dict[str, Locator]:
    """Step id -> the locator that found its element by its other traits, for steps found that way."""
    return {s.id: s.locator for s in bundle.steps
            if s.rediscovered and s.locator is not None and any(getattr(s.locator, k) for k in WRITABLE)}


def as_yaml(loc: Locator) -> CommentedMap:
    """The locator as a person writes it: only the keys that say something."""
    data = loc.model_dump(exclude_defaults=True)
    return CommentedMap((k, data[k]) for k in ("role", "name", "label", "test_id", "nth", "frame") if k in data)


def heal_workflow(path: Path, healed: dict[str, Locator]) -> list[str]:
    """Write `healed` into the workflow file at `path`; returns the ids of the steps written (none when the
    file is JSON, unreadable as a list of steps with ids, or read-only: the workflow then stays as it was)."""
    if not healed or not path.is_file():
        return []
    text = path.read_text("utf-8")
    if text.lstrip().startswith(("{", "[")):
        return []
    yaml = _round_trip(text)
    try:
        data = yaml.load(text)
    except YAMLError:
        return []
    steps = data.get("steps") if isinstance(data, CommentedMap) else None
    if not isinstance(steps, CommentedSeq):
        return []
    written = []
    for step in steps:
        if not isinstance(step, CommentedMap) or step.get("id") not in healed or "target" not in step:
            continue
        new = as_yaml(healed[step["id"]])
        old = step["target"]
        if dict(old) == dict(new):
            continue
        step["target"] = new
        fallbacks = step.get("fallbacks")
        if not isinstance(fallbacks, CommentedSeq):
            fallbacks = CommentedSeq()
        if not any(isinstance(f, dict) and dict(f) == dict(old) for f in fallbacks):
            fallbacks.insert(0, old)
        step["fallbacks"] = fallbacks
        written.append(step["id"])
    if not written:
        return []
    out = io.StringIO()
    yaml.dump(data, out)
    try:
        atomic_write_text(path, out.getvalue())
    except OSError:
        return []
    return written
