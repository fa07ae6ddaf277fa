"""The editor's working copy: one JSON edit document per guide, shaped like composer.edits.EditSet
(title/intro/outro overrides; per step id: text, narration, hidden, callouts, crop, blur; merge, split,
move, insert), saved with optimistic concurrency and handed to the composer when publishing.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from guidecast.composer.compose import compose_guide
from guidecast.composer.edits import EditSet
from guidecast.composer.guide import Guide
from guidecast.kernel.errors import GuidecastError, describe_validation_error
from guidecast.kernel.progress import Progress
from guidecast.server.models import EditDoc, utcnow


class BadEdits(GuidecastError):
    http_status = 422


def validate_doc(doc: object) -> dict:
    """The edit document checked against the composer's model; returns its normal JSON form."""
    if not isinstance(doc, dict):
        raise BadEdits("edits: expected a JSON object")
    try:
        model = EditSet.model_validate(doc)
    except ValidationError as e:
        raise BadEdits(describe_validation_error("edits", e, steps_key="-")) from None
    return model.model_dump(mode="json", exclude_defaults=True)


def compose(capture_dir: Path, out_dir: Path, doc: dict | None, progress: Progress) -> Guide:
    """compose_guide with the edit document applied (an empty document for the unedited base guide)."""
    return compose_guide(capture_dir, out_dir, edits=EditSet.model_validate(doc or {}), progress=progress)


def save_doc(db: Session, guide_id: int, base_revision: int, doc: dict, user_id: int) -> tuple[bool, EditDoc]:
    """Store `doc` if the stored revision is still `base_revision` (atomic compare-and-set).
    Returns (saved, current row); a stale save changes nothing."""
    res = db.execute(update(EditDoc).where(EditDoc.guide_id == guide_id, EditDoc.revision == base_revision)
                     .values(doc_json=json.dumps(doc), revision=base_revision + 1, updated_by=user_id,
                             updated_at=utcnow()))
    db.expire_all()
    return res.rowcount == 1, db.get(EditDoc, guide_id)
