"""Checking what people upload before anything else reads it, and keeping only what guidecast uses.

Zip archives: bounded file count and total uncompressed size (counted while extracting, not trusted
from the headers), no absolute or `..` names, no links, no file and folder of the same name.

What is kept of a bundle is decided by its model, never by what the zip held (`Kept`): a capture keeps
`capture.json` and the screenshots its steps name, a guide `guide.json` and the images its steps name, a
video `video.json` and the files it lists. Each kept file is checked for its type (PNG pictures decoded
within a pixel budget counted over the whole upload, MP4, WebVTT, SubRip text). Files guidecast itself
writes but the server makes again (`manifest.json`, `CHANGELOG.md`, `guide.html`, `guide.md`,
`edits.yaml`, `versions/`, archived `captures/`, hidden caches) are dropped; anything else is refused
with its name, so no uploaded page, script or picture of another type is ever stored or served.
Uploads larger than the configured limit never reach here (HTTP 413, see server/web.py BodyLimit).
"""
from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from guidecast.capture.bundle import CAPTURE_FILE, SCREENSHOT_DIR, CaptureBundle, load_capture
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.inputs import InputError, open_image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHUNK = 1 << 16
MAX_IMAGE_PIXELS = 40_000_000  # one picture (kernel.inputs.MAX_PIXELS)
TEXT_LIMIT = 20 * 1024 * 1024  # captions and subtitles
# Names guidecast writes into a build folder that the server does not keep (it makes its own).
DROPPED_FILES = {"manifest.json", "CHANGELOG.md", "guide/guide.html", "guide/guide.md", "guide/edits.yaml"}
DROPPED_FOLDERS = ("captures/", "guide/versions/")
WHAT_A_BUNDLE_HOLDS = ("a capture bundle holds capture.json and screenshots/*.png; a built output folder holds "
                       "manifest.json, capture/, guide/ (guide.json, images/*.png) and video/ (video.json, guide.mp4, "
                       "captions, poster.png)")


class UploadError(GuidecastError):
    """The upload is not acceptable (HTTP 400, or `status` when set); `field`: the form field to fix
    ("file", or "base_url" for the app's address)."""

    def __init__(self, message: str, status: int = 400, field: str = "file"):
        super().__init__(message)
        self.http_status = status
        self.field = field


@dataclass
class Budget:
    """The pixels one upload may make the server decode, over all its pictures and every step that shows
    one (a picture named by 40 steps counts 40 times: each is composed and rendered)."""

    pixels: int
    used: int = 0
    _seen: dict[Path, int] = field(default_factory=dict)

    def charge(self, n: int, what: str) -> None:
        self.used += n
        if self.used > self.pixels:
            raise UploadError(f"refused: {what}: the pictures of this upload come to more than "
                              f"{self.pixels // 1_000_000} megapixels in all; upload fewer or smaller screenshots", 413)


@dataclass
class Kept:
    """The files of a bundle folder the server stores: relative name -> kind (png, json, mp4, vtt, srt)."""

    files: dict[str, str] = field(default_factory=dict)

    def add(self, rel: str, kind: str) -> None:
        _safe_name(rel)
        self.files[rel] = kind

    def under(self, prefix: str) -> Kept:
        return Kept({f"{prefix}/{rel}": kind for rel, kind in self.files.items()})


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
    dest.mkdir(parents=True, exist_ok=True)
    with zf:
        infos = zf.infolist()
        if not any(not i.is_dir() for i in infos):
            raise UploadError("the zip archive is empty; zip the bundle folder with its files")
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
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UploadError(f"refused: the archive unpacks to more than {max_bytes} bytes", 413)
                        out.write(chunk)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise UploadError(f"refused: the archive entry {info.filename!r} clashes with another entry of the "
                                  "same name (a file and a folder, or a name given twice)") from None
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


def check_png(path: Path, what: str, budget: Budget | None = None) -> int:
    """A real PNG that decodes within the per-picture pixel budget; returns its pixel count. A picture
    already checked for this upload is not decoded again (it is still charged to the budget)."""
    if budget is not None and path in budget._seen:
        budget.charge(budget._seen[path], what)
        return budget._seen[path]
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        raise UploadError(f"{what}: missing") from None
    if head != PNG_MAGIC:
        raise UploadError(f"{what}: not a PNG image")
    try:
        with open_image(path, "picture", source=what, max_pixels=MAX_IMAGE_PIXELS, header_only=True) as im:
            pixels = im.width * im.height
        if budget is not None:
            budget.charge(pixels, what)  # before decoding it
        with open_image(path, "picture", source=what, max_pixels=MAX_IMAGE_PIXELS, verify=True):
            pass
        with open_image(path, "picture", source=what, max_pixels=MAX_IMAGE_PIXELS):
            pass
    except InputError as e:
        msg = str(e)
        raise UploadError(msg.replace("is not a readable image", "is not a valid PNG image") if "readable" in msg
                          else msg) from None
    if budget is not None:
        budget._seen[path] = pixels
    return pixels


def _load(loader, folder: Path, what: str):
    try:
        return loader(folder)
    except GuidecastError as e:
        raise UploadError(f"{what}: {str(e).replace(str(folder) + '/', '')}") from None


def _check_images(folder: Path, rels: Iterable[str], what: str, budget: Budget, kept: Kept) -> None:
    for rel in rels:
        _safe_name(rel)
        check_png(folder / rel, f"{what} {rel}", budget)
        kept.add(rel, "png")


def check_capture(folder: Path, budget: Budget | None = None) -> tuple[CaptureBundle, Kept]:
    """Validate a capture bundle folder: capture.json parses and every screenshot is a real PNG."""
    budget = budget or Budget(1 << 62)
    bundle = _load(load_capture, folder, "capture.json")
    kept = Kept({CAPTURE_FILE: "json"})
    names = [s.screenshot for s in bundle.steps] + ([bundle.final_screenshot] if bundle.final_screenshot else [])
    _check_images(folder, [f"{SCREENSHOT_DIR}/{n}" for n in names], "screenshot", budget, kept)
    return bundle, kept


def check_guide(folder: Path, budget: Budget | None = None):
    from guidecast.composer.guide import GUIDE_FILE, load_guide

    budget = budget or Budget(1 << 62)
    guide = _load(load_guide, folder, "guide.json")
    kept = Kept({GUIDE_FILE: "json"})
    images = [im for s in guide.steps for im in (s.image, s.video_image, s.practice_image) if im]
    _check_images(folder, images + ([guide.final_image] if guide.final_image else []), "guide image", budget, kept)
    return guide, kept


def _check_text(path: Path, what: str, first: bytes | None = None) -> None:
    data = path.read_bytes()[:TEXT_LIMIT + 1]
    if len(data) > TEXT_LIMIT or b"\x00" in data:
        raise UploadError(f"{what}: not a captions file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(f"{what}: not UTF-8 text") from None
    if first is not None and not text.startswith(first.decode()):
        raise UploadError(f"{what}: not a WebVTT file (it must start with WEBVTT)")


def check_video(folder: Path, budget: Budget | None = None):
    from guidecast.narration.manifest import MANIFEST_FILE, load_manifest

    m = _load(load_manifest, folder, "video.json")
    kept = Kept({MANIFEST_FILE: "json"})
    if "video" not in m.files:
        raise UploadError("video.json: it names no video file")
    for key, rel in m.files.items():
        _safe_name(rel)
        path, what = folder / rel, f"video {rel}"
        if not path.is_file():
            raise UploadError(f"video: {rel} is missing")
        if key == "video":
            with open(path, "rb") as f:
                if f.read(12)[4:8] != b"ftyp" or not rel.endswith(".mp4"):
                    raise UploadError(f"{what}: not an MP4 file")
            kind = "mp4"
        elif rel.endswith(".vtt"):
            _check_text(path, what, b"WEBVTT")
            kind = "vtt"
        elif rel.endswith(".srt"):
            _check_text(path, what)
            kind = "srt"
        elif rel.endswith(".png"):
            check_png(path, what, budget)
            kind = "png"
        else:
            raise UploadError(f"refused: {what} is not a file guidecast makes (MP4 video, .vtt/.srt captions, "
                              ".png poster)")
        kept.add(rel, kind)
    return m, kept


def _dropped(rel: str) -> bool:
    """Files guidecast writes that the server does not keep (it makes its own), and hidden files."""
    parts = rel.split("/")
    if any(p.startswith(".") for p in parts) or parts[0] == "__MACOSX":
        return True
    return rel in DROPPED_FILES or rel.startswith(DROPPED_FOLDERS)


def refuse_the_rest(extracted: Path, root: Path, kept: Kept) -> None:
    """Every file of the upload is kept, or one guidecast writes and the server makes again; anything else
    (a page, a script, a picture of another type, a file no model names) refuses the upload."""
    for p in sorted(extracted.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix() if p.is_relative_to(root) else None
        shown = p.relative_to(extracted).as_posix()
        if rel is not None and (rel in kept.files or _dropped(rel)):
            continue
        if rel is None and _dropped(shown):
            continue
        if rel is not None and _unnamed_picture(rel):
            continue  # a screenshot or image no step names any more (an earlier capture): not stored
        raise UploadError(f"refused: {shown} is not a file guidecast makes ({WHAT_A_BUNDLE_HOLDS}); remove it and "
                          "upload again")


def _unnamed_picture(rel: str) -> bool:
    folder, _, name = rel.rpartition("/")
    return folder in (SCREENSHOT_DIR, f"capture/{SCREENSHOT_DIR}", "images", "guide/images") and name.endswith(".png")
