"""User text that may carry a little HTML (callouts: links, code, emphasis), made safe with nh3.

Everything else a person writes (titles, step text, narration) is plain text with `**bold**` and is
escaped by the templates; only callouts allow this small, sanitised subset.
"""
from __future__ import annotations

from html.parser import HTMLParser

import nh3
from markupsafe import Markup

from guidecast.kernel.markup import BOLD, md_text

ALLOWED_TAGS = {"a", "code", "em", "strong", "b", "i", "br", "kbd"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(text: str) -> str:
    """`text` as HTML limited to ALLOWED_TAGS; scripts, handlers and other markup removed."""
    return nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def rich_html(text: str) -> Markup:
    """Callout text for HTML exports: sanitised HTML, with **bold** as <strong>."""
    return Markup(BOLD.sub(r"<strong>\1</strong>", clean_html(text)))


class _ToMarkdown(HTMLParser):
    MARKS = {"strong": "**", "b": "**", "em": "_", "i": "_", "code": "`", "kbd": "`"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.in_code = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.out.append("  \n")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.out.append("[")
        elif tag in self.MARKS:
            self.in_code += tag in ("code", "kbd")
            self.out.append(self.MARKS[tag])

    def handle_endtag(self, tag):
        if tag == "a":
            href = self.href.pop() if self.href else None
            self.out.append(f"]({href.replace(')', '%29').replace(' ', '%20')})" if href else "]")
        elif tag in self.MARKS:
            self.in_code -= tag in ("code", "kbd")
            self.out.append(self.MARKS[tag])

    def handle_data(self, data):
        if self.in_code:
            self.out.append(data.replace("`", "'"))
        else:
            self.out.append(md_text(data))


def rich_md(text: str) -> str:
    """Callout text for Markdown: the sanitised subset turned into Markdown, the rest escaped."""
    p = _ToMarkdown()
    p.feed(clean_html(text))
    p.close()
    return "".join(p.out)
