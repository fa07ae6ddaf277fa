"""The one Jinja2 environment factory, used by the exports, the freshness report and the web app:
autoescaped HTML/XML, undefined names are errors, the `**bold**` filters; a template folder given first
(a user's branding) is searched before the built-in `templates/`."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from guidecast.kernel.markup import inline_html, md_escape, md_text, plain
from guidecast.templates import TEMPLATE_DIR


@lru_cache(maxsize=8)
def environment(extra_dir: str | None = None) -> Environment:
    """The environment for the built-in templates, with `extra_dir` searched first. Cached: callers that add
    filters of their own add the same ones every time."""
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
    env.filters["inline_md"] = md_text
    env.filters["md_escape"] = md_escape
    env.filters["plain"] = plain
    return env
