"""The edit layer survives a re-capture against the changed sample app.

The "changed" Expensely renames "Submit expense" to "Save expense" (same data-testid), moves Category
first and asks "Submit for approval?" in a dialog. The base workflow still completes there through its
test_id fallback, but it then stops at the dialog, so its step ids are the same and nothing is new or
gone. A workflow author would update the workflow for the new UI: the copy used here replaces the last
step by `save-expense` and adds `confirm-submit` (Confirm in the dialog). Edits on the old
`submit-expense` step become conflicts; the two new steps are marked new; every other edit still applies.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from guidecast.capture.bundle import load_capture
from guidecast.capture.replay import capture_workflow
from guidecast.composer.compose import compose_guide
from guidecast.composer.versions import load_version, version_numbers
from tests.conftest import requires_browser

REPO = Path(__file__).resolve().parent.parent

EDITS = {
    "title": "Submit an expense for approval",
    "steps": {
        "fill-description": {"text": "In **Description**, say what you paid for."},
        "open-expenses": {"callouts": [{"kind": "tip", "text": "You can also press **g** then **e**."}]},
        "mark-billable": {"hidden": True},
        "choose-category": {"crop": {"x": 200, "y": 60, "width": 800, "height": 500}, "narration": "Pick Travel."},
        "submit-expense": {"text": "Click **Submit expense** to send it.", "narration": "Send it off."},
    },
    "merge": [{"first": "enter-email", "second": "enter-password"}],
    "insert": [{"id": "keep-receipt", "after": "fill-date", "text": "Keep the paper receipt until you are paid."}],
    "move": [{"step": "fill-date", "after": "fill-description"}],
}


def changed_workflow(src: Path, dst: Path) -> Path:
    wf = yaml.safe_load(src.read_text())
    assert wf["steps"][-1]["id"] == "submit-expense"
    wf["steps"][-1] = {"id": "save-expense", "action": "click", "target": {"role": "button", "name": "Save expense"},
                       "fallbacks": [{"test_id": "submit-expense"}]}
    wf["steps"].append({"id": "confirm-submit", "action": "click", "target": {"role": "button", "name": "Confirm"}})
    dst.write_text(yaml.safe_dump(wf, sort_keys=False))
    return dst


@requires_browser
@pytest.mark.browser
def test_base_workflow_still_completes_on_the_changed_app_through_its_fallback(tmp_path, sample_app_changed,
                                                                               submit_expense_workflow):
    cap = capture_workflow(submit_expense_workflow, tmp_path / "cap", base_url=sample_app_changed.url)
    last = cap.steps[-1]
    assert last.id == "submit-expense" and last.locator_rank == 1 and last.element.name == "Save expense"


@requires_browser
@pytest.mark.browser
def test_recapture_keeps_edits_reports_conflicts_and_marks_new_steps(tmp_path, submit_expense_capture,
                                                                     sample_app_changed, submit_expense_workflow):
    guide_dir = tmp_path / "guide"
    edits_file = tmp_path / "edits.yaml"
    edits_file.write_text(yaml.safe_dump(EDITS, sort_keys=False))
    v1 = compose_guide(submit_expense_capture, guide_dir, edits=edits_file)
    assert v1.conflicts == [] and not any(s.is_new for s in v1.steps)

    wf = changed_workflow(submit_expense_workflow, tmp_path / "submit-expense-changed.yaml")
    capture_workflow(wf, tmp_path / "capture2", base_url=sample_app_changed.url)
    proc = subprocess.run([sys.executable, "-m", "guidecast", "-q", "compose", str(tmp_path / "capture2"), "-o",
                           str(guide_dir)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "conflict: steps.submit-expense.text: step 'submit-expense' is not in the new capture" in proc.stdout
    assert "conflict: steps.submit-expense.narration:" in proc.stdout
    assert "new steps (not in the previous capture): save-expense, confirm-submit" in proc.stdout

    from guidecast.composer.guide import load_guide

    g = load_guide(guide_dir)
    by = {s.id: s for s in g.steps}
    # every edit on a surviving step is still there
    assert g.title == "Submit an expense for approval"
    assert by["fill-description"].text == "In **Description**, say what you paid for."
    assert by["open-expenses"].callouts[-1].text == "You can also press **g** then **e**."
    assert "mark-billable" not in by
    assert by["choose-category"].narration == "Pick Travel." and by["choose-category"].image_size == (800, 500)
    assert by["enter-email"].source_ids == ["enter-email", "enter-password"]
    assert by["keep-receipt"].free and by["keep-receipt"].image is None
    ids = [s.id for s in g.steps]
    assert ids.index("fill-date") == ids.index("fill-description") + 1
    assert ids.index("keep-receipt") == ids.index("choose-category") + 1  # inserted where fill-date was
    # the removed step's edits: reported, kept in the edit layer, never applied elsewhere
    assert {c.edit for c in g.conflicts} == {"steps.submit-expense.text", "steps.submit-expense.narration"}
    assert yaml.safe_load((guide_dir / "edits.yaml").read_text()) == EDITS
    assert not any("Send it" in (s.narration or "") or "to send it" in s.text for s in g.steps)
    # the new steps are marked new and read well
    assert [s.id for s in g.steps if s.is_new] == ["save-expense", "confirm-submit"]
    assert by["save-expense"].text == "Click **Save expense**."
    assert by["confirm-submit"].text == "Click **Confirm**."
    assert by["confirm-submit"].section == "In the **Submit for approval?** dialog"
    # versions: v1 kept as it was; v2 records the new capture and the same edit-set hash
    assert version_numbers(guide_dir) == [1, 2] and (g.version, g.previous_version) == (2, 1)
    assert load_version(guide_dir, 1).id == v1.id
    assert g.source.capture_id == load_capture(tmp_path / "capture2").id != v1.source.capture_id
    assert g.edits_sha256 == v1.edits_sha256
