"""The Jinja2 environment for exports: autoescaped, with the inline-markup filters."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from templates import TEMPLATE_DIR

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_html(text: str) -> Markup:
    """Escape `text`, then turn **bold** into <strong>."""
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


def plain(text: str) -> str:
    """Inline markup removed: what a voice reads and captions show."""
    return _BOLD.sub(r"\1", text)


def md_escape(text: str) -> str:
    """Plain text made safe inside Markdown: HTML and Markdown control characters escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)


def inline_md(text: str) -> str:
    """Markdown for step text: everything escaped except our own **bold**."""
    parts = _BOLD.split(text)
    return "".join(f"**{md_escape(p)}**" if i % 2 else md_escape(p) for i, p in enumerate(parts))


@lru_cache(maxsize=4)
def environment(extra_dir: str | None = None) -> Environment:
    dirs = ([extra_dir] if extra_dir else []) + [str(TEMPLATE_DIR)]
    env = Environment(
        loader=FileSystemLoader(dirs),
        autoescape=select_autoescape(["html", "htm", "xml", "html.j2", "xml.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = inline_html
    env.filters["inline_md"] = inline_md
    env.filters["md_escape"] = md_escape
    env.filters["plain"] = plain
    return env


def render(name: str, template_dir: Path | None = None, **context) -> str:
    return environment(str(template_dir) if template_dir else None).get_template(name).render(**context)
