"""Paths that come from users and bundles, kept where they belong.

- `safe_name`: a file or step name read from a bundle or workflow is one plain name (letters, digits, `.`, `_`,
  `-`; no separators, no `..`; at most MAX_NAME characters), checked at the model boundary.
- `inside`: a name joined to its bundle folder resolves inside it (symlinks included), or the bundle is refused
  before anything is read or written.
- `check_output`: an output (`-o`) is never an input, never holds one and never sits inside one; an existing
  folder is replaced only when guidecast wrote it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from guidecast.kernel.errors import GuidecastError

MAX_NAME = 120
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UnsafePath(GuidecastError):
    """A path in a bundle or on the command line points where it must not."""


def safe_name(value: str, what: str = "name") -> str:
    """`value` if it is one plain file or step name; else ValueError saying what it may be."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} is empty")
    if len(value) > MAX_NAME:
        raise ValueError(f"{what} is {len(value)} characters long; at most {MAX_NAME}")
    if not _NAME.match(value) or ".." in value:
        raise ValueError(f"{what} {value!r} may hold only letters, digits, '.', '_' and '-' (no folders, no '..')")
    return value


def safe_relative(value: str, what: str = "path") -> str:
    """`value` if it is a relative path of plain names (`images/01-sign-in.png`); else ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} is empty")
    parts = value.split("/")
    if value.startswith("/") or "\\" in value:
        raise ValueError(f"{what} {value!r} must be relative, with '/' between names")
    for p in parts:
        safe_name(p, what)
    return value


def inside(base: Path, name: str, *, what: str, source: Path | str) -> Path:
    """`base / name`, refused (naming `source` and `what`) unless it resolves inside `base`."""
    base_r = Path(base).resolve()
    target = (base_r / name).resolve()
    if target != base_r and base_r not in target.parents:
        raise UnsafePath(f"{source}: {what} {name!r} points outside {base}; the bundle is damaged or was edited "
                         "by hand: make it again with guidecast")
    return target


def relative_path(target: Path | str, start: Path | str) -> str:
    """`target` as recorded in a bundle at `start`: relative (the two move together), absolute when they are on
    different roots."""
    import os

    t, s = Path(target).resolve(), Path(start).resolve()
    try:
        return os.path.relpath(t, s)
    except ValueError:
        return str(t)


def resolve_recorded(recorded: str, start: Path | str) -> Path:
    """A path `relative_path` recorded, read back from the bundle at `start` (absolute ones as they are)."""
    p = Path(recorded)
    return p if p.is_absolute() else (Path(start) / p).resolve()


def _related(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_output(out: Path | str, inputs: Iterable[Path | str | None], *, flag: str = "output", folder: bool = True,
                 ours: Iterable[str] | None = ()) -> None:
    """Refuse an output that would destroy an input or someone's files.

    `out` may not be an input, hold one or sit inside one. For a folder output (`folder`), an existing file is
    refused, and an existing folder is replaced only when it is empty or holds one of `ours` (the model file or
    marker guidecast writes there); `ours=None`: the caller checks ownership itself."""
    out_r = Path(out).resolve()
    for given in inputs:
        if given is None:
            continue
        src = Path(given).resolve()
        if _related(out_r, src):
            where = "is" if out_r == src else ("holds" if out_r in src.parents else "is inside")
            raise UnsafePath(f"{flag} {out}: the output {where} the input {given}; write the output somewhere "
                             "else (nothing was changed)")
    for up in out_r.parents:
        if up.exists():
            if not up.is_dir():
                raise UnsafePath(f"{flag} {out}: {up} is a file, so nothing can be written under it")
            break
    if not folder:
        if out_r.is_dir():
            raise UnsafePath(f"{flag} {out}: is a folder; name the file to write")
        return
    if out_r.exists() and not out_r.is_dir():
        raise UnsafePath(f"{flag} {out}: is a file; name a folder to write (nothing was changed)")
    if ours is not None and out_r.is_dir() and any(out_r.iterdir()) and not any((out_r / m).exists() for m in ours):
        raise UnsafePath(f"{flag} {out}: the folder exists and holds files guidecast did not write; name a new or "
                         "empty folder (nothing was changed)")


SafeName = Annotated[str, AfterValidator(lambda v: safe_name(v, "the name"))]
SafeRelPath = Annotated[str, AfterValidator(lambda v: safe_relative(v, "the path"))]
