"""Reading published versions back from the asset store, and the diff between two of them."""
from __future__ import annotations

import difflib

from fastapi import HTTPException

from guidecast.server.models import Guide, GuideVersion


def guide_json(ctx, tree: str) -> dict:
    data = ctx.assets.read_json(tree, "guide.json")
    if data is None:
        raise HTTPException(500, "guide.json missing from the stored guide")
    return data


def get_version(guide: Guide, number: int) -> GuideVersion:
    v = next((v for v in guide.versions if v.number == number), None)
    if v is None:
        raise HTTPException(404, f"no version {number}")
    return v


def version_json(v: GuideVersion) -> dict:
    return {"number": v.number, "title": v.title, "created_at": v.created_at.isoformat(),
            "has_video": v.video_tree is not None, "guide_id": v.composed_guide_id, "edits_revision": v.edits_revision,
            "draft": v.draft, "changelog": v.changelog}


FIELD_WORDS = {"text": "text", "narration": "narration", "callouts": "notes", "image": "picture",
               "number": "position"}


def diff(old: dict, new: dict) -> dict:
    """What changed from `old` to `new` (guide.json dicts): title, intro/outro, and each step by id."""
    def steps(g):
        return {s["id"]: s for s in g.get("steps", [])}

    a, b = steps(old), steps(new)
    out = {"title": None, "order_changed": [s for s in a if s in b] != [s for s in b if s in a],
           "added": [], "removed": [], "changed": []}
    if old.get("title") != new.get("title"):
        out["title"] = {"old": old.get("title"), "new": new.get("title")}
    out["added"] = [{"id": i, "text": b[i]["text"]} for i in b if i not in a]
    out["removed"] = [{"id": i, "text": a[i]["text"]} for i in a if i not in b]
    for i in (i for i in b if i in a):
        fields = [f for f in ("text", "narration", "callouts", "image", "number") if a[i].get(f) != b[i].get(f)]
        if fields:
            ops = list(difflib.ndiff([a[i]["text"]], [b[i]["text"]])) if "text" in fields else []
            out["changed"].append({"id": i, "number": b[i]["number"], "fields": fields,
                                   "what": ", ".join(FIELD_WORDS.get(f, f) for f in fields),
                                   "old": a[i]["text"], "new": b[i]["text"],
                                   "ops": [o for o in ops if o[:1] in "+-"]})
    return out
