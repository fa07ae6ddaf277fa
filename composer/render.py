"""The Jinja2 environment for exports: autoescaped, with the inline-markup filters, and a user template
folder (branding) searched before the built-in one. Template mistakes become one-line errors that name
the template and line."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from jinja2 import (Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound,
                    TemplateSyntaxError, select_autoescape)
from markupsafe import Markup, escape

from capture.errors import GuidecastError
from composer.sanitize import BOLD as _BOLD
from composer.sanitize import md_escape, rich_html, rich_md
from composer.sanitize import md_text as inline_md
from templates import TEMPLATE_DIR


class TemplateProblem(GuidecastError):
    """A template (usually a user's override) cannot be rendered."""


def inline_html(text: str) -> Markup:
    """Escape `text`, then turn **bold** into <strong>."""
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


def plain(text: str) -> str:
    """Inline markup removed: what a voice reads and captions show."""
    return _BOLD.sub(r"\1", text)


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
    env.filters["rich"] = rich_html
    env.filters["rich_md"] = rich_md
    return env


def render(name: str, template_dir: Path | None = None, **context) -> str:
    if template_dir is not None and not Path(template_dir).is_dir():
        raise TemplateProblem(f"{template_dir}: --template-dir is not a folder")
    env = environment(str(Path(template_dir).resolve()) if template_dir else None)
    try:
        return env.get_template(name).render(**context)
    except TemplateSyntaxError as e:
        where = e.filename or e.name or name
        raise TemplateProblem(f"{where}:{e.lineno}: template syntax error: {e.message}") from None
    except TemplateNotFound as e:
        raise TemplateProblem(f"template '{e.name}' (needed by {name}) is neither in "
                              f"{template_dir or TEMPLATE_DIR} nor built in") from None
    except TemplateError as e:
        where, line = _template_frame(env, name)
        raise TemplateProblem(f"{where}:{line}: template error: {e.message or e}") from None


def _template_frame(env: Environment, name: str) -> tuple[str, int | str]:
    """The template file and line a runtime error was raised from (Jinja maps its frames to them)."""
    tb = sys.exc_info()[2]
    found: tuple[str, int | str] = (name, "?")
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname.endswith((".j2", ".html", ".css", ".xml", ".md", ".js")):
            found = (fname, tb.tb_lineno)
        tb = tb.tb_next
    return found
