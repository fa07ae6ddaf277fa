"""Importing recordings made with other tools into the workflow format.

    result = import_recording("recording.json")   # Chrome DevTools Recorder JSON or Selenium IDE .side
    result.workflow, result.issues, result.env_vars
"""
from __future__ import annotations

import json
from pathlib import Path

from guidecast.capture.imports.common import ImportFormatError, ImportResult, Issue
from guidecast.capture.imports.devtools import import_devtools, is_devtools
from guidecast.capture.imports.selenium import import_selenium, is_selenium
from guidecast.kernel.inputs import InputError, read_text

__all__ = ["ImportFormatError", "ImportResult", "Issue", "import_recording"]


def import_recording(path: str | Path, *, test: str | None = None) -> ImportResult:
    """Read a recording file and convert it; raises ImportFormatError with file, step and field."""
    p = Path(path)
    try:
        text = read_text(p, "recording file")
    except InputError as e:
        raise ImportFormatError(str(e)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFormatError(f"{p}: line {e.lineno}, column {e.colno}: not valid JSON: {e.msg}") from None
    except RecursionError:
        raise ImportFormatError(f"{p}: the JSON is nested too deeply to be a recording") from None
    if is_selenium(data):
        return import_selenium(data, p, test)
    if is_devtools(data):
        if test is not None:
            raise ImportFormatError(f"{p}: --test applies to Selenium IDE projects; this is a DevTools recording")
        return import_devtools(data, p)
    raise ImportFormatError(
        f"{p}: unknown recording format: expected a Chrome DevTools Recorder recording (an object with a "
        "'steps' list) or a Selenium IDE project (.side, an object with a 'tests' list)"
    )
