"""User-facing errors shared by every stage.

A `GuidecastError` is a mistake the user can fix (bad file, missing tool, unreachable app):
the CLI prints its message on one line and exits non-zero, never with a traceback.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class GuidecastError(Exception):
    """An error caused by input or environment, with a message that says what to do."""

    exit_code = 2


class WorkflowError(GuidecastError):
    """The workflow file is malformed."""


class CaptureError(GuidecastError):
    """Replaying the workflow in the browser failed."""


def describe_validation_error(source: str | Path, err: ValidationError, steps_key: str = "steps") -> str:
    """One readable line per problem: `file: step 3 (field 'target'): what is wrong`."""
    lines = []
    for e in err.errors():
        loc = list(e["loc"])
        where = []
        if len(loc) >= 2 and loc[0] == steps_key and isinstance(loc[1], int):
            where.append(f"step {loc[1] + 1}")
            loc = loc[2:]
        # pydantic puts the union tag / model name in the path; drop non-field parts
        fields = [str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper())]
        if fields:
            where.append("field '" + ".".join(fields) + "'")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{source}: {', '.join(where) or 'top level'}: {msg}")
    return "\n".join(lines)
