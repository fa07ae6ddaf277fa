"""The narration script: what is spoken and captioned over which picture, derived from the guide."""
from __future__ import annotations

import re
from dataclasses import dataclass

from guidecast.composer.guide import Guide
from guidecast.kernel.boxes import Box
from guidecast.kernel.markup import plain
from guidecast.narration.pronounce import spoken

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


def spoken_intro(intro: str) -> str:
    """The introduction as a viewer hears it: sentences about reading screenshots are for the page only."""
    sentences = re.split(r"(?<=[.!?])\s+", intro.strip())
    return " ".join(x for x in sentences if "screenshot" not in x.lower())


def build_script(guide: Guide) -> list[ScriptItem]:
    """Intro, one item per step (its narration override, else its text, made speakable with the guide's
    pronunciation lexicon), outro."""
    lexicon = guide.pronunciations
    intro = f"{guide.title}. {spoken_intro(guide.intro)}"
    items = [ScriptItem(INTRO, INTRO, spoken(intro, lexicon), plain(intro), None, None, "Introduction", "the intro")]
    for st in guide.steps:
        items.append(ScriptItem(st.id, "step", spoken(st.narration or st.text, lexicon), plain(st.text),
                                st.video_image or st.image, st.highlight, f"Step {st.number}: {plain(st.text)}",
                                f"step {st.number} ('{st.id}')", st.action, st.image_size))
    items.append(ScriptItem(OUTRO, OUTRO, spoken(guide.outro, lexicon), plain(guide.outro), guide.final_image, None, "Done",
                            "the outro"))
    return items
