"""Step ids are written into the workflow file once (comments and layout kept), so editing a locator keeps
the step's id."""
from __future__ import annotations

from guidecast.capture.stepids import write_step_ids
from guidecast.capture.workflow import load_workflow

WORKFLOW = """\
# Tidy the board: the team's Monday routine.
schema_version: 1
title: Tidy the board   # shown as the guide's title
start_url: /board.html
steps:
  # first refresh, so that the counts are current
  - action: click
    target: {role: button, name: Refresh}
    note: "Counts update at once."
  - {action: click, target: {role: button, name: Archive}}
  - id: confirm
    action: press
    key: Enter
"""


def test_ids_are_written_once_with_comments_and_layout_kept(tmp_path):
    wf = tmp_path / "board.yaml"
    wf.write_text(WORKFLOW)
    lw = write_step_ids(load_workflow(wf))
    assert lw.workflow.step_ids() == ["click-refresh", "click-archive", "confirm"]
    assert [s.id for s in lw.workflow.steps] == ["click-refresh", "click-archive", "confirm"]  # in the file now
    text = wf.read_text()
    assert text == WORKFLOW.replace("  - action: click\n", "  - id: click-refresh\n    action: click\n").replace(
        "  - {action: click, target: {role: button, name: Archive}}",
        "  - {id: click-archive, action: click, target: {role: button, name: Archive}}")
    # the person edits the locator: the id stays
    wf.write_text(text.replace("name: Refresh}", "name: Reload}"))
    assert load_workflow(wf).workflow.step_ids()[0] == "click-refresh"
    before = wf.read_text()
    write_step_ids(load_workflow(wf))  # nothing to add: the file is not touched
    assert wf.read_text() == before


def test_lists_written_without_indent_stay_so_and_json_is_left_alone(tmp_path):
    wf = tmp_path / "flat.yaml"
    wf.write_text("title: T\nstart_url: /\nsteps:\n- action: click\n  target: {text: Go}\n")
    write_step_ids(load_workflow(wf))
    assert wf.read_text() == "title: T\nstart_url: /\nsteps:\n- id: click-go\n  action: click\n  target: {text: Go}\n"
    js = tmp_path / "flow.json"
    js.write_text('{"title": "T", "start_url": "/", "steps": [{"action": "click", "target": {"text": "Go"}}]}')
    write_step_ids(load_workflow(js))
    assert "id" not in js.read_text()
