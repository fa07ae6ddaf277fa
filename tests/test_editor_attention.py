"""What the editor's "needs your attention" list and the check results say, from guide.json and changelog
dicts alone: steps named by the learner's number and text (after a reorder, a fold, a hide), never by a
capture step number or id; each item says why in words and what the editor can do."""
from __future__ import annotations

from guidecast.capture.check_report import learner_steps, step_name
from guidecast.server.editing import attention_items, step_tools

LATEST = {
    "steps": [
        {"id": "open-expenses", "number": 1, "text": "Open **Expenses**.", "source_ids": ["open-expenses"], "is_new": True},
        {"id": "fill-amount", "number": 2, "text": "In **Amount**, type “42”.", "source_ids": ["click-amount", "fill-amount"],
         "blurs": [{"drawn": {"x": 1, "y": 1, "width": 5, "height": 5}, "box": {"x": 1, "y": 1, "width": 5, "height": 5},
                    "anchor": {"kind": "menu item", "name": "Reports", "dx": 0, "dy": 0,
                               "element": {"x": 1, "y": 1, "width": 5, "height": 5}}, "state": "lost"}]},
        {"id": "submit-expense", "number": 3, "text": "Click **Submit expense** to send it.",
         "generated_text": "Click **Save expense**.",
         "review": "the app changed: guidecast now writes “Click **Save expense**.” (was “Click **Submit expense**.”)"},
    ],
    "conflicts": [{"step_id": "choose-category", "edit": "steps.choose-category.text",
                   "message": "step 'choose-category' is not in the new capture; ..."}],
}
PREVIOUS = {"steps": [{"id": "choose-category", "number": 4, "text": "Pick **Travel**."}]}
CHANGELOG = {"flow": [{"after_step": "submit-expense", "kind": "new_dialog", "before": "the Expenses page",
                       "after": "the Submit for approval? dialog",
                       "proposal": "add a step after submit-expense: click **Confirm** in the dialog",
                       "proposed_step": {"action": "click", "target": {"role": "button", "name": "Confirm"}}}]}


def test_attention_items_name_steps_as_learners_see_them_and_say_what_to_do():
    items = attention_items(LATEST, PREVIOUS, CHANGELOG)
    by_kind = {i["kind"]: i for i in items}
    assert set(by_kind) == {"new_flow", "new_step", "blur_lost", "renamed", "conflict"}
    assert (by_kind["new_step"]["number"], by_kind["new_step"]["text"]) == (1, "Open **Expenses**.")
    assert [i["kind"] for i in attention_items(LATEST, PREVIOUS, None)].count("new_step") == 0  # not a refresh
    flow = by_kind["new_flow"]
    assert (flow["number"], flow["text"]) == (3, "Click **Submit expense** to send it.")
    assert "Submit for approval? dialog" in flow["why"] and "click **Confirm**" in flow["why"]
    assert flow["fix"] == {"add_step": {"after": "submit-expense", "text": "Click **Confirm**."}}
    assert by_kind["blur_lost"]["number"] == 2 and "**Reports**" in by_kind["blur_lost"]["why"]
    assert by_kind["renamed"]["number"] == 3 and "Click **Save expense**." in by_kind["renamed"]["why"]
    conflict = by_kind["conflict"]
    assert (conflict["number"], conflict["text"]) == (4, "Pick **Travel**.")  # as the last version showed it
    assert "no longer in the app" in conflict["why"] and "your text" in conflict["why"]
    assert conflict["fix"] == {"remove_edit": {"path": "steps.choose-category.text"}}
    for i in items:  # the words shown: no ids, no edit-layer paths
        assert "submit-expense" not in i["why"] and "steps." not in i["why"] and "choose-category" not in i["why"]


def test_check_results_name_the_learners_step_even_for_a_folded_part():
    names = learner_steps(LATEST)
    assert names["click-amount"] == (2, "In **Amount**, type “42”.")  # folded into step 2
    assert step_name("click-amount", 7, names) == "Step 2 “In **Amount**, type “42”.”"
    assert step_name("hidden-one", 5, names) == "a step learners do not see (hidden or new)"
    assert step_name("anything", 5, None) == "Step 5"  # a capture checked without its guide


def test_step_tools_give_the_controls_of_the_picture_a_step_shows():
    capture = {"steps": [
        {"id": "fill-amount", "controls": [{"kind": "field", "name": "Amount", "box": {"x": 1, "y": 2, "width": 3, "height": 4}},
                                            {"kind": "button", "name": "", "box": {"x": 0, "y": 0, "width": 1, "height": 1}},
                                            {"kind": "field", "name": "Notes", "box": None}],
         "element": {"box": {"x": 1, "y": 2, "width": 3, "height": 4}}},
        {"id": "click-amount", "controls": []}]}
    tools = step_tools(capture, {"steps": [LATEST["steps"][1]]})
    assert tools == {"fill-amount": {"controls": [{"kind": "field", "name": "Amount",
                                                   "box": {"x": 1, "y": 2, "width": 3, "height": 4}}],
                                     "target": {"x": 1, "y": 2, "width": 3, "height": 4}}}
