"""The narration script: what is spoken and captioned over which picture, derived from the guide."""
from __future__ import annotations

from dataclasses import dataclass

from capture.bundle import Box
from composer.guide import Guide
from composer.render import plain
from narration.pronounce import spoken

INTRO, OUTRO = "intro", "outro"


@dataclass(frozen=True)
class ScriptItem:
    id: str
    kind: str  # intro | step | outro
    text: str  # what the voice reads
    caption: str  # what the captions show
    image: str | None  # relative to the guide folder
    highlight: Box | None
    chapter: str
    where: str  # how messages name it: "step 3 ('sign-in')"
    action: str | None = None
    image_size: tuple[int, int] | None = None


def build_script(guide: Guide) -> list[ScriptItem]:
    """Intro, one item per step (its narration override, else its text, made speakable), outro."""
    items = [ScriptItem(INTRO, INTRO, spoken(f"{guide.title}. {guide.intro}"), guide.title, None, None,
                        "Introduction", "the intro")]
    for st in guide.steps:
        items.append(ScriptItem(st.id, "step", spoken(st.narration or st.text), plain(st.text), st.image,
                                st.highlight, f"Step {st.number}: {plain(st.text)}",
                                f"step {st.number} ('{st.id}')", st.action, st.image_size))
    items.append(ScriptItem(OUTRO, OUTRO, spoken(guide.outro), guide.outro, guide.final_image, None, "Done",
                            "the outro"))
    return items
