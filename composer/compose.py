"""Capture bundle (+ the edit layer) -> guide bundle: the composer stage's core function."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from guidecast.capture.bundle import CaptureBundle, CapturedStep, load_capture
from guidecast.capture.runvars import PLACEHOLDER, SHAPES
from guidecast.composer.anchors import PlacedBlur, place_blurs
from guidecast.composer.annotate import Marks, inside, png_size, render_marks
from guidecast.composer.edits import EDITS_FILE, EditError, EditSet, Rect, dump_edits, read_edits
from guidecast.composer.export import write_exports
from guidecast.composer.fold import fold_steps
from guidecast.composer.guide import GUIDE_FILE, IMAGE_DIR, Guide, GuideSource, GuideStep, save_guide
from guidecast.composer.plan import Draft, Plan, plan_guide
from guidecast.composer.polish import PolishSettings, Texts, polish_texts
from guidecast.composer.text import intro_text, outro_text, page_title_heading, step_text
from guidecast.composer.versions import carry_versions, current_guide, history, next_version, snapshot
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_bytes, atomic_write_text, sha256_bytes, staged_dir
from guidecast.kernel.inputs import check_image
from guidecast.kernel.paths import check_output, relative_path
from guidecast.kernel.progress import Progress

CLICK_ACTIONS = {"click", "check", "uncheck"}


def compose_guide(capture_dir: str | Path, out_dir: str | Path, *, edits: EditSet | str | Path | None = None,
                  polish: PolishSettings | None = None, progress: Progress | None = None) -> Guide:
    """Compose the guide for the capture in `capture_dir` into `out_dir` (replaced whole on success),
    applying the edit layer: `edits` (a file or an EditSet, which then becomes `out_dir/edits.yaml`) or
    else the `edits.yaml` already in `out_dir`. Earlier versions in `out_dir/versions/` are kept."""
    capture_dir, out_dir = Path(capture_dir), Path(out_dir)
    check_output(out_dir, [capture_dir], ours=[GUIDE_FILE])  # an edits file inside the guide folder is kept
    cap = load_capture(capture_dir)
    progress = progress or (lambda *_: None)
    prev = current_guide(out_dir)
    edit_set, edits_text, source = _edit_layer(edits, out_dir)
    hist = history(prev, cap)
    texts = {f.main.id: step_text(f.main, cap.viewport.width, then_key=f.then_key) for f in fold_steps(cap.steps)}
    title = cap.workflow.title
    outro = outro_text(cap.final_heading or page_title_heading(cap.final_title), cap.final_dialog)
    count = len(plan_guide(cap, texts, title, "", outro, edit_set, hist, source).steps)
    intro = intro_text(title, cap.workflow.description, count)
    notices: list[str] = []
    if polish is not None:
        polished, note = polish_texts(Texts(intro=intro, outro=outro, steps=texts), polish)
        intro, outro, texts = polished.intro, polished.outro, polished.steps
        notices.append(note)
    plan = plan_guide(cap, texts, title, intro, outro, edit_set, hist, source)

    with staged_dir(out_dir) as stage:
        (stage / IMAGE_DIR).mkdir()
        before = {st.id: st for st in prev.steps} if prev else {}
        pictures = _Pictures(cap, capture_dir, stage, source, before)
        steps = []
        for n, d in enumerate(plan.steps, 1):
            progress(n - 1, len(plan.steps), f"step {n}/{len(plan.steps)}")
            image, size, hl, video_image, practice_image = pictures.for_draft(d, n, plan)
            blurs, blur_review = pictures.placed.get(d.id, ([], None))
            text_review = _override_review(d, texts, before.get(d.id))
            if blur_review:
                text_review["review"] = "; ".join(r for r in (blur_review, text_review.get("review")) if r)
            steps.append(GuideStep(
                id=d.id, number=n, action=d.sources[0].action if d.sources else "note", text=d.text,
                section=d.section, image=image, image_size=size, highlight=hl, narration=d.narration,
                video_image=video_image, practice_image=practice_image,
                callouts=d.callouts, is_new=d.is_new, source_ids=[s.id for s in d.sources], free=d.free,
                edited=list(dict.fromkeys(d.edited)), blurs=blurs,
                **text_review,
            ))
        guide = Guide(
            id="", title=plan.title, intro=plan.intro, outro=plan.outro, steps=steps,
            source=GuideSource(capture_id=cap.id, capture_dir=relative_path(capture_dir, out_dir),
                               workflow_path=cap.workflow.path, workflow_sha256=cap.workflow.sha256,
                               captured_at=cap.captured_at, app_url=cap.base_url),
            edits_sha256=edit_set.digest(),
            composed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            final_image=pictures.final(),
            capture_step_ids=[s.id for s in cap.steps],
            new_step_ids=sorted(hist.new),
            retired_step_ids=sorted(hist.retired),
            conflicts=plan.conflicts,
            notices=notices,
            pronunciations=dict(edit_set.pronunciations),
            voice=edit_set.voice,
            rate=edit_set.rate,
        )
        guide.id = content_id(guide)
        guide.version, guide.previous_version = next_version(out_dir, prev, guide.id)
        if edits_text is not None:
            atomic_write_text(stage / EDITS_FILE, edits_text)
        save_guide(guide, stage)
        write_exports(guide, stage)
        carry_versions(out_dir, stage)
        snapshot(stage, guide, edits_text)
        progress(len(plan.steps), len(plan.steps), "done")
    return guide


def _override_review(d, texts: dict[str, str], prev: GuideStep | None) -> dict:
    """Keep the generated sentence beside a person's text; when the app changed what guidecast would
    write (a renamed button, say), the person's text is kept but flagged for review."""
    if "text" not in d.edited or not d.sources:
        return {}
    generated = texts.get(d.sources[0].id)
    out = {"generated_text": generated}
    if prev is not None and prev.generated_text and generated and _differ(prev.generated_text, generated, d.sources):
        out["review"] = (f"the app changed: guidecast now writes “{generated}” (was “{prev.generated_text}”); "
                         "your text was kept, check it still fits")
    elif (prev is not None and prev.review and prev.generated_text and generated
          and not _differ(prev.generated_text, generated, d.sources) and prev.text == d.text):
        out["review"] = prev.review  # still unanswered: the person has not touched their text since
    return out


def as_template(text: str, template: str) -> str:
    """`text` with a quoted value that `template` could have expanded to put back as the template: two
    replays' sentences (type “sam.1f0c9a2e”, type “sam.77b2e019”) compare equal when only their per-run
    values (`capture.runvars`) differ."""
    parts, last = [], 0
    for m in PLACEHOLDER.finditer(template):
        parts += [re.escape(template[last:m.start()]), f"(?:{SHAPES.get(m.group(1), '[^”]+?')})"]
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.sub("“" + "".join(parts) + "”", lambda _: f"“{template}”", text)


def _differ(before: str, now: str, sources) -> bool:
    """The app changed what guidecast writes: not merely a per-run value (`{{ run.id }}`) of the replay."""
    for s in sources:
        if s.value_template:
            before, now = as_template(before, s.value_template), as_template(now, s.value_template)
    return before != now


def content_id(guide: Guide) -> str:
    """Hash of what the guide says and shows: the same capture and edits give the same id."""
    # practice_image is made from the same inputs as image: guides composed before it existed keep their ids
    exclude: dict = {"id": True, "composed_at": True, "version": True, "previous_version": True, "notices": True,
                     "source": {"capture_dir"}, "steps": {"__all__": {"practice_image"}}}
    for name in ("pronunciations", "voice", "rate"):  # guides composed before these existed keep their ids
        if not getattr(guide, name):
            exclude[name] = True
    data = guide.model_dump_json(exclude=exclude)
    return "guide-" + sha256_bytes(data.encode())[:16]


def _edit_layer(edits: EditSet | str | Path | None, out_dir: Path) -> tuple[EditSet, str | None, str]:
    """(edit set, the text to keep as out_dir/edits.yaml or None, how to name it in messages)."""
    kept = out_dir / EDITS_FILE
    if isinstance(edits, EditSet):
        return edits, (None if edits.is_empty() else dump_edits(edits)), str(kept)
    path = Path(edits) if edits is not None else kept
    if edits is None and not kept.is_file():
        return EditSet(), None, str(kept)
    es, text = read_edits(path)
    return es, text, str(path)


class _Pictures:
    """Annotated screenshots for the planned steps (each source picture rendered once)."""

    def __init__(self, cap: CaptureBundle, capture_dir: Path, stage: Path, source: str,
                 before: dict[str, GuideStep] | None = None):
        self.cap, self.capture_dir, self.stage, self.source = cap, capture_dir, stage, source
        self.before = before or {}
        self.placed: dict[str, tuple[list[PlacedBlur], str | None]] = {}  # step id -> its blurs, why review
        self.scale = cap.device_scale_factor
        self.done: dict[str, tuple[str, tuple[int, int], Box | None, str | None]] = {}
        self.sensitive = _sensitive_boxes(cap)

    def for_draft(self, d: Draft, number: int, plan: Plan):
        if d.free or d.image_of is None:
            return None, None, None, None, None
        if d.image_of not in self.done:
            owner = d if d.sources else next((x for x in plan.steps if x.id == d.image_of), None)
            sources = owner.sources if owner else [s for s in self.cap.steps if s.id == d.image_of]
            self.done[d.image_of] = self._render(d.image_of, sources, owner.image_edit if owner else None, number)
        return self.done[d.image_of]

    def _render(self, sid: str, sources: list[CapturedStep], edit, number: int):
        first = sources[0]
        raw = self._read(first.screenshot, sid)
        size = png_size(raw)
        scale = first.device_scale_factor or self.scale
        targets = [_device_box(s, scale) for s in sources if s.url == first.url]
        marks = Marks(targets=[t for t in targets if t is not None], number=number,
                      marker=first.action in CLICK_ACTIONS, blur=list(self.sensitive.get(first.id, [])))
        if edit is not None:
            marks.marker = marks.marker if edit.marker is None else edit.marker
            drawn = [self._rect(r, size, scale, f"steps.{sid}.blur[{k}]") for k, r in enumerate(edit.blur)]
            prev = self.before.get(sid)
            placed, why = place_blurs([Box(x=r.x, y=r.y, width=r.width, height=r.height) for r in edit.blur], first,
                                      prev.blurs if prev else [])
            self.placed[sid] = (placed, why)
            marks.blur += [_clipped(p.box.scaled(scale), size) for p in placed] if placed else drawn
            marks.crop = self._rect(edit.crop, size, scale, f"steps.{sid}.crop") if edit.crop else None
            marks.zoom = edit.zoom
        png, hl = render_marks(raw, marks, scale)
        name = f"{IMAGE_DIR}/{number:02d}-{sid}.png"
        atomic_write_bytes(self.stage / name, png)
        video_name = None
        if marks.marker:  # the video animates its own cursor and click: give it the picture without ours
            marks.marker = False
            video_png, _ = render_marks(raw, marks, scale)
            video_name = f"{IMAGE_DIR}/{number:02d}-{sid}.video.png"
            atomic_write_bytes(self.stage / video_name, video_png)
        practice_name = None
        if hl is not None:  # practice mode: the same picture without the highlight, the learner finds the target
            marks.draw = False
            practice_png, _ = render_marks(raw, marks, scale)
            practice_name = f"{IMAGE_DIR}/{number:02d}-{sid}.practice.png"
            atomic_write_bytes(self.stage / practice_name, practice_png)
        return name, png_size(png), hl, video_name, practice_name

    def _rect(self, r: Rect, size: tuple[int, int], scale: float, where: str) -> Box:
        box = Box(x=r.x, y=r.y, width=r.width, height=r.height).scaled(scale)
        if not inside(box, size):
            w, h = round(size[0] / scale), round(size[1] / scale)
            raise EditError(f"{self.source}: {where}: the box x={r.x:g} y={r.y:g} width={r.width:g} "
                            f"height={r.height:g} reaches outside the {w}x{h} screenshot (CSS pixels)")
        return box

    def _read(self, name: str, step_id: str) -> bytes:
        path = self.cap.screenshot_path(self.capture_dir, name)
        try:
            data = path.read_bytes()
        except OSError:
            raise GuidecastError(f"{path}: screenshot of step '{step_id}' is missing; capture again") from None
        check_image(data, f"screenshot of step '{step_id}'", path)
        return data

    def final(self) -> str | None:
        cap = self.cap
        if not cap.final_screenshot:
            return None
        blur = [b for url, b in self.sensitive.get("", []) if url == cap.final_url]
        png, _ = render_marks(self._read(cap.final_screenshot, "final"), Marks(blur=blur), self.scale)
        atomic_write_bytes(self.stage / IMAGE_DIR / "final.png", png)
        return f"{IMAGE_DIR}/final.png"


def _clipped(box: Box, size: tuple[int, int]) -> Box:
    """`box` (device px) cut to the picture: a blur that followed its element to the edge stays inside."""
    x0, y0 = max(0.0, box.x), max(0.0, box.y)
    x1, y1 = min(float(size[0]), box.x + box.width), min(float(size[1]), box.y + box.height)
    return Box(x=x0, y=y0, width=max(1.0, x1 - x0), height=max(1.0, y1 - y0))


def _device_box(s: CapturedStep, scale: float) -> Box | None:
    el = s.element
    if el is None:
        return None
    return el.box_device or (el.box.scaled(scale) if el.box else None)


def _sensitive_boxes(cap: CaptureBundle) -> dict:
    """Per step id, the boxes of sensitive fields (secrets, passwords) filled earlier on the same page,
    to blur; under "" every such (url, box) for the final picture."""
    out: dict = {"": []}
    seen: list[tuple[str, Box]] = []
    for s in cap.steps:
        el = s.element
        if s.action == "fill" and (s.value_redacted or (el and el.input_type == "password")):
            box = _device_box(s, s.device_scale_factor or cap.device_scale_factor)
            if box is not None:
                seen.append((s.url, box))
        out[s.id] = [b for url, b in seen if url == s.url]
    out[""] = seen
    return out
