"""The guide model: what the composer produces and the narration stage reads.

On disk: `<dir>/guide.json`, `<dir>/images/*.png` (annotated screenshots), the exports, the user's
edit layer `<dir>/edits.yaml` and immutable snapshots `<dir>/versions/<n>/` (see composer.versions).
"""
from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field

from guidecast.composer.anchors import PlacedBlur
from guidecast.kernel.boxes import Box
from guidecast.kernel.model import Strict, read_model, write_model
from guidecast.kernel.paths import SafeName, SafeRelPath, resolve_recorded

GUIDE_SCHEMA_VERSION: Final = 1
GUIDE_FILE = "guide.json"
IMAGE_DIR = "images"


class Callout(Strict):
    kind: Literal["tip", "note", "warning"]
    text: str


class GuideStep(Strict):
    id: SafeName
    number: int
    action: str
    text: str  # inline markup: **bold** only; everything else is plain text
    section: str | None = None  # a heading that starts here ("On the New expense page")
    image: SafeRelPath | None = None  # annotated screenshot, relative to the guide folder
    video_image: SafeRelPath | None = None  # the same without the click marker, for the video (which animates one)
    practice_image: SafeRelPath | None = None  # the same without highlight, marker or badge (blurs kept): practice
    image_size: tuple[int, int] | None = None  # pixels (width, height)
    highlight: Box | None = None  # the target's box in image pixels
    narration: str | None = None  # spoken text override
    callouts: list[Callout] = Field(default_factory=list)
    is_new: bool = False  # not in the capture the previous guide version was made from
    source_ids: list[str] = Field(default_factory=list)  # captured steps behind it (2 when merged, 0 when free)
    free: bool = False  # written by hand (an inserted step without a screenshot)
    edited: list[str] = Field(default_factory=list)  # which parts come from the edit layer ("text", "crop", ...)
    generated_text: str | None = None  # what guidecast wrote, kept when a person's text replaced it
    review: str | None = None  # why a person should look at this step again (e.g. the app changed under an override)
    blurs: list[PlacedBlur] = Field(default_factory=list)  # the person's blurs, tied to their elements


class EditConflict(Strict):
    """An edit that no longer fits the capture; kept in the edit layer, reported, never dropped."""

    step_id: str
    edit: str  # where in the edit layer, e.g. "steps.submit-expense.text" or "merge[0]"
    message: str


class GuideSource(Strict):
    capture_id: str
    capture_dir: str  # relative to the guide folder (a build folder moves as a whole), or absolute
    workflow_path: str
    workflow_sha256: str
    captured_at: str
    app_url: str | None = None


def capture_path(guide: Guide, guide_dir: Path | str) -> Path:
    """The capture folder the guide was composed from."""
    return resolve_recorded(guide.source.capture_dir, guide_dir)


class Guide(Strict):
    schema_version: Literal[1] = GUIDE_SCHEMA_VERSION
    id: str
    title: str
    intro: str
    outro: str
    steps: list[GuideStep]
    source: GuideSource
    edits_sha256: str | None = None
    composed_at: str
    final_image: SafeRelPath | None = None
    version: int = 0  # the immutable snapshot `versions/<version>/` this guide is (0: not versioned)
    previous_version: int | None = None
    capture_step_ids: list[str] = Field(default_factory=list)  # every step id of the capture, hidden ones too
    new_step_ids: list[str] = Field(default_factory=list)  # capture steps the previous capture did not have
    retired_step_ids: list[str] = Field(default_factory=list)  # ids earlier captures had and this one lacks
    conflicts: list[EditConflict] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)  # e.g. why polishing was not applied
    pronunciations: dict[str, str] = Field(default_factory=dict)  # the edit layer's lexicon: name -> how to say it
    voice: str | None = None  # the edit layer's narration voice and speed (None: the narrator's defaults)
    rate: int | None = None


def save_guide(guide: Guide, guide_dir: Path) -> Path:
    return write_model(guide, guide_dir, GUIDE_FILE)


def load_guide(guide_dir: str | Path) -> Guide:
    return read_model(Guide, guide_dir, GUIDE_FILE, "no guide here; run `guidecast compose CAPTURE_DIR` first")
