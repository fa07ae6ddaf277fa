"""A renamed element is found again by its other traits and reported as renamed (old and new names), not
as gone; a step 1 that fails still gives the table of what could be checked."""
from __future__ import annotations

import functools
import http.server
import threading

import pytest

from guidecast.capture.check import check_capture
from guidecast.capture.replay import capture_workflow
from guidecast.samples import WORKFLOWS_DIR
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]


def table(report) -> dict[str, str]:
    return {s.id: s.status for s in report.steps}


def test_relabelled_fields_and_buttons_without_fallbacks_are_renamed_not_gone(sample_app, tmp_path):
    from guidecast.samples.expense_app import start_sample_app

    wf = tmp_path / "submit.yaml"  # the sample workflow without its test-id fallback: role + name alone
    wf.write_text((WORKFLOWS_DIR / "submit-expense.yaml").read_text().replace(
        "    fallbacks:\n      - {test_id: submit-expense}\n", ""))
    capture_workflow(wf, tmp_path / "capture", base_url=sample_app.url)
    relabelled = {"email_label": "Work email", "description_label": "What you paid for",
                  "submit_label": "Send for approval"}
    with start_sample_app("base", ui=relabelled) as changed:
        report = check_capture(tmp_path / "capture", base_url=changed.url)
    assert report.verified, report.error
    expected = {s.id: "unchanged" for s in report.steps}
    expected.update({"enter-email": "renamed", "fill-description": "renamed", "submit-expense": "renamed"})
    assert table(report) == expected
    steps = {s.id: s for s in report.steps}
    for sid, old, new in (("enter-email", "Email", "Work email"), ("fill-description", "Description", "What you paid for"),
                          ("submit-expense", "Submit expense", "Send for approval")):
        assert (steps[sid].before.name, steps[sid].after.name) == (old, new)
        assert any("found by its" in d for d in steps[sid].details), steps[sid].details
    assert "test id" in " ".join(steps["submit-expense"].details)
    assert "id attribute" in " ".join(steps["fill-description"].details)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Board</title></head><body>
<h1>Board</h1>{buttons}<p id="out" role="status"></p></body></html>"""


def test_a_step_1_whose_element_is_gone_still_gives_the_table(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    page = site / "board.html"
    page.write_text(PAGE.format(buttons='<button type="button" onclick="out.textContent=1">Refresh</button>'
                                        '<button type="button" onclick="out.textContent=2">Archive</button>'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wf = tmp_path / "board.yaml"
        wf.write_text("schema_version: 1\ntitle: Tidy the board\nstart_url: /board.html\nsteps:\n"
                      "  - {id: refresh, action: click, target: {role: button, name: Refresh}}\n"
                      "  - {id: archive, action: click, target: {role: button, name: Archive}}\n")
        capture_workflow(wf, tmp_path / "capture", base_url=f"http://127.0.0.1:{server.server_address[1]}")
        page.write_text(PAGE.format(buttons='<a href="#">Help</a>'))
        report = check_capture(tmp_path / "capture", retry=False, find_timeout=1.0)
    finally:
        server.shutdown()
    assert report.verified  # a gone element is a finding, not an app we could not reach
    assert table(report) == {"refresh": "gone", "archive": "unverified"}


@pytest.mark.video
def test_refresh_writes_the_locator_that_found_a_renamed_element_into_the_workflow(sample_app, tmp_path):
    """After a refresh published a replay that found elements by their other traits, the workflow names them
    by their new names (old target kept as a fallback, the person's comments kept) and the next check finds
    everything at once: unchanged."""
    import yaml

    from guidecast.capture.workflow import load_workflow
    from guidecast.core.build import CaptureOptions, NarrateOptions, build
    from guidecast.core.refresh import refresh
    from guidecast.samples.expense_app import start_sample_app

    wf = tmp_path / "submit.yaml"
    wf.write_text("# how the finance team submits\n" + (WORKFLOWS_DIR / "submit-expense.yaml").read_text().replace(
        "    fallbacks:\n      - {test_id: submit-expense}\n", ""))
    build(wf, tmp_path / "out", capture=CaptureOptions(base_url=sample_app.url), narrate=NarrateOptions(engine="silent"))
    with start_sample_app("base", ui={"submit_label": "Send for approval"}) as changed:
        report, entry = refresh(tmp_path / "out", base_url=changed.url)
        assert entry is not None and entry.healed == ["submit-expense"], (report.error, entry)
        text = wf.read_text()
        assert text.startswith("# how the finance team submits\n")
        step = next(s for s in yaml.safe_load(text)["steps"] if s["id"] == "submit-expense")
        assert step["target"] == {"role": "button", "name": "Send for approval"}
        assert step["fallbacks"][0] == {"role": "button", "name": "Submit expense"}
        load_workflow(wf)  # still a valid workflow
        again = check_capture(tmp_path / "out" / "capture", base_url=changed.url, retry=False, find_timeout=1.0)
    assert again.verified and table(again) == {s.id: "unchanged" for s in again.steps}
    assert not any("found by its" in d for s in again.steps for d in s.details)  # its own locator found it
    assert "WORKFLOW submit-expense" in (tmp_path / "out" / "CHANGELOG.md").read_text()
