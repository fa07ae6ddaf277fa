"""Step ids written into the workflow file once, so that they stay when a locator is edited.

A step without `id:` gets one derived from its action and target (`Workflow.step_ids`); that id would
change when someone edits the locator, and every edit, archive and freshness report keyed on it would
lose its step. So the first build writes the derived ids into the file (record and import write them
already). The file is edited as a round trip (ruamel.yaml): the person's comments, order, quoting and
layout stay; only `id:` lines are added.
"""
from __future__ import annotations

import io
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from guidecast.capture.workflow import LoadedWorkflow, load_workflow
from guidecast.kernel.files import atomic_write_text


def write_step_ids(lw: LoadedWorkflow) -> LoadedWorkflow:
    """Add the derived ids of the steps that have none to the workflow file; returns the workflow read again
    (unchanged when every step has an id, or when the file is JSON or cannot be written)."""
    wf = lw.workflow
    if all(s.id for s in wf.steps):
        return lw
    text = lw.path.read_text("utf-8")
    if text.lstrip().startswith(("{", "[")):  # a JSON workflow: left as it is (its ids stay derived)
        return lw
    new = with_ids(text, wf.step_ids())
    if new is None:
        return lw
    try:
        atomic_write_text(lw.path, new)
    except OSError:  # a read-only workflow: the ids stay derived
        return lw
    return load_workflow(lw.path)


def with_ids(text: str, ids: list[str]) -> str | None:
    """`text` (a workflow's YAML) with `id:` first in every step that has none, else None if its steps
    cannot be found as a list of mappings."""
    yaml = _round_trip(text)
    try:
        data = yaml.load(text)
    except YAMLError:
        return None
    steps = data.get("steps") if isinstance(data, CommentedMap) else None
    if not isinstance(steps, CommentedSeq) or len(steps) != len(ids) or \
            not all(isinstance(s, CommentedMap) for s in steps):
        return None
    for step, sid in zip(steps, ids, strict=True):
        if not step.get("id"):
            if "id" in step:
                del step["id"]
            step.insert(0, "id", sid)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _round_trip(text: str) -> YAML:
    """A round-trip YAML that writes lists indented as this file indents them."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a person's long lines
    m = re.search(r"^steps:[ \t]*\n(?:[ \t]*#.*\n|[ \t]*\n)*([ \t]*)-([ \t]+)", text, re.M)
    if m:
        offset = len(m.group(1))
        yaml.indent(mapping=2, sequence=offset + len(m.group(2)) + 1, offset=offset)
    return yaml

