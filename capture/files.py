"""Safe file output shared by every stage: nothing already saved is lost when a run fails."""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from capture.errors import GuidecastError, describe_validation_error


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def store_content_addressed(folder: Path, data: bytes, suffix: str) -> str:
    """Store `data` under its hash in `folder`; returns the file name."""
    name = sha256_bytes(data)[:32] + suffix
    target = Path(folder) / name
    if not target.exists():
        atomic_write_bytes(target, data)
    return name


def _remove_abandoned_stages(target: Path) -> None:
    """Staging folders left by a run that was killed (its process is gone) are removed."""
    for old in target.parent.glob(f".{glob.escape(target.name)}.*.staging"):
        pid = old.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Is process `pid` still running (on this machine)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces `target` whole, on failure it is removed
    and `target` stays as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_stages(target)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".staging", dir=target.parent))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


M = TypeVar("M", bound=BaseModel)


def write_model(model: BaseModel, folder: Path, filename: str) -> Path:
    """Save a stage's model as indented JSON in `folder` (atomically)."""
    path = Path(folder) / filename
    atomic_write_text(path, model.model_dump_json(indent=2))
    return path


def read_model(cls: type[M], where: str | Path, filename: str, missing: str) -> M:
    """Load a stage's model from a folder (or the file itself); user-facing errors name the file and field.

    `missing` says what to do when the file is not there, e.g. "run `guidecast capture WORKFLOW` first"."""
    d = Path(where)
    path = d / filename if d.is_dir() else d
    if not path.exists():
        raise GuidecastError(f"{path}: {missing}")
    try:
        return cls.model_validate_json(path.read_text("utf-8"))
    except ValidationError as e:
        raise GuidecastError(describe_validation_error(path, e)) from None
