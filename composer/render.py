"""The Jinja2 environment for exports: autoescaped, with the inline-markup filters, and a user template
folder (branding) searched before the built-in one. Template mistakes become one-line errors that name
the template and line."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, TemplateError, TemplateNotFound, TemplateSyntaxError

from guidecast.composer.sanitize import rich_html, rich_md
from guidecast.kernel import jinja
from guidecast.kernel.errors import GuidecastError
from guidecast.templates import TEMPLATE_DIR


class TemplateProblem(GuidecastError):
    """A template (usually a user's override) cannot be rendered."""


@lru_cache(maxsize=4)
def environment(extra_dir: str | None = None) -> Environment:
    """The kernel's environment with the callout filters (sanitised HTML, Markdown) of the exports."""
    env = jinja.environment(extra_dir)
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
    except RecursionError:
        where, line = _template_frame(env, name)
        raise TemplateProblem(f"{where}:{line}: the template includes or extends itself, directly or through "
                              "another; break the loop") from None


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
