"""The narration script: what is spoken over which picture, derived from the guide."""
from __future__ import annotations

import re
from dataclasses import dataclass

from capture.bundle import Box
from composer.guide import Guide
from composer.render import plain

ABBREVIATIONS = {"e.g.": "for example", "i.e.": "that is", "etc.": "and so on", "URL": "U R L"}


@dataclass(frozen=True)
class ScriptItem:
    id: str
    kind: str  # intro | step | outro
    text: str  # what the voice reads
    caption: str  # what the captions show
    image: str | None  # relative to the guide folder
    highlight: Box | None
    chapter: str


def spoken(text: str) -> str:
    """Text as a voice should read it: markup removed, quotes dropped, abbreviations expanded."""
    s = plain(text).replace("“", "").replace("”", "")
    for abbr, full in ABBREVIATIONS.items():
        s = re.sub(rf"(?<!\w){re.escape(abbr)}(?!\w)", full, s)
    return s


def build_script(guide: Guide) -> list[ScriptItem]:
    items = [ScriptItem("intro", "intro", f"{guide.title}. {guide.intro}", guide.title, None, None, "Introduction")]
    for st in guide.steps:
        text = st.narration or spoken(st.text)
        items.append(ScriptItem(st.id, "step", spoken(text), plain(st.text), st.image, st.highlight,
                                f"Step {st.number}: {plain(st.text)}"))
    items.append(ScriptItem("outro", "outro", guide.outro, guide.outro, guide.final_image, None, "Done"))
    return items
