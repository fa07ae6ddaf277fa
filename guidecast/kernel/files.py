"""Safe file output shared by every stage: nothing already saved is lost when a run fails.

Scratch entries (staging folders, half-written files, cache temporaries) are named `.<kind>.p<pid>.<rest>`
after the process that owns them; `sweep_scratch` removes those whose process is gone, so a killed run
leaves nothing the next run does not clean up. One scheme for every stage.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from guidecast.kernel.errors import GuidecastError

_SCRATCH = re.compile(r"^\.(?P<kind>.+?)\.p(?P<pid>\d+)\.")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What a published file or folder gets: the usual modes under the process's umask (644/755 under 022), not
# the private 600/700 that temporary names are created with. Read once: setting the umask is process-wide.
UMASK = _umask()
FILE_MODE = 0o666 & ~UMASK
DIR_MODE = 0o777 & ~UMASK


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pid_alive(pid: int) -> bool:
    """Is process `pid` still running (on this machine)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch_prefix(kind: str) -> str:
    """The name prefix of a scratch entry of `kind` owned by this process."""
    return f".{kind}.p{os.getpid()}."


def sweep_scratch(folder: Path, kind: str | None = None) -> None:
    """Delete the scratch entries in `folder` (of `kind`, or of any kind) whose process is gone. A swap that
    was killed half-way (the old `kind` moved aside, the new one not yet in place) is undone first: the old
    folder goes back where it was."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir(), key=lambda q: not q.name.endswith(".old")):
        m = _SCRATCH.match(p.name)
        if not m or (kind is not None and m.group("kind") != kind):
            continue
        pid = int(m.group("pid"))
        if pid == os.getpid() or pid_alive(pid):
            continue
        name = m.group("kind")
        if p.name.endswith(".old") and (p / name).exists() and not (folder / name).exists():
            os.replace(p / name, folder / name)  # killed between the two renames of staged_dir
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def recover(target: Path) -> None:
    """Put `target` back if a killed writer left it moved aside (see `sweep_scratch`); cheap when it is there."""
    target = Path(target)
    if not target.exists():
        sweep_scratch(target.parent, target.name)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, FILE_MODE)
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


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces `target` whole, on failure it is removed
    and `target` stays as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_scratch(target.parent, target.name)
    stage = Path(tempfile.mkdtemp(prefix=scratch_prefix(target.name), suffix=".staging", dir=target.parent))
    os.chmod(stage, DIR_MODE)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=scratch_prefix(target.name), suffix=".old", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class FolderBusy(GuidecastError):
    """Another guidecast process is writing the same folder."""


@contextmanager
def folder_lock(target: Path, what: str = "folder") -> Iterator[None]:
    """Hold the writer's lock of `target` (a lock file beside it) for the block; a second writer is refused at
    once with the first one's process id. The lock ends with the process, however it ends."""
    import fcntl

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            raise FolderBusy(f"{target}: another guidecast ({holder}) is writing this {what} now; wait for it to "
                             "finish, or write somewhere else") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
