"""Checking what people upload before anything else reads it.

Zip archives: bounded file count and total uncompressed size (counted while extracting, not trusted
from the headers), no absolute or `..` names, no links. Screenshots must be real PNGs (magic bytes and a
full decode by Pillow). Uploads larger than the configured limit never reach here (HTTP 413, see
server/web.py BodyLimit).
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from guidecast.capture.bundle import SCREENSHOT_DIR, CaptureBundle, load_capture
from guidecast.kernel.errors import GuidecastError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHUNK = 1 << 16
MAX_IMAGE_PIXELS = 40_000_000


class UploadError(GuidecastError):
    """The upload is not acceptable (HTTP 400, or `status` when set)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.http_status = status


def _safe_name(name: str) -> PurePosixPath:
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        raise UploadError(f"refused: the archive entry {name!r} has an absolute or Windows path")
    p = PurePosixPath(name)
    if any(part in ("..", "") for part in p.parts if part != "/") or ".." in p.parts:
        raise UploadError(f"refused: the archive entry {name!r} points outside the archive (..)")
    return p


def safe_extract(archive: Path, dest: Path, *, max_bytes: int, max_files: int) -> Path:
    """Extract `archive` into `dest` within the limits; raises UploadError on anything suspicious."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise UploadError("not a zip archive") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_files:
            raise UploadError(f"refused: the archive has {len(infos)} entries (limit {max_files})", 413)
        if sum(i.file_size for i in infos) > max_bytes:
            raise UploadError(f"refused: the archive unpacks to more than {max_bytes} bytes", 413)
        written = 0
        for info in infos:
            rel = _safe_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UploadError(f"refused: the archive entry {info.filename!r} is a symbolic link")
            target = dest.joinpath(*rel.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UploadError(f"refused: the archive unpacks to more than {max_bytes} bytes", 413)
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as e:
                raise UploadError(f"the archive entry {info.filename!r} cannot be read: {e}") from None
    return dest


def find_root(folder: Path, marker: str) -> Path | None:
    """The folder holding `marker`: the archive's top level or its single top folder."""
    if (folder / marker).is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    if len(subs) == 1 and (subs[0] / marker).is_file():
        return subs[0]
    return None


def check_png(path: Path, what: str) -> None:
    from PIL import Image

    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        raise UploadError(f"{what}: missing") from None
    if head != PNG_MAGIC:
        raise UploadError(f"{what}: not a PNG image")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise UploadError(f"{what}: image too large ({im.width}x{im.height})")
            im.verify()
        with Image.open(path) as im:
            im.load()
    except UploadError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure means a broken or hostile file
        raise UploadError(f"{what}: not a valid PNG image ({type(e).__name__})") from None


def _load(loader, folder: Path, what: str):
    try:
        return loader(folder)
    except GuidecastError as e:
        raise UploadError(f"{what}: {e}") from None


def _check_images(folder: Path, rels: list[str], what: str) -> None:
    for rel in rels:
        _safe_name(rel)
        check_png(folder / rel, f"{what} {rel}")


def check_capture(folder: Path) -> CaptureBundle:
    """Validate a capture bundle folder: capture.json parses and every screenshot is a real PNG."""
    bundle = _load(load_capture, folder, "capture.json")
    names = [s.screenshot for s in bundle.steps] + ([bundle.final_screenshot] if bundle.final_screenshot else [])
    _check_images(folder, [f"{SCREENSHOT_DIR}/{n}" for n in names], "screenshot")  # names: plain (the model checks)
    return bundle


def check_guide(folder: Path):
    from guidecast.composer.guide import load_guide

    guide = _load(load_guide, folder, "guide.json")
    _check_images(folder, [s.image for s in guide.steps if s.image] + ([guide.final_image] if guide.final_image else []),
                  "guide image")
    return guide


def check_video(folder: Path):
    from guidecast.narration.manifest import load_manifest

    m = _load(load_manifest, folder, "video.json")
    for rel in m.files.values():
        _safe_name(rel)
        if not (folder / rel).is_file():
            raise UploadError(f"video: {rel} is missing")
    with open(folder / m.files["video"], "rb") as f:
        if f.read(12)[4:8] != b"ftyp":
            raise UploadError("video: not an MP4 file")
    return m
