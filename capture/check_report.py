"""The freshness report as text (terminal), JSON and an HTML page with before/after screenshots."""
from __future__ import annotations

import base64
from pathlib import Path

from guidecast.capture.compare import FreshnessReport
from guidecast.kernel import jinja
from guidecast.kernel.files import atomic_write_text
from guidecast.kernel.markup import plain

LABELS = {"unchanged": "unchanged", "restyled": "restyled", "moved": "moved",
          "controls": "new or removed fields, buttons or menu items", "renamed": "renamed",
          "new_flow": "new page or dialog", "new": "new step", "gone": "gone", "unverified": "not verified"}


def as_text(report: FreshnessReport) -> str:
    lines = [f"workflow {report.workflow_path} (baseline {report.baseline_capture}, checked {report.checked_at})"]
    if not report.verified:
        lines.append(f"could not verify: {report.error}")
    for s in report.steps:
        classes = " + ".join(LABELS[c] for c in s.classes) or "unchanged"
        detail = "; ".join(plain(d) for d in s.details)
        lines.append(f"  {s.number:>3}  {s.id:<24} {classes:<28} {detail}".rstrip())
    for f in report.flow:
        lines.append(f"  flow after {f.after_step}: {f.kind.replace('_', ' ')}: {f.after} (was {f.before})"
                     + (f"; proposed: {plain(f.proposal)}" if f.proposal else ""))
    if report.verified:
        lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: FreshnessReport) -> str:
    """`2 steps changed, 3 not verified`: steps the replay could not reach are not counted as changed."""
    if not report.changed:
        return "no user-visible change"
    unverified = sum(1 for s in report.changed_steps if s.status == "unverified")
    changed = len(report.changed_steps) - unverified
    parts = [f"{changed} step{'s' * (changed != 1)} changed"] if changed else []
    if report.flow:
        parts.append(f"{len(report.flow)} new page{'s' * (len(report.flow) != 1)} or dialog{'s' * (len(report.flow) != 1)}")
    if unverified:
        parts.append(f"{unverified} not verified (the replay stopped before them)")
    return ", ".join(parts) or "changed"


def _data_uri(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def learner_steps(guide_json: dict | None) -> dict[str, tuple[int, str]]:
    """Capture step id -> (the learner's step number, its text) from a guide.json dict: what a report calls
    a step, so it names the step a learner sees after reorders, merges and hides (a folded step's parts
    answer to the step they became). Steps the guide does not show are absent."""
    out: dict[str, tuple[int, str]] = {}
    for s in (guide_json or {}).get("steps", []):
        for sid in [s["id"], *(s.get("source_ids") or [])]:
            out.setdefault(sid, (s["number"], s["text"]))
    return out


def step_name(step_id: str, number: int, names: dict[str, tuple[int, str]] | None) -> str:
    """`Step 3 “Enter your email”` (markup kept, for the `inline` filter) as learners number it; without a
    guide, the workflow's step number; a step the guide hides says so."""
    if names is None:
        return f"Step {number}"
    if step_id in names:
        n, text = names[step_id]
        return f"Step {n} “{text}”"
    return "a step learners do not see (hidden or new)"


def write_html(report: FreshnessReport, out: Path, baseline_dir: Path, current_dir: Path | None,
               names: dict[str, tuple[int, str]] | None = None) -> Path:
    """The report page; `names` (learner_steps of the guide) names steps as learners see them."""
    env = jinja.environment()

    def shot(which: str, name: str | None) -> str | None:
        folder = baseline_dir if which == "before" else current_dir
        return _data_uri(folder / "screenshots" / name) if (folder and name) else None

    from guidecast.capture.bundle import load_capture

    vp = load_capture(baseline_dir).viewport
    numbers = {s.id: s.number for s in report.steps}
    html = env.get_template("freshness.html.j2").render(report=report, labels=LABELS, shot=shot,
                                                        vw=vp.width, vh=vp.height,
                                                        name=lambda sid, n=None: step_name(sid, numbers.get(sid, 0) if n is None else n, names))
    atomic_write_text(out, html)
    return out


def write_json(report: FreshnessReport, out: Path) -> Path:
    atomic_write_text(out, report.model_dump_json(indent=2))
    return out
