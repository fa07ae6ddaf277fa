"""Step text from element semantics: one unit test per action kind, and golden guides of the samples.

Regenerate the golden files after a deliberate wording change with GUIDECAST_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from guidecast.capture.bundle import CapturedStep, ElementContext, ElementInfo
from guidecast.capture.workflow import Locator
from guidecast.composer.fold import fold_steps
from guidecast.composer.text import intro_text, key_name, outro_text, page_title_heading, section_title, step_text
from guidecast.kernel.boxes import Box
from tests.conftest import requires_browser

GOLDEN = Path(__file__).parent / "golden"


def cs(action: str, role: str | None = None, name: str | None = None, **kw) -> CapturedStep:
    el_fields = {k: kw.pop(k) for k in ("label", "input_type", "in_navigation", "in_dialog", "box", "text", "tag")
                 if k in kw}
    if "context" in kw:
        el_fields["context"] = ElementContext(**kw.pop("context"))
    element = ElementInfo(role=role, name=name, **el_fields) if (role or name or el_fields) else None
    return CapturedStep(id=kw.pop("id", "s"), index=0, action=action, url=kw.pop("url", "http://app.test/x"),
                        title=kw.pop("title", "X"), screenshot="x.png", timing_ms=1, element=element, **kw)


@pytest.mark.parametrize("step, want", [
    (cs("click", "button", "Save"), "Click **Save**."),
    (cs("click", "link", "Expenses", in_navigation="Main menu", box=Box(x=10, y=120, width=200, height=40)),
     "Go to **Expenses** in the left menu."),
    (cs("click", "link", "Pricing", in_navigation="Main menu", box=Box(x=600, y=10, width=80, height=30)),
     "Go to **Pricing** in the top menu."),
    (cs("click", "link", "Profile", in_navigation="Account"), "Go to **Profile** in the **Account** menu."),
    (cs("click", "link", "New expense"), "Click **New expense**."),
    (cs("click", "checkbox", "I agree"), "Select the **I agree** checkbox."),
    (cs("click", "switch", "Dark mode"), "Turn on **Dark mode**."),
    (cs("click", "radio", "Monthly"), "Select **Monthly**."),
    (cs("click", "tab", "Details"), "Select the **Details** tab."),
    (cs("click", "menuitem", "Export"), "Choose **Export**."),
    (cs("click", "combobox", "Country"), "Open the **Country** list."),
    (cs("click", "textbox", "Search"), "Click in **Search**."),
    (cs("click", None, None, locator=Locator(css="#go")), "Click the highlighted element."),
    (cs("fill", "textbox", "Email", value="sam@example.com"), "In **Email**, enter “sam@example.com”."),
    (cs("fill", "textbox", "Email", input_type="email", value_redacted=True), "In **Email**, enter your email address."),
    (cs("fill", "textbox", "Password", input_type="password", value_redacted=True), "In **Password**, enter your password."),
    (cs("fill", "textbox", "Password", input_type="password", value="leaked"), "In **Password**, enter your password."),
    (cs("fill", "textbox", "Card number", value_redacted=True), "In **Card number**, enter your card number."),
    (cs("fill", "textbox", "Notes", value=""), "Clear **Notes**."),
    (cs("fill", "textbox", "Notes", value="x" * 100), "In **Notes**, enter “" + "x" * 79 + "…”."),
    (cs("select", "combobox", "Category", value="Travel"), "Select **Travel** from **Category**."),
    (cs("select", "combobox", "Category", value_redacted=True), "From **Category**, select your option."),
    (cs("check", "checkbox", "I agree"), "Select the **I agree** checkbox."),
    (cs("uncheck", "checkbox", "Newsletter"), "Clear the **Newsletter** checkbox."),
    (cs("uncheck", "switch", "Dark mode"), "Turn off **Dark mode**."),
    (cs("check", "radio", "Yearly"), "Select **Yearly**."),
    (cs("press", key="Enter"), "Press **Enter**."),
    (cs("press", key="Control+Shift+K"), "Press **Ctrl+Shift+K**."),
    (cs("press", "textbox", "Search", key="ArrowDown"), "In **Search**, press **Down arrow**."),
    (cs("hover", "button", "Help"), "Point to **Help**."),
    (cs("goto", heading="Expenses", url_arg="/expenses"), "Open the **Expenses** page."),
    (cs("goto", url_arg="/expenses"), "Go to /expenses."),
    (cs("click", "button", "Say **hi**"), "Click **Say hi**."),
], ids=lambda v: v if isinstance(v, str) else None)
def test_step_text_for_every_action_kind(step, want):
    assert step_text(step, viewport_width=1280) == want


@pytest.mark.parametrize("step, want", [
    # labels lose their punctuation, never their words
    (cs("fill", "textbox", "Username:", value="ada"), "In **Username**, enter “ada”."),
    (cs("fill", "textbox", "Username*", value="ada"), "In **Username**, enter “ada”."),
    (cs("fill", "textbox", "Email address *", value="a@b.c"), "In **Email address**, enter “a@b.c”."),
    # one full stop after a value that ends its own sentence
    (cs("fill", "textbox", "Intro", value="A short intro."), "In **Intro**, enter “A short intro.”"),
    (cs("fill", "textbox", "Question", value="Why?"), "In **Question**, enter “Why?”"),
    # no name of its own: what the reader sees around it, never the locator
    (cs("select", "combobox", None, tag="select", value="genre", locator=Locator(css='select[name="_filter_column"]'),
        context={"placeholder": "- column -", "ordinal": 1, "count": 2}), "In the **column** list, select **genre**."),
    (cs("select", "combobox", None, tag="select", value="contains", context={"ordinal": 2, "count": 2}),
     "In the second list, select **contains**."),
    (cs("fill", "textbox", None, tag="input", value="Horror", context={"before": "="}),
     "In the box after **=**, enter “Horror”."),
    (cs("click", "checkbox", None, tag="input", locator=Locator(css="li:has-text('Buy milk') input.toggle"),
        context={"row": "Buy milk"}), "Select the checkbox for **Buy milk**."),
    (cs("click", "button", None, tag="button", context={"row": "Buy milk"}), "Click the button for **Buy milk**."),
    (cs("fill", "textbox", None, tag="input", value="ada", locator=Locator(role="textbox")),
     "In the highlighted box, enter “ada”."),
    (cs("fill", "textbox", None, tag="input", value="ada", context={"group": "Sign in"}),
     "Under **Sign in**, enter “ada”."),
    (cs("select", "combobox", None, tag="select", value="Open", context={"column": "Status"}),
     "Select **Open** from **Status**."),
    (cs("click", "button", None, tag="button", context={"ordinal": 3, "count": 4}), "Click the third button."),
    (cs("click", None, None, locator=Locator(test_id="todo-input")), "Click the highlighted element."),
    (cs("click", None, None, locator=Locator(label="Title")), "Click **Title**."),
    # whose password
    (cs("fill", "textbox", "Password", input_type="password", value_redacted=True, title="Sign in - Wagtail",
        context={"form_passwords": 1, "password_index": 1, "submit": "Sign in"}), "In **Password**, enter your password."),
    (cs("fill", "textbox", "Password", input_type="password", value_redacted=True, heading="Add user",
        context={"form_passwords": 2, "password_index": 1, "submit": "Add user"}),
     "In **Password**, enter a password for the new user."),
    (cs("fill", "textbox", "Password confirmation", input_type="password", value_redacted=True, heading="Add user",
        context={"form_passwords": 2, "password_index": 2}), "In **Password confirmation**, enter the same password again."),
    (cs("fill", "textbox", "Password", input_type="password", value_redacted=True, heading="Create your account",
        context={"form_passwords": 2, "password_index": 1, "autocomplete": "new-password"}),
     "In **Password**, enter a password."),
    (cs("fill", "textbox", "New password", input_type="password", value_redacted=True, heading="Change password",
        context={"form_passwords": 3, "password_index": 2}), "In **New password**, enter a new password."),
], ids=lambda v: v if isinstance(v, str) else None)
def test_names_a_writer_would_use(step, want):
    assert step_text(step, viewport_width=1280) == want


def test_no_page_page_and_no_dialog_dialog():
    assert step_text(cs("goto", heading="New: Article page", url_arg="/new")) == "Open the **New: Article page**."
    assert section_title(cs("click", "button", "Save", heading="New: Article page")) == "On the **New: Article page**"
    assert section_title(cs("click", "button", "OK", in_dialog=True, heading="Confirm dialog")) == \
        "In the **Confirm dialog**"


def _box(x=10.0):
    return Box(x=x, y=10, width=200, height=30)


def test_click_then_fill_then_enter_fold_into_one_step():
    steps = [cs("click", "textbox", "Description", id="c", box=_box(), tag="input"),
             cs("fill", "textbox", "Description", id="f", box=_box(), tag="input", value="Train"),
             cs("press", key="Enter", id="p"),
             cs("click", "button", "Save", id="save", box=_box(300)),
             cs("fill", "textbox", "Other", id="o", box=_box(500), tag="input", value="x")]
    folds = fold_steps(steps)
    assert [(f.main.id, [p.id for p in f.parts], f.then_key) for f in folds] == [
        ("f", ["c", "f", "p"], "Enter"), ("save", ["save"], None), ("o", ["o"], None)]
    assert step_text(folds[0].main, then_key="Enter") == "In **Description**, type “Train” and press **Enter**."
    # a click into another field, or a key other than Enter, stays its own step
    other = [cs("click", "textbox", "A", id="a", box=_box(), tag="input"),
             cs("fill", "textbox", "B", id="b", box=_box(400), tag="input", value="x"),
             cs("press", key="Tab", id="t")]
    assert [len(f.parts) for f in fold_steps(other)] == [1, 1, 1]


def test_sections_for_pages_and_dialogs():
    assert section_title(cs("click", "button", "Save", heading="New expense")) == "On the **New expense** page"
    assert section_title(cs("click", "button", "Confirm", in_dialog=True, heading="Submit for approval?")) == \
        "In the **Submit for approval?** dialog"
    assert section_title(cs("click", "button", "Save")) is None


def test_intro_outro_and_helpers():
    assert intro_text("Submit an expense", "Record a business expense.", 3) == (
        "In this guide you will record a business expense. It takes 3 steps. "
        "Follow the steps in order; each screenshot highlights where to act.")
    assert intro_text("Submit an expense", None, 1).startswith("In this guide you will submit an expense. It takes 1 step.")
    assert intro_text("SSO setup", None).startswith("This guide walks you through SSO setup.")
    assert outro_text("Expense submitted") == "You now see the **Expense submitted** page."
    assert outro_text("New: Article page") == "You now see the **New: Article page**."
    assert outro_text(None) == "You have completed every step of this guide."
    assert page_title_heading("Expense submitted · Expensely") == "Expense submitted"
    assert page_title_heading("Team - Expensely") == "Team"
    assert key_name("Meta+a") == "Cmd+a"


def guide_texts(guide) -> dict:
    return {"title": guide.title, "intro": guide.intro, "outro": guide.outro,
            "steps": [{"id": s.id, "section": s.section, "text": s.text} for s in guide.steps]}


def check_golden(name: str, got: dict) -> None:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("GUIDECAST_UPDATE_GOLDEN") or not path.exists():
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
        if not os.environ.get("GUIDECAST_UPDATE_GOLDEN"):
            pytest.fail(f"{path} did not exist; written now: review it and commit it")
    want = json.loads(path.read_text("utf-8"))
    assert got == want, f"guide text differs from {path} (GUIDECAST_UPDATE_GOLDEN=1 rewrites it after review)"


@requires_browser
def test_golden_submit_expense(submit_expense_guide):
    from guidecast.composer.guide import load_guide

    check_golden("submit-expense", guide_texts(load_guide(submit_expense_guide)))


@requires_browser
@pytest.mark.browser
def test_golden_invite_teammate(tmp_path, sample_app):
    from guidecast.capture.replay import capture_workflow
    from guidecast.composer.compose import compose_guide
    from guidecast.samples import WORKFLOWS_DIR

    capture_workflow(WORKFLOWS_DIR / "invite-teammate.yaml", tmp_path / "cap", base_url=sample_app.url)
    guide = compose_guide(tmp_path / "cap", tmp_path / "guide")
    check_golden("invite-teammate", guide_texts(guide))
