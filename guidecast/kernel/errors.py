"""User-facing errors shared by every stage.

A `GuidecastError` is a mistake the user can fix (bad file, missing tool, unreachable app): the CLI prints
its message on one line and exits non-zero, the server answers with `http_status`, never a traceback.
Subclasses carry what went wrong as fields (the step, the locator, the host), so code decides by type and
field, never by the words of a message.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

MAX_LINES = 20  # problems listed in one message


class GuidecastError(Exception):
    """An error caused by input or environment, with a message that says what to do."""

    exit_code: int = 2
    http_status: int = 400


class WorkflowError(GuidecastError):
    """The workflow file is malformed."""


class CaptureError(GuidecastError):
    """Replaying the workflow in the browser failed."""

    def __init__(self, message: str, *, step: int | None = None, step_id: str | None = None) -> None:
        super().__init__(message)
        self.step = step  # 1-based number of the step that failed, when one did
        self.step_id = step_id

    def with_message(self, message: str) -> CaptureError:
        """The same error (type and fields) saying `message`."""
        other = copy.copy(self)
        other.args = (message,)
        return other


class TargetNotFound(CaptureError):
    """No element matched the step's locator(s) on the page at `url` (titled `page_title`)."""

    def __init__(self, message: str, *, step: int | None = None, step_id: str | None = None,
                 locator: Any = None, url: str | None = None, page_title: str | None = None,
                 near_misses: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, step=step, step_id=step_id)
        self.locator, self.url, self.page_title = locator, url, page_title
        self.near_misses = near_misses or []  # elements named like the target: role, name, locator


class TargetAmbiguous(CaptureError):
    """The step's locator matched several visible elements."""

    def __init__(self, message: str, *, step: int | None = None, step_id: str | None = None,
                 locator: Any = None, count: int = 0, candidates: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, step=step, step_id=step_id)
        self.locator, self.count = locator, count
        self.candidates = candidates or []  # the first matches: role, name and a locator finding just it


class AppUnreachable(CaptureError):
    """The app did not answer (connection refused, DNS, timeout)."""

    def __init__(self, message: str, *, url: str | None = None, step: int | None = None,
                 step_id: str | None = None) -> None:
        super().__init__(message, step=step, step_id=step_id)
        self.url = url


class HostNotAllowed(CaptureError):
    """The replay was sent to a host outside the allowed ones."""

    http_status: int = 403

    def __init__(self, message: str, *, host: str, step: int | None = None, step_id: str | None = None) -> None:
        super().__init__(message, step=step, step_id=step_id)
        self.host = host


class HookFailed(CaptureError):
    """A workflow's setup or teardown hook (a command or a request to the app) failed."""

    def __init__(self, message: str, *, phase: str = "setup", hook: int = 0) -> None:
        super().__init__(message)
        self.phase, self.hook = phase, hook  # "setup" | "teardown", 1-based


class StepRefused(CaptureError):
    """The app refused a step: a validation error, an error page, an HTTP 4xx/5xx answer. `app_message` is what
    the app said (the text on screen, or the status line)."""

    def __init__(self, message: str, *, step: int | None = None, step_id: str | None = None, app_message: str = "",
                 status: int | None = None) -> None:
        super().__init__(message, step=step, step_id=step_id)
        self.app_message, self.status = app_message, status


class ToolMissing(GuidecastError):
    """A program guidecast needs (Chromium, ffmpeg, a voice) is not installed."""

    http_status: int = 503

    def __init__(self, message: str, *, tool: str) -> None:
        super().__init__(message)
        self.tool = tool


class SettingsError(GuidecastError):
    """A GUIDECAST_* setting (or the flag that overrides it) has a value that cannot be used."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class Conflict(GuidecastError):
    """The request does not fit the current state (already done, changed meanwhile)."""

    http_status: int = 409


class NotFound(GuidecastError):
    """What the request names does not exist."""

    http_status: int = 404


def clean_message(msg: str) -> str:
    """pydantic's message without its machine prefixes ("Value error, ", "Assertion failed, ")."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def describe_validation_error(source: str | Path, err: ValidationError, steps_key: str = "steps") -> str:
    """One readable line per problem: `file: step 3 (field 'target'): what is wrong`; the first MAX_LINES, then
    how many more."""
    lines = []
    problems = err.errors()
    for e in problems[:MAX_LINES]:
        loc = list(e["loc"])
        where = []
        if len(loc) >= 2 and loc[0] == steps_key and isinstance(loc[1], int):
            where.append(f"step {loc[1] + 1}")
            loc = loc[2:]
        # pydantic puts the union tag / model name in the path; drop non-field parts
        fields = [str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper())]
        if fields:
            where.append("field '" + ".".join(fields) + "'")
        msg = clean_message(e["msg"])
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{source}: {', '.join(where) or 'top level'}: {msg}")
    if len(problems) > MAX_LINES:
        lines.append(f"{source}: ... and {len(problems) - MAX_LINES} more problems like these")
    return "\n".join(lines)
