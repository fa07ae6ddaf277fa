"""The base of every stage's model, and reading and writing a model as a bundle's JSON file."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from guidecast.kernel.errors import GuidecastError, describe_validation_error
from guidecast.kernel.files import atomic_write_text
from guidecast.kernel.inputs import read_text


class Strict(BaseModel):
    """A model that refuses unknown fields (a misspelled key is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


def write_model(model: BaseModel, folder: Path, filename: str) -> Path:
    """Save a stage's model as indented JSON in `folder` (atomically)."""
    path = Path(folder) / filename
    atomic_write_text(path, model.model_dump_json(indent=2))
    return path


def read_model(cls: type[M], where: str | Path, filename: str, missing: str) -> M:
    """Load a stage's model from a folder (or the file itself); user-facing errors name the file and field.

    `missing` says what to do when the file is not there, e.g. "run `guidecast capture WORKFLOW` first"."""
    d = Path(where)
    path = d / filename if d.is_dir() else d
    if not path.exists():
        raise GuidecastError(f"{path}: {missing}")
    text = read_text(path, filename)
    try:
        return cls.model_validate_json(text)
    except ValidationError as e:
        raise GuidecastError(describe_validation_error(path, e)) from None
