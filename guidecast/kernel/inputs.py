"""Reading what a user hands guidecast, within budgets: regular files only, a size limit, YAML without
runaway nesting or alias expansion, pictures that decode within a pixel budget. Every refusal is a
`GuidecastError` naming the file and what to do."""
from __future__ import annotations

import io
import stat
import struct
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, UnidentifiedImageError

from guidecast.kernel.errors import GuidecastError

MAX_INPUT_BYTES = 20 * 1024 * 1024  # a workflow, recording, edit layer or bundle model
MAX_DEPTH = 64  # nesting of YAML/JSON a person writes (a workflow nests 4 deep)
MAX_ALIASES = 200  # YAML aliases (*name): a handful in a hand-written file; thousands is an attack
MAX_NODES = 200_000
MAX_PIXELS = 40_000_000  # one picture: 6000x6000 and a bit more; a 4K retina screenshot is 33 M
MIN_SIDE = 2


class InputError(GuidecastError):
    """An input file that cannot be used as it is."""


def read_input(path: Path | str, what: str, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file, refused when it is a folder, a FIFO or device, unreadable or too big."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{p}: no such {what}") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read the {what}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{p}: is a folder; name a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{p}: not a regular file (a pipe or device); save the {what} to a file first")
    if st.st_size > max_bytes:
        raise InputError(f"{p}: the {what} is {st.st_size // (1024 * 1024)} MB; at most {max_bytes // (1024 * 1024)} MB")
    try:
        return p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read the {what}: {e.strerror}") from None


def read_text(path: Path | str, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    raw = read_input(path, what, max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: the {what} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None


class _BudgetLoader(yaml.SafeLoader):
    """SafeLoader that counts: nesting depth, aliases, and values as they would be expanded (an alias counts
    as many values as it stands for, so a "billion laughs" file is refused before anything walks it)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._expanded = 0
        self._weight: dict[int, int] = {}

    def _over(self, message: str) -> yaml.YAMLError:
        mark = self.peek_event().start_mark if self.check_event() else None  # type: ignore[no-untyped-call]
        return yaml.YAMLError((f"line {mark.line + 1}: " if mark else "") + message)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise self._over(f"more than {MAX_ALIASES} aliases (*name); write the values out")
            node = super().compose_node(parent, index)
            self._count(self._weight.get(id(node), 1))
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._over(f"nested more than {MAX_DEPTH} levels deep")
            before = self._expanded
            node = super().compose_node(parent, index)
            self._count(1)
            self._weight[id(node)] = self._expanded - before
            return node
        finally:
            self._depth -= 1

    def _count(self, n: int) -> None:
        self._expanded += n
        if self._expanded > MAX_NODES:
            raise self._over(f"more than {MAX_NODES} values once aliases are expanded; write a smaller file")


def load_yaml(text: str) -> Any:
    """YAML (or JSON) within the budgets; raises yaml.YAMLError (with a line where known) otherwise."""
    loader = _BudgetLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def check_image(data: bytes | Path, what: str, source: Path | str | None = None,
                max_pixels: int = MAX_PIXELS, whole: bool = True) -> tuple[int, int]:
    """The picture's size, refused like `open_image` refuses; `whole`: its data checked too (chunks and
    checksums, without decoding), else only its header (for a picture read again right after)."""
    im = open_image(data, what, source, max_pixels, verify=whole, header_only=not whole)
    return im.size


def open_image(data: bytes | Path, what: str, source: Path | str | None = None,
               max_pixels: int = MAX_PIXELS, verify: bool = False, header_only: bool = False) -> Image.Image:
    """A decoded picture (loaded, so decoding errors surface here), refused with a clear message when it is
    not a picture, is damaged, is smaller than MIN_SIDE or larger than `max_pixels`. With `verify`, the file is
    checked whole (chunks, checksums) but not decoded; the image returned then only tells its size."""
    where = source if source is not None else (data if isinstance(data, Path) else what)
    try:
        im = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        w, h = im.size
        if w * h > max_pixels:
            raise InputError(f"{where}: the {what} is {w}x{h} pixels; at most {max_pixels // 1_000_000} megapixels")
        if w < MIN_SIDE or h < MIN_SIDE:
            raise InputError(f"{where}: the {what} is {w}x{h} pixels, too small to show anything")
        if verify:
            im.verify()
        elif not header_only:
            im.load()
        return im
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{where}: the {what} is missing; make the bundle again") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError,
            struct.error, EOFError) as e:
        raise InputError(f"{where}: the {what} is not a readable image ({type(e).__name__}); make the bundle "
                         "again") from None
