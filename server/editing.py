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


# -- what the editor shows around the guide ----------------------------------------------------------

def step_tools(capture: dict | None, base: dict) -> dict[str, dict]:
    """Per base guide step id: the controls on its screenshot (kind, name, box in CSS px) that a blur can be
    tied to, and the target's box; from the captured step whose picture the step shows (a folded step's main
    part, whose id it has)."""
    captured = {s["id"]: s for s in (capture or {}).get("steps", [])}
    out: dict[str, dict] = {}
    for s in base.get("steps", []):
        src = captured.get(s["id"]) or captured.get((s.get("source_ids") or [""])[0])  # the fold's main step
        if src is None:
            continue
        controls = [{"kind": c["kind"], "name": c["name"], "box": c["box"]}
                    for c in src.get("controls") or [] if c.get("box") and c.get("name")]
        target = ((src.get("element") or {}).get("box"))
        out[s["id"]] = {"controls": controls, "target": target}
    return out


def placed_blurs(guide: dict) -> dict[str, list[dict]]:
    """Per step id: where the newest version put each drawn blur on its screenshot (`drawn` as in the edit
    document, `box` where it is, `state`: anchored, unanchored, followed, moved, lost; `name` of its element),
    so the editor shows a blur that followed its element where it is now, and one whose element vanished."""
    return {s["id"]: [{"drawn": b["drawn"], "box": b["box"], "state": b.get("state", "anchored"),
                       "name": (b.get("anchor") or {}).get("name")} for b in s["blurs"]]
            for s in guide.get("steps", []) if s.get("blurs")}


FIELD_WORDS = {"text": "text", "narration": "narration", "callouts": "notes", "hidden": "hiding",
               "crop": "crop", "zoom": "zoom", "blur": "blurs", "marker": "click marker", "drop_notes": "notes"}


def _named(steps: dict[str, dict], step_id: str) -> dict:
    s = steps.get(step_id)
    return {"step": s["id"] if s else step_id, "number": s["number"] if s else None, "text": s["text"] if s else None}


def attention_items(latest: dict, previous: dict | None, changelog: dict | None) -> list[dict]:
    """What a refresh (or a capture) left for the editor to look at, in the learner's words: each item names
    the step by the learner's step number and text (`number`, `text`, markup as the guide has it) and says
    why (`why`, markup), with `kind` one of new_flow, new_step, renamed, blur_lost, blur_moved, conflict and what the
    editor can do about it (`fix`: add_step {after, text}, remove_edit {path}). `latest`: the guide.json of
    the newest version, `previous`: the one before (to name steps the app lost)."""
    steps = {s["id"]: s for s in latest.get("steps", [])}
    for s in latest.get("steps", []):
        for src in s.get("source_ids") or []:
            steps.setdefault(src, s)
    before = {s["id"]: s for s in (previous or {}).get("steps", [])}
    items: list[dict] = []
    for f in (changelog or {}).get("flow", []):
        target = ((f.get("proposed_step") or {}).get("target") or {})
        name = target.get("name") if isinstance(target, dict) else None
        where = _named(steps, f.get("after_step", ""))
        if f.get("after_step") == "start":
            where = {"step": None, "number": None, "text": None}
        why = f"the app now shows {f.get('after')} after this step, and the guide does not"
        item = {"kind": "new_flow", **where, "why": why}
        if name:
            item["why"] += f"; proposed new step: click **{name}**"
            item["fix"] = {"add_step": {"after": where["step"], "text": f"Click **{name}**."}}
        items.append(item)
    for s in latest.get("steps", []):
        if changelog and s.get("is_new"):
            items.append({"kind": "new_step", **_named(steps, s["id"]),
                          "why": "this step is new in the app since the last version: check its text and picture"})
        states = [b.get("state") for b in s.get("blurs", [])]
        names = [b["anchor"]["name"] for b in s.get("blurs", []) if b.get("anchor")]
        if "lost" in states:
            lost = [b["anchor"]["name"] for b in s["blurs"] if b.get("state") == "lost" and b.get("anchor")]
            items.append({"kind": "blur_lost", **_named(steps, s["id"]),
                          "why": "a blurred element is not on the page any more (" + ", ".join(f"**{n}**" for n in lost)
                                 + "): check what the picture shows, and blur it again where it is now"})
        elif "moved" in states:
            items.append({"kind": "blur_moved", **_named(steps, s["id"]),
                          "why": "a blurred element moved (" + ", ".join(f"**{n}**" for n in names)
                                 + "); the blur moved with it: check it still covers it"})
        if s.get("review") and s.get("generated_text") and "the app changed" in s["review"]:
            items.append({"kind": "renamed", **_named(steps, s["id"]),
                          "why": f"the app changed under your text: guidecast now writes “{s['generated_text']}”; "
                                 "check your text still matches the screen"})
    for c in latest.get("conflicts", []):
        path = c.get("edit", "")
        named = _named(before, c.get("step_id", ""))
        if path.startswith("steps."):
            field = path.rsplit(".", 1)[-1]
            why = (f"this step is no longer in the app; your {FIELD_WORDS.get(field, 'change')} for it is kept but "
                   "not shown: remove it, or make the change on another step")
        elif path.startswith("merge"):
            why = "two steps you merged are no longer next to each other (a new step sits between them); the merge is not applied"
        else:
            why = "this step is no longer in the app; your change to it is kept but not shown"
        items.append({"kind": "conflict", **named, "why": why, "fix": {"remove_edit": {"path": path}}})
    return items
