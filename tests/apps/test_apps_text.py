"""Step text on apps nobody here wrote: per app, the sentence a technical writer would write for every
step (written here by hand, after /work/shared/writing-steps.md), and no selector, id or role word in any
text a person reads or hears (guide, exports, captions, narration)."""
from __future__ import annotations

import re

import pytest

from guidecast.kernel.markup import plain
from guidecast.narration.script import build_script
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]

SENTENCES = {
    "datasette-comedies": [
        ("On the **films** page", "In the **column** list, select **genre**."),
        (None, "In the box after **=**, enter “Comedy”."),
        (None, "Click **Apply**."),
        (None, "Click the **year** column heading."),
        (None, "Click **12** in the row for **The Apartment**."),
    ],
    "todomvc-shopping": [
        ("On the **todos** page", "In **What needs to be done?**, type “Buy milk” and press **Enter**."),
        (None, "In **What needs to be done?**, type “Bake bread” and press **Enter**."),
        (None, "Select the checkbox for **Buy milk**."),
        (None, "Click **Active**."),
        (None, "Click **Completed**."),
        (None, "Click **Clear completed**."),
        (None, "Click **All**."),
    ],
    "wagtail-publish-article": [
        ("On the **Sign in to Wagtail** page", "In **Username**, enter “editor”."),
        (None, "In **Password**, enter your password."),
        (None, "Click **Sign in**."),
        ("On the **newsroom** page", "Click **Pages**."),
        ("In the **Home** dialog", "Click **Home**."),
        ("On the **Exploring: Home** page", "Go to **Add child page** in the **Actions** menu."),
        ("On the **Create a page in Home** page", "Click **Article page**."),
        ("On the **New: Article page**", "In **Title**, enter “Spring opening hours”."),
        (None, "In **Intro**, enter “From March we open at eight.”"),
        (None, "Click **More actions**."),
        (None, "Click **Publish**."),
    ],
    "wagtail-add-user": [
        ("On the **Sign in to Wagtail** page", "In **Username**, enter “editor”."),
        (None, "In **Password**, enter your password."),
        (None, "Click **Sign in**."),
        ("On the **newsroom** page", "Click **Settings**."),
        (None, "Go to **Users** in the left menu."),
        ("On the **Users** page", "Go to **Add a user** in the **Actions** menu."),
        ("On the **Add user: User** page", "In **Username**, enter “sam.reporter”."),
        (None, "In **Email**, enter “sam.reporter@example.com”."),
        (None, "In **First Name**, enter “Sam”."),
        (None, "In **Last Name**, enter “Reporter”."),
        (None, "In **Password**, enter a password for the new user."),
        (None, "In **Password confirmation**, enter the same password again."),
        (None, "Click **Create**."),
    ],
}
ENDINGS = {
    "datasette-comedies": "You now see the **films: 12** page.",
    "todomvc-shopping": "You now see the **todos** page.",
    "wagtail-publish-article": "You now see the **Exploring: Home** page.",
    "wagtail-add-user": "You now see the **Users** page.",
}

# What a reader must never see or hear: CSS/XPath, role words, test ids, label punctuation, doubled words.
CODE = re.compile(
    r"""[#.][a-z_-]+[\[:(]|\[[a-z_-]+=|:nth|:has-text|>>|//[a-z]|\bnth-of-type\b|\binput\.[a-z]"""
    r"""|\b(?:textbox|combobox|searchbox|spinbutton|listbox|menuitem|gridcell|columnheader|aria-\w+|data-testid)\b"""
    r"""|\*\*[^*]*[:*]\*\*|\bpage page\b|”\.\.|\.”\.""",
    re.IGNORECASE)


@pytest.mark.parametrize("name", sorted(SENTENCES))
def test_each_step_reads_as_a_writer_would_write_it(built, name):
    guide = built(name).guide
    got = [(s.section, s.text) for s in guide.steps]
    assert got == SENTENCES[name]
    assert guide.outro == ENDINGS[name]


@pytest.mark.parametrize("name", sorted(SENTENCES))
def test_no_selector_or_role_word_in_anything_a_person_reads_or_hears(built, name):
    b = built(name)
    guide = b.guide
    texts = [guide.title, guide.intro, guide.outro]
    for s in guide.steps:
        texts += [s.text, s.section or "", s.narration or ""]
    for item in build_script(guide):
        texts += [item.text, item.caption, item.chapter]
    md = (b.guide_dir / "guide.md").read_text("utf-8")
    texts.append(plain(re.sub(r"\]\([^)]*\)", "]", md)))  # what a reader sees: not the pictures' file names
    html = (b.guide_dir / "guide.html").read_text("utf-8")
    texts.append(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))
    leaks = sorted({m.group(0) for t in texts for m in CODE.finditer(t)})
    assert not leaks, f"{name}: {leaks}"
    for sid in (s.id for s in guide.steps):  # internal step ids stay internal
        if "-" in sid:
            assert all(sid not in t for t in texts[:-1]), sid
