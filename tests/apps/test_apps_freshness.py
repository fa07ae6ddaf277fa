"""Freshness on the real apps: a change made through each app's own configuration (a Datasette template
override, a Wagtail admin template override, a new and a relabelled Wagtail model field, a new Wagtail admin menu
item, an edited TodoMVC JSX file) is found step by step (a table per app, step | expected | found), and the unchanged app gives all "unchanged" three runs in a row, also for a
workflow that creates a user (a per-run name); without one, the second replay is "the app refused step 13"
with Wagtail's own message."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from guidecast.capture.check import check_capture
from guidecast.capture.replay import capture_workflow
from tests.apps import servers
from tests.apps.conftest import SECRETS_ENV, WORKFLOWS, _need
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch, tmp_path):
    for k, v in SECRETS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GUIDECAST_STATE_DIR", str(tmp_path / "state"))


def table(report) -> list[tuple[int, str]]:
    return [(s.number, s.status) for s in report.steps]


def expect(n_steps: int, changed: dict[int, str]) -> list[tuple[int, str]]:
    return [(n, changed.get(n, "unchanged")) for n in range(1, n_steps + 1)]


def assert_table(report, expected: list[tuple[int, str]]) -> None:
    found = table(report)
    rows = "\n".join(f"  step {n} | expected {e} | found {f} {s.details if e != f else ''}"
                     for (n, e), (_, f), s in zip(expected, found, report.steps, strict=False))
    assert found == expected, f"{report.error or ''}\n{rows}"


def unchanged_three_times(capture: Path, url: str, n_steps: int) -> None:
    for run in range(3):
        report = check_capture(capture, base_url=url)
        assert report.verified and report.refused is None, (run, report.error)
        assert_table(report, expect(n_steps, {}))
        assert not report.flow


def test_datasette_template_override_renames_the_apply_button(datasette_app, tmp_path):
    wf = WORKFLOWS / "datasette-comedies.yaml"
    capture_workflow(wf, tmp_path / "capture", base_url=datasette_app.url)
    unchanged_three_times(tmp_path / "capture", datasette_app.url, 5)
    # the site's own template folder (`datasette --template-dir`): table.html with the button relabelled
    installed = next((servers.APPS / "datasette").glob("lib/python*/site-packages/datasette/templates/table.html"))
    templates = tmp_path / "templates"
    templates.mkdir()
    text = installed.read_text()
    assert '<input type="submit" value="Apply">' in text
    (templates / "table.html").write_text(text.replace('<input type="submit" value="Apply">',
                                                       '<input type="submit" value="Apply filters">'))
    (tmp_path / "site").mkdir()
    with servers.start_datasette(tmp_path / "site", ("--template-dir", str(templates))) as changed:
        report = check_capture(tmp_path / "capture", base_url=changed.url)
    assert report.verified, report.error
    assert_table(report, expect(5, {3: "renamed"}))
    apply = report.steps[2]
    assert (apply.before.name, apply.after.name) == ("Apply", "Apply filters")
    assert any("found by its" in d for d in apply.details)


def test_todomvc_jsx_change_renames_clear_completed(todomvc_app, tmp_path):
    wf = WORKFLOWS / "todomvc-shopping.yaml"
    capture_workflow(wf, tmp_path / "capture", base_url=todomvc_app.url)
    unchanged_three_times(tmp_path / "capture", todomvc_app.url, 9)
    site = tmp_path / "site"  # the example and what its page loads from the package (learn.json: the sidebar)
    shutil.copytree(servers.TODOMVC / "examples" / "react", site / "examples" / "react")
    shutil.copyfile(servers.TODOMVC / "learn.json", site / "learn.json")
    footer = site / "examples" / "react" / "js" / "footer.jsx"
    assert "Clear completed" in footer.read_text()
    footer.write_text(footer.read_text().replace("Clear completed", "Remove completed"))
    with servers.start_todomvc(site) as changed:
        report = check_capture(tmp_path / "capture", base_url=changed.url)
    assert report.verified, report.error
    assert_table(report, expect(9, {8: "renamed"}))
    clear = report.steps[7]
    assert (clear.before.name, clear.after.name) == ("Clear completed (1)", "Remove completed (1)")


def add_user_workflow(tmp_path: Path, per_run: bool) -> Path:
    text = (WORKFLOWS / "wagtail-add-user.yaml").read_text()
    if per_run:
        text = text.replace("value: sam.reporter@example.com", "value: 'sam.{{ run.id }}@example.com'")
        text = text.replace("value: sam.reporter", "value: 'sam.{{ run.id }}'")
    wf = tmp_path / "add-user.yaml"
    wf.write_text(text)
    return wf


def test_wagtail_add_user_replays_unchanged_with_a_per_run_name_and_a_template_override_renames_create(
        wagtail_app, wagtail_project, tmp_path):
    wagtail_app.data["reset"]()
    wf = add_user_workflow(tmp_path, per_run=True)
    capture_workflow(wf, tmp_path / "capture", base_url=wagtail_app.url)
    tables = []
    for run in range(3):
        report = check_capture(tmp_path / "capture", base_url=wagtail_app.url)
        assert report.verified and report.refused is None and not report.flow, (run, report.error)
        assert_table(report, expect(13, {}))
        tables.append(table(report))
    users = servers.end_state(wagtail_app)["users"]
    made = [u[0] for u in users if u[0].startswith("sam.")]
    # the baseline and one or two replays per check (a second only where the first disagreed), each its own user
    assert 4 <= len(made) <= 7 and len(set(made)) == len(made)
    # the project's own template folder overrides the user form's main button
    project = tmp_path / "newsroom"
    shutil.copytree(wagtail_project, project)
    override = project / "newsroom" / "templates" / "wagtailusers" / "users" / "create.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(
        '{% extends "wagtailusers/users/create.html" %}\n{% load wagtailadmin_tags %}\n'
        '{% block main_action %}<button type="submit" class="button button-longrunning">'
        '{% icon name="spinner" %}<em>Add user</em></button>{% endblock %}\n')
    with servers.start_wagtail(project) as changed:
        report = check_capture(tmp_path / "capture", base_url=changed.url)
    assert report.verified, report.error
    assert_table(report, expect(13, {13: "renamed"}))
    create = report.steps[12]
    assert (create.before.name, create.after.name) == ("Create", "Add user")


def test_wagtail_add_user_twice_is_refused_with_wagtails_message(wagtail_app, tmp_path):
    _need("wagtail")
    wagtail_app.data["reset"]()
    wf = add_user_workflow(tmp_path, per_run=False)
    capture_workflow(wf, tmp_path / "capture", base_url=wagtail_app.url)
    report = check_capture(tmp_path / "capture", base_url=wagtail_app.url)
    assert not report.verified and report.refused is not None
    assert report.refused.step == 13
    assert "already exists" in report.refused.message
    assert report.error.startswith("the app refused step 13")
    assert not any(s.status in ("new_flow", "gone", "renamed", "controls") for s in report.steps)


# A new model field, a relabelled one and a new admin menu item, made as a Wagtail developer makes them: the
# page model changed (a migration) and a `register_admin_menu_item` hook.
SUBTITLE_FIELD = (
    '    subtitle = models.CharField("Subtitle", max_length=250, blank=True)\n\n'
    '    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("subtitle")]\n')
MENU_HOOK = """from wagtail import hooks
from wagtail.admin.menu import MenuItem


@hooks.register("register_admin_menu_item")
def register_reports_hub():
    return MenuItem("Reports hub", "/admin/reports/", icon_name="doc-full", order=10000)
"""


def test_wagtail_new_model_field_relabelled_field_and_new_menu_item_are_reported_where_they_appear(
        wagtail_app, wagtail_project, tmp_path):
    wagtail_app.data["reset"]()
    wf = WORKFLOWS / "wagtail-publish-article.yaml"
    capture_workflow(wf, tmp_path / "capture", base_url=wagtail_app.url)
    project = tmp_path / "newsroom"
    shutil.copytree(wagtail_project, project)
    models = project / "home" / "models.py"
    text = models.read_text()
    panels = '    content_panels = Page.content_panels + [FieldPanel("intro")]\n'
    assert panels in text
    intro = 'intro = models.CharField("Intro",'
    assert intro in text
    models.write_text(text.replace(panels, SUBTITLE_FIELD).replace(intro, 'intro = models.CharField("Summary",'))
    (project / "home" / "wagtail_hooks.py").write_text(MENU_HOOK)
    py = str(servers.WAGTAIL_BIN / "python")
    shutil.copyfile(project / "pristine.sqlite3", project / "db.sqlite3")
    for cmd in ([py, "manage.py", "makemigrations", "home", "-v0"], [py, "manage.py", "migrate", "--noinput", "-v0"]):
        done = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        assert done.returncode == 0, done.stderr[-2000:]
    shutil.copyfile(project / "db.sqlite3", project / "pristine.sqlite3")
    with servers.start_wagtail(project) as changed:
        report = check_capture(tmp_path / "capture", base_url=changed.url)
    assert report.verified, report.error
    # step 4 (Pages) is the first with the admin menu; step 8 (Title) the first on the article form; step 9
    # types into the field now labelled Summary
    assert_table(report, expect(11, {4: "controls", 8: "controls", 9: "renamed"}))
    summary = report.steps[8]
    assert (summary.before.name, summary.after.name) == ("Intro", "Summary")
    menu, form = report.steps[3].details, report.steps[7].details
    assert any("Reports hub" in d and "menu item" in d for d in menu), menu
    assert any("Subtitle" in d and "field" in d for d in form), form
    # each change is told once: the menu item not again on later pages, the field not again at step 9
    assert not any("Reports hub" in d for s in report.steps[4:] for d in s.details)
    assert not any("Subtitle" in d for s in report.steps[8:] for d in s.details)
