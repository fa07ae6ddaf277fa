"""The step plan: captured steps + generated text + the edit layer -> the ordered steps of a guide.

Rules for an edit that does not fit the capture:
- it names a step that an earlier capture of this guide had and this one lacks: a *conflict* (kept in
  the edit layer, recorded in the guide, printed by the CLI);
- it names a step no capture of this guide ever had (a typo): an error naming the file and field;
- a merge whose steps are no longer neighbours because a new step now sits between them: a conflict;
  any other malformed edit (non-adjacent merge, image edits on a step without a screenshot): an error.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from guidecast.capture.bundle import CaptureBundle, CapturedStep
from guidecast.composer.edits import EditError, EditSet, StepEdit
from guidecast.composer.fold import fold_steps
from guidecast.composer.guide import Callout, EditConflict
from guidecast.composer.text import section_title

IMAGE_FIELDS = ("crop", "zoom", "blur", "marker")


@dataclass
class Draft:
    id: str
    sources: list[CapturedStep]  # the first one's screenshot is the step's picture
    text: str
    section: str | None = None
    narration: str | None = None
    callouts: list[Callout] = field(default_factory=list)
    hidden: bool = False
    free: bool = False
    is_new: bool = False
    image_of: str | None = None  # the step whose picture this one shows (split parts share it)
    image_edit: StepEdit | None = None
    edited: list[str] = field(default_factory=list)


@dataclass
class Plan:
    title: str
    intro: str
    outro: str
    steps: list[Draft]  # visible, in order; `section` set only where a new section starts
    all_ids: list[str]  # every step id the plan knows (hidden, split parts and free steps too)
    conflicts: list[EditConflict]


@dataclass
class History:
    """What earlier versions of the guide knew about step ids."""

    retired: set[str] = field(default_factory=set)  # earlier captures had them, this one does not
    new: set[str] = field(default_factory=set)  # this capture has them, the one before did not


def join_texts(first: str, second: str) -> str:
    """Two step sentences as one: 'Click **A**. Then click **B**.'"""
    second = second[:1].lower() + second[1:] if second[:2] != "**" else second
    return f"{first.rstrip()} Then {second}"


class _Planner:
    def __init__(self, cap: CaptureBundle, texts: dict[str, str], edits: EditSet, history: History, source: str):
        self.edits, self.history, self.source = edits, history, source
        self.conflicts: list[EditConflict] = []
        folds = fold_steps(cap.steps)
        self.drafts = [
            Draft(id=f.main.id, sources=[f.main, *f.absorbed], text=texts[f.main.id],
                  section=section_title(f.parts[0]) or section_title(f.main), image_of=f.main.id,
                  is_new=any(p.id in history.new for p in f.parts),
                  callouts=[Callout(kind="note", text=p.note) for p in f.parts if p.note])
            for f in folds
        ]
        # steps folded into the one they serve (a click into a field, the Enter after typing): their ids
        # still reach the folded step, so edits made before folding, or naming either part, keep working
        self.folded_into = {p.id: f.main.id for f in folds for p in f.absorbed}
        self.merged_into: dict[str, str] = {}
        for i, f in enumerate(edits.insert):
            if any(d.id == f.id for d in self.drafts):
                what = "inserted twice" if any(g.id == f.id for g in edits.insert[:i]) else "a captured step's id"
                raise self.fail(f"insert[{i}].id", f"'{f.id}' is {what}; give each inserted step its own id")
            # parked at the end until insert() places it, so that every other edit can name it
            self.drafts.append(Draft(id=f.id, sources=[], text=f.text, narration=f.narration,
                                     callouts=list(f.callouts), free=True, edited=["insert"]))

    # -- lookups ------------------------------------------------------------------------------
    def fail(self, where: str, msg: str) -> EditError:
        return EditError(f"{self.source}: {where}: {msg}")

    def index(self, step_id: str) -> int:
        return next(i for i, d in enumerate(self.drafts) if d.id == step_id)

    def resolve(self, step_id: str, where: str, fields: list[str] | None = None) -> str | None:
        """The draft id `step_id` now lives under, or None after recording a conflict."""
        step_id = self.merged_into.get(step_id, step_id)
        step_id = self.folded_into.get(step_id, step_id)
        if any(d.id == step_id for d in self.drafts):
            return step_id
        base = step_id.split("-part-")[0]
        if step_id in self.history.retired or base in self.history.retired:
            for f in fields or [""]:
                self.conflicts.append(EditConflict(
                    step_id=step_id, edit=f"{where}.{f}" if f else where,
                    message=f"step '{step_id}' is not in the new capture; the edit is kept in {self.source}: "
                            "move it to another step or remove it"))
            return None
        known = [d.id for d in self.drafts]
        close = difflib.get_close_matches(step_id, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise self.fail(where, f"unknown step id '{step_id}'{hint}; `guidecast edit GUIDE --list` shows the step ids")

    # -- the edits, in a fixed order ------------------------------------------------------------
    def split(self) -> None:
        for i, sp in enumerate(self.edits.split):
            sid = self.resolve(sp.step, f"split[{i}]")
            if sid is None:
                continue
            k = self.index(sid)
            d = self.drafts[k]
            if d.free or not d.sources:
                raise self.fail(f"split[{i}]", f"step '{sid}' was written by hand; edit its text instead")
            d.text = sp.texts[0]
            d.edited += ["text", "split"]
            parts = [Draft(id=f"{sid}-part-{n}", sources=[], text=t, section=d.section, image_of=d.image_of,
                           is_new=d.is_new, edited=["split"]) for n, t in enumerate(sp.texts[1:], 2)]
            self.drafts[k + 1:k + 1] = parts

    def merge(self) -> None:
        for i, m in enumerate(self.edits.merge):
            where = f"merge[{i}]"
            a = self.resolve(m.first, where, ["first"])
            b = self.resolve(m.second, where, ["second"])
            if a is None or b is None:
                continue
            ka, kb = self.index(a), self.index(b)
            if a == b:
                if m.first in self.folded_into or m.second in self.folded_into:
                    continue  # already one step: guidecast folded them
                raise self.fail(where, f"'{m.first}' and '{m.second}' are the same step")
            if kb != ka + 1:
                between = [d for d in self.drafts[ka + 1:kb]] if kb > ka else []
                if any(d.is_new for d in between):
                    self.conflicts.append(EditConflict(step_id=a, edit=where, message=(
                        f"'{a}' and '{b}' are no longer neighbours: the new step '{between[0].id}' sits between "
                        "them; the merge is not applied")))
                    continue
                what = ("comes before" if kb < ka else
                        "is not right after it (between them: " + ", ".join(d.id for d in between) + ")")
                raise self.fail(where, f"'{b}' {what} '{a}'; merge only a step with the one right after it")
            first, second = self.drafts[ka], self.drafts.pop(kb)
            first.text = m.text or join_texts(first.text, second.text)
            first.sources += second.sources
            first.callouts += second.callouts
            first.edited.append("merge")
            if m.text:
                first.edited.append("text")
            self.merged_into[b] = a

    def step_edits(self) -> None:
        for sid, se in self.edits.steps.items():
            where = f"steps.{sid}"
            fields = list(se.model_dump(exclude_defaults=True))
            if sid in self.merged_into:
                raise self.fail(where, f"step '{sid}' is merged into '{self.merged_into[sid]}'; "
                                       f"put its edits under steps.{self.merged_into[sid]}")
            got = self.resolve(sid, where, fields)
            if got is None:
                continue
            d = self.drafts[self.index(got)]
            image_fields = [f for f in IMAGE_FIELDS if f in fields]
            if image_fields and (d.free or not d.sources):
                raise self.fail(f"{where}.{image_fields[0]}", f"step '{sid}' has no screenshot of its own")
            if se.text is not None:
                d.text = se.text
            if se.narration is not None:
                d.narration = se.narration
            if se.drop_notes:
                d.callouts = [c for c in d.callouts if c.kind != "note" or d.free]
            d.callouts += se.callouts
            d.hidden = se.hidden
            if image_fields:
                d.image_edit = se
            d.edited += [f for f in fields if f != "drop_notes"] + (["callouts"] if se.drop_notes else [])

    def insert(self) -> None:
        for i, f in enumerate(self.edits.insert):
            where = f"insert[{i}]"
            d = self.drafts.pop(self.index(f.id))
            anchor = self.resolve(f.after, where, ["after"]) if f.after else None
            if f.after and anchor is None:
                self.drafts.append(d)  # its place is gone: keep it, at the end, and say so (conflict above)
                continue
            self.drafts.insert(self.index(anchor) + 1 if anchor else 0, d)

    def move(self) -> None:
        for i, mv in enumerate(self.edits.move):
            where = f"move[{i}]"
            sid = self.resolve(mv.step, where, ["step"])
            anchor = self.resolve(mv.after, where, ["after"]) if mv.after else None
            if sid is None or (mv.after and anchor is None):
                continue
            if sid == anchor:
                raise self.fail(where, f"cannot move '{sid}' after itself")
            d = self.drafts.pop(self.index(sid))
            self.drafts.insert(self.index(anchor) + 1 if anchor else 0, d)

    def sections(self, visible: list[Draft]) -> None:
        """Headings only where the page changes; steps without a page of their own keep the last one."""
        last = None
        for d in visible:
            sec = d.section if (d.sources and not d.free) else None
            sec = sec or last
            d.section = sec if sec != last else None
            last = sec


def plan_guide(cap: CaptureBundle, texts: dict[str, str], title: str, intro: str, outro: str,
               edits: EditSet, history: History, source: str = "edits.yaml") -> Plan:
    """Apply `edits` to the captured steps (split, merge, step edits, inserts, moves, in that order)."""
    p = _Planner(cap, texts, edits, history, source)
    p.split()
    p.merge()
    p.step_edits()
    p.insert()
    p.move()
    visible = [d for d in p.drafts if not d.hidden]
    if not visible:
        raise EditError(f"{source}: steps: every step is hidden; a guide needs at least one step")
    p.sections(visible)
    all_ids = [d.id for d in p.drafts] + list(p.merged_into) + list(p.folded_into)
    return Plan(title=edits.title or title, intro=edits.intro or intro, outro=edits.outro or outro,
                steps=visible, all_ids=all_ids, conflicts=p.conflicts)
