"""The edit layer: a person's changes to a generated guide, stored apart from it and keyed by step id.

On disk: `<guide>/edits.yaml` (YAML or JSON). `compose` applies it to every new capture of the workflow
(composer.plan); edits whose step is gone become conflicts in the guide and stay in this file.

    schema_version: 1
    title: Submit an expense            # guide title / intro / outro overrides
    steps:                              # per step, by stable step id
      fill-description:
        text: In **Description**, say what you paid for.
        narration: Describe the expense.
        hidden: false
        callouts: [{kind: tip, text: Keep the receipt.}]
        drop_notes: false               # hide the notes that came from the workflow
        crop: {x: 200, y: 150, width: 700, height: 400}   # CSS pixels of the screenshot
        zoom: false                     # crop to the target with some context around it
        blur: [{x: 10, y: 10, width: 200, height: 30}]
        marker: true                    # click marker (default: on for clicks)
    merge: [{first: enter-email, second: enter-password, text: optional}]
    split: [{step: fill-amount, texts: [first sentence, second sentence]}]
    move: [{step: fill-date, after: fill-description}]       # after: null = to the top
    insert: [{id: check-receipt, after: fill-date, text: Check the receipt.}]
    pronunciations: {Expensely: Expense-lee}                  # how the voice says a name (whole words, any case)
    voice: en_US-joe-medium                                   # the guide's narration voice (`guidecast voices`)
    rate: 170                                                 # and its speed, words a minute
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Final, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from guidecast.composer.guide import Callout
from guidecast.kernel.errors import GuidecastError, describe_validation_error
from guidecast.kernel.files import atomic_write_text, sha256_bytes
from guidecast.kernel.inputs import InputError, load_yaml, read_text
from guidecast.kernel.model import Strict

EDITS_SCHEMA_VERSION: Final = 1
EDITS_FILE = "edits.yaml"
STEP_ID = r"^[a-z0-9][a-z0-9-]*$"


class EditError(GuidecastError):
    """The edit layer does not fit the guide (unknown step, bad merge, crop outside the picture...)."""


class Rect(Strict):
    """A rectangle in CSS pixels of the screenshot (multiplied by the device scale for retina captures)."""

    x: float = Field(ge=0)
    y: float = Field(ge=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)


def _not_blank(v: str | None) -> str | None:
    if v is not None and not v.strip():
        raise ValueError("must not be empty (leave the field out to keep the generated text)")
    return v


class StepEdit(Strict):
    text: str | None = None
    narration: str | None = None
    hidden: bool = False
    callouts: list[Callout] = Field(default_factory=list)
    drop_notes: bool = False
    crop: Rect | None = None
    zoom: bool = False
    blur: list[Rect] = Field(default_factory=list)
    marker: bool | None = None

    check_text = field_validator("text", "narration")(_not_blank)


class Merge(Strict):
    first: str
    second: str
    text: str | None = None

    check_text = field_validator("text")(_not_blank)


class Split(Strict):
    step: str
    texts: list[str] = Field(min_length=2)

    @field_validator("texts")
    @classmethod
    def _texts(cls, v: list[str]) -> list[str]:
        for t in v:
            _not_blank(t)
        return v


class Move(Strict):
    step: str
    after: str | None = None


class FreeStep(Strict):
    id: str = Field(pattern=STEP_ID)
    after: str | None = None
    text: str
    narration: str | None = None
    callouts: list[Callout] = Field(default_factory=list)

    check_text = field_validator("text")(_not_blank)


MAX_PRONUNCIATIONS, MAX_WORDS_CHARS = 500, 100


def check_pronunciations(v: dict[str, str]) -> dict[str, str]:
    """A lexicon: name -> how to say it, both short non-empty text on one line."""
    if len(v) > MAX_PRONUNCIATIONS:
        raise ValueError(f"at most {MAX_PRONUNCIATIONS} names")
    out: dict[str, str] = {}
    for name, say in v.items():
        name, say = name.strip(), say.strip()
        for what, text in (("name", name), ("pronunciation", say)):
            if not text or len(text) > MAX_WORDS_CHARS or "\n" in text:
                raise ValueError(f"{name or '(empty)'}: the {what} must be one line of 1 to {MAX_WORDS_CHARS} "
                                 "characters")
        if not any(ch.isalnum() for ch in name):
            raise ValueError(f"{name}: a name needs letters or digits")
        out[name] = say
    return out


class EditSet(Strict):
    schema_version: Literal[1] = EDITS_SCHEMA_VERSION
    title: str | None = None
    intro: str | None = None
    outro: str | None = None
    steps: dict[str, StepEdit] = Field(default_factory=dict)
    merge: list[Merge] = Field(default_factory=list)
    split: list[Split] = Field(default_factory=list)
    move: list[Move] = Field(default_factory=list)
    insert: list[FreeStep] = Field(default_factory=list)
    pronunciations: dict[str, str] = Field(default_factory=dict)  # name -> how the voice says it
    voice: str | None = Field(None, min_length=1, max_length=300)  # the narration voice (default: the engine's)
    rate: int | None = Field(None, ge=60, le=450)  # its speed in words a minute (default: 165)

    check_text = field_validator("title", "intro", "outro")(_not_blank)
    check_lexicon = field_validator("pronunciations")(check_pronunciations)

    def is_empty(self) -> bool:
        return self == EditSet()

    def digest(self) -> str | None:
        """The edit-set hash a guide version records (None for no edits)."""
        if self.is_empty():
            return None
        return sha256_bytes(self.model_dump_json(exclude_defaults=True).encode())

    def step(self, step_id: str) -> StepEdit:
        """The edits of one step (a new empty entry when there are none yet)."""
        return self.steps.setdefault(step_id, StepEdit())


def parse_edits(text: str, source: str) -> EditSet:
    try:
        data = load_yaml(text) if text.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise EditError(f"{source}:{where} not valid YAML: {getattr(e, 'problem', None) or e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EditError(f"{source}: expected a mapping (schema_version, steps, merge, ...), got {type(data).__name__}")
    try:
        return EditSet.model_validate(data)
    except ValidationError as e:
        raise EditError(describe_validation_error(source, e, steps_key="-")) from None


def read_edits(path: str | Path) -> tuple[EditSet, str]:
    """The edit set in `path` and the exact text it was read from."""
    p = Path(path)
    try:
        text = read_text(p, "edits file")
    except InputError as e:
        raise EditError(str(e)) from None
    return parse_edits(text, str(p)), text


def load_edits(path: str | Path) -> EditSet:
    return read_edits(path)[0]


def dump_edits(edits: EditSet, as_json: bool = False) -> str:
    data = {"schema_version": EDITS_SCHEMA_VERSION, **edits.model_dump(exclude_defaults=True, mode="json")}
    if as_json:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_edits(edits: EditSet, path: str | Path) -> Path:
    p = Path(path)
    atomic_write_text(p, dump_edits(edits, as_json=p.suffix == ".json"))
    return p
