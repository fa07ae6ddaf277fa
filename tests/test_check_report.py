"""The freshness report's summary line: what changed, apart from what could not be checked."""
from __future__ import annotations

from guidecast.capture.compare import FreshnessReport


def test_the_summary_counts_changed_and_unverified_steps_apart():
    from guidecast.capture.check_report import summary_line
    from guidecast.capture.compare import FlowChange, Seen, StepChange

    def step(i: int, status: str) -> StepChange:
        return StepChange(id=f"s{i}", number=i, status=status, classes=[] if status == "unchanged" else [status],
                          before=Seen())

    base = dict(workflow_path="w.yaml", workflow_sha256="0", baseline_capture="a", current_capture="b",
                checked_at="now")
    gone_then_stopped = FreshnessReport(**base, steps=[step(1, "unchanged"), step(2, "gone"), step(3, "unverified"),
                                                       step(4, "unverified")])
    assert summary_line(gone_then_stopped) == "1 step changed, 2 not verified (the replay stopped before them)"
    dialog = FreshnessReport(**base, steps=[step(1, "unchanged")],
                             flow=[FlowChange(after_step="s1", kind="new_dialog", before="A", after="B")])
    assert summary_line(dialog) == "1 new page or dialog"
    assert summary_line(FreshnessReport(**base, steps=[step(1, "unchanged")])) == "no user-visible change"
