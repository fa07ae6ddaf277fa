"""New things on a page: a step's page that gained a field or a menu item says so, and a new dialog after
a step comes with the step to add."""
from __future__ import annotations

import pytest

from guidecast.capture.check import check_capture
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]


def test_a_new_field_and_a_new_menu_item_are_reported_on_the_first_step_that_shows_them(submit_expense_capture):
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base", ui={"extra_field": "Project code", "menu_extra": "Reports"}) as changed:
        report = check_capture(submit_expense_capture, base_url=changed.url)
    assert report.verified, report.error
    found = {s.id: s.status for s in report.steps}
    expected = {s: "unchanged" for s in found}
    expected.update({"open-expenses": "controls", "fill-description": "controls",
                     "submit-expense": "moved"})  # the new field pushes the button down
    assert found == expected
    steps = {s.id: s for s in report.steps}
    assert steps["fill-description"].details == ["the New expense page gained a field **Project code**"]
    assert steps["open-expenses"].details == ["the Dashboard page gained a menu item **Reports**"]


def test_a_new_dialog_after_a_step_comes_with_the_step_to_add(submit_expense_capture, sample_app_changed):
    report = check_capture(submit_expense_capture, base_url=sample_app_changed.url, retry=False)
    (flow,) = report.flow
    assert flow.after_step == "submit-expense" and flow.kind == "new_dialog"
    assert flow.proposed_step == {"action": "click", "target": {"role": "button", "name": "Confirm"}}
    assert flow.proposal.startswith("add a step after submit-expense: click **Confirm** in dialog 'Submit for approval?'")
