"""Building the browser extension (capture/extension/) into a folder Chromium loads and a zip to install.

The content script is made here, not kept as a second copy: `content.js` = `bridge.js` (the extension's
side: messages, masking, blur picking) + `recorder.js` with the shared helpers spliced in exactly as
`guidecast record` injects it (`locate.script`), so both recorders describe, rank and count the same way.
`bridge.js` gets the iframe selector (`frame_selector.js`) and the credential patterns of
`capture/privacy.py` spliced in. `make extension` and the web app's "Install the recorder" page use this.

    python -m guidecast.capture.extension_build OUT_DIR   ->  OUT_DIR/guidecast-recorder/, OUT_DIR/guidecast-recorder.zip
"""
from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

from guidecast.capture.locate import script
from guidecast.capture.privacy import SECRET_PATTERNS
from guidecast.kernel.files import atomic_write_bytes, staged_dir

SOURCE = Path(__file__).parent / "extension"
NAME = "guidecast-recorder"
COPIED = ("background.js", "popup.html", "popup.css", "popup.js", "lib/recording.js", "lib/upload.js", "lib/zip.js")
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed: the same sources give the same zip


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        v = dist_version("guidecast")
    except PackageNotFoundError:
        v = "0.1.0"
    parts = [p for p in v.split(".")[:4] if p.isdigit()]
    return ".".join(parts or ["0"])


def content_script() -> str:
    """bridge.js then recorder.js, each with its helpers spliced in."""
    bridge = (SOURCE / "bridge.js").read_text("utf-8")
    patterns = json.dumps([[kind, rx.pattern] for kind, rx in SECRET_PATTERNS])
    bridge = bridge.replace("__FRAME_SELECTOR__", _strip_comments(script("frame_selector.js")))
    bridge = bridge.replace("__SECRET_PATTERNS__", patterns)
    return "// Built by guidecast (capture/extension_build.py); edit the sources, not this file.\n" + \
        bridge + "\n" + script("recorder.js")


def _strip_comments(js: str) -> str:
    return "\n".join(line for line in js.strip().rstrip(";").splitlines() if not line.lstrip().startswith("//"))


def _icon(size: int) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=(31, 35, 48, 255))
    r = size * 0.28
    d.ellipse((size / 2 - r, size / 2 - r, size / 2 + r, size / 2 + r), fill=(231, 76, 60, 255))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def files() -> dict[str, bytes]:
    """Every file of the built extension: name -> bytes."""
    manifest = (SOURCE / "manifest.json").read_text("utf-8").replace("__VERSION__", version())
    json.loads(manifest)  # a broken manifest fails the build, not the browser
    out = {"manifest.json": manifest.encode(), "content.js": content_script().encode()}
    for rel in COPIED:
        out[rel] = (SOURCE / rel).read_bytes()
    out["icon-48.png"], out["icon-128.png"] = _icon(48), _icon(128)
    return out


def build_extension(out_dir: str | Path) -> Path:
    """Write `out_dir/guidecast-recorder/` (load it unpacked) and `out_dir/guidecast-recorder.zip`; returns the zip."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = files()
    with staged_dir(out_dir / NAME) as stage:
        for rel, data in built.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_bytes(data)
    target = out_dir / f"{NAME}.zip"
    atomic_write_bytes(target, zip_bytes(built))
    return target


def zip_bytes(built: dict[str, bytes] | None = None) -> bytes:
    """The extension as a zip (its files at the top: unzip and load the folder)."""
    built = built if built is not None else files()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(built):
            zf.writestr(zipfile.ZipInfo(f"{NAME}/{rel}", ZIP_TIME), built[rel])
    return buf.getvalue()


if __name__ == "__main__":
    print(build_extension(sys.argv[1] if len(sys.argv) > 1 else "build/extension"))
