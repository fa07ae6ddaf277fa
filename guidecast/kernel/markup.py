"""Step text's only inline markup, `**bold**` for the names of things on screen, rendered for each channel:
HTML (escaped, <strong>), Markdown (escaped but for our bold), plain (what a voice reads and captions show)."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_html(text: str) -> Markup:
    """Escape `text`, then turn **bold** into <strong>."""
    return Markup(BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


def plain(text: str) -> str:
    """Inline markup removed: what a voice reads and captions show."""
    return BOLD.sub(r"\1", text)


def md_escape(text: str) -> str:
    """Plain text made safe inside Markdown: HTML and Markdown control characters escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)


def md_text(text: str) -> str:
    """Markdown for step text: everything escaped except our own **bold**."""
    parts = BOLD.split(text)
    return "".join(f"**{md_escape(p)}**" if i % 2 else md_escape(p) for i, p in enumerate(parts))


def bold_names(text: str) -> list[str]:
    """The **bold** names in `text`, in order."""
    return BOLD.findall(text)
