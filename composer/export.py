"""Guide exports: a self-contained HTML page and Markdown with an images folder."""
from __future__ import annotations

import base64
from pathlib import Path

from capture.files import atomic_write_text
from composer.guide import Guide
from composer.render import render

HTML_FILE = "guide.html"
MD_FILE = "guide.md"


def image_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def export_html(guide: Guide, guide_dir: Path, out: Path, *, inline_images: bool = True,
                template_dir: Path | None = None) -> Path:
    guide_dir = Path(guide_dir)

    def src(rel: str) -> str:
        return image_data_uri(guide_dir / rel) if inline_images else rel

    atomic_write_text(out, render("guide.html.j2", template_dir, guide=guide, src=src))
    return out


def export_markdown(guide: Guide, out: Path, template_dir: Path | None = None) -> Path:
    atomic_write_text(out, render("guide.md.j2", template_dir, guide=guide))
    return out


def write_exports(guide: Guide, guide_dir: Path) -> dict[str, Path]:
    guide_dir = Path(guide_dir)
    return {
        "html": export_html(guide, guide_dir, guide_dir / HTML_FILE),
        "md": export_markdown(guide, guide_dir / MD_FILE),
    }
