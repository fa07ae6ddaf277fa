"""Replay details: dialogs, hover menus, portal dropdowns, back/forward, bundle fields, partial results."""
from __future__ import annotations

import pytest

from guidecast.capture.bundle import load_capture
from guidecast.kernel.errors import CaptureError
from tests.conftest import requires_browser
from tests.fixtures.capture.site_server import serve_site

pytestmark = [requires_browser, pytest.mark.browser]

WIDGETS = """
title: Widgets
start_url: /index.html
steps:
  - action: click
    target: {role: link, name: Widgets}
  - action: back
  - action: forward
  - action: hover
    target: {role: button, name: Account}
  - action: click
    target: {role: link, name: Sign out}
  - action: click
    target: {role: button, name: Choose colour}
  - id: pick-blue
    action: click
    target: {role: option, name: Blue}
  - action: click
    target: {role: button, name: Delete draft}
    dialog: dismiss
  - action: click
    target: {role: button, name: Archive draft}
"""


@pytest.fixture(scope="module")
def site():
    with serve_site() as s:
        yield s


@pytest.fixture(scope="module")
def widgets(site, tmp_path_factory):
    from guidecast.capture.replay import capture_workflow

    d = tmp_path_factory.mktemp("widgets")
    (d / "widgets.yaml").write_text(WIDGETS)
    site.log.clear()
    bundle = capture_workflow(d / "widgets.yaml", d / "cap", base_url=site.url, device_scale_factor=2)
    return d / "cap", bundle, list(site.log)


def test_hover_menu_portal_dropdown_and_dialog_answers(widgets):
    _, bundle, log = widgets
    assert log == [{"menu": "sign-out"}, {"colour": "Blue"}, {"deleted": False}, {"archived": True}]
    by_id = {s.id: s for s in bundle.steps}
    assert [(d.type, d.answer) for d in by_id["click-delete-draft"].dialogs] == [("confirm", "dismiss")]
    assert [(d.type, d.message) for d in by_id["click-archive-draft"].dialogs] == [("alert", "Archived")]
    assert by_id["pick-blue"].element.role == "option"


def test_back_and_forward(widgets):
    _, bundle, _ = widgets
    back, forward = bundle.steps[1], bundle.steps[2]
    assert back.url.endswith("/index.html") and forward.url.endswith("/widgets.html")


def test_bundle_records_viewport_scale_boxes_and_screenshots(widgets):
    from PIL import Image

    cap_dir, bundle, _ = widgets
    assert load_capture(cap_dir) == bundle
    step = bundle.steps[5]
    assert (step.viewport.width, step.viewport.height, step.device_scale_factor) == (1280, 720, 2)
    el = step.element
    assert (el.role, el.name, step.locator.role, step.locator_rank) == ("button", "Choose colour", "button", 0)
    assert el.box_device.width == pytest.approx(el.box.width * 2) and el.box_device.x == pytest.approx(el.box.x * 2)
    assert step.title == "Widgets · Shop" and step.url.endswith("/widgets.html")
    assert Image.open(cap_dir / "screenshots" / step.screenshot).size == (2560, 1440)
    assert step.screenshot.endswith(".png") and len(step.screenshot) == 36  # content-hash named
    assert bundle.final_screenshot and bundle.partial is False


def test_fallback_locator_is_used_and_recorded(site, tmp_path):
    from guidecast.capture.replay import capture_workflow

    (tmp_path / "wf.yaml").write_text("""
title: Fallback
start_url: /widgets.html
steps:
  - action: click
    target: {role: button, name: Remove draft}
    fallbacks: [{css: '#nope'}, {css: '#delete'}]
""")
    bundle = capture_workflow(tmp_path / "wf.yaml", tmp_path / "cap", base_url=site.url, find_timeout=1)
    assert bundle.steps[0].locator_rank == 2 and bundle.steps[0].locator.css == "#delete"


def test_browser_crash_keeps_the_steps_so_far(site, tmp_path):
    """The browser dies during step 3: the error says where, the two steps before are kept."""
    import psutil

    from guidecast.capture.replay import capture_workflow

    (tmp_path / "wf.yaml").write_text(WIDGETS)

    def kill_browser_at_step_3(done, total, what):
        if done == 2:
            for child in psutil.Process().children(recursive=True):
                if "chrom" in child.name().lower() or "headless" in child.name().lower():
                    child.kill()

    out = tmp_path / "cap"
    with pytest.raises(CaptureError) as err:
        capture_workflow(tmp_path / "wf.yaml", out, base_url=site.url, progress=kill_browser_at_step_3)
    msg = str(err.value)
    assert "step 3 (forward)" in msg and "crashed or was closed" in msg
    assert f"the 2 steps captured before it are in {out}.partial" in msg
    assert not out.exists()
    partial = load_capture(tmp_path / "cap.partial")
    assert partial.partial and [s.id for s in partial.steps] == ["click-widgets", "back"]
    assert "step 3" in partial.error
    for s in partial.steps:
        assert (tmp_path / "cap.partial" / "screenshots" / s.screenshot).exists()


# -- allowed hosts (the server's SSRF guard) --------------------------------------------------------

@pytest.fixture(scope="module")
def two_hosts():
    """An app and a second server on another port, which the app links, redirects and scripts to."""
    from tests.fixtures.capture.pages_server import serve_pages

    with serve_pages() as app, serve_pages() as other:
        other.pages["/x"] = "<!doctype html><title>Other</title><h1>Other</h1>"
        app.pages["/"] = f"""<!doctype html><title>Home</title><h1>Home</h1>
<img src="{other.url}/pixel.png" alt=""><iframe src="{other.url}/x" title="other"></iframe>
<a href="/next">Next</a> <a href="{other.url}/x">Partner</a> <a href="/go">Jump</a>
<a href="{other.url}/x" target="_blank">Partner tab</a> <a href="/js">Script</a>"""
        app.pages["/next"] = "<!doctype html><title>Next</title><h1>Next</h1>"
        app.pages["/go"] = ("redirect", other.url + "/x?token=s3cret")
        app.pages["/js"] = f"<!doctype html><title>JS</title><h1>JS</h1><script>setTimeout(() => location.href = '{other.url}/x', 50)</script>"
        yield app, other


def _hosts_workflow(tmp_path, steps: str):
    (tmp_path / "wf.yaml").write_text("title: Hosts\nstart_url: /\nsteps:\n  - action: wait_for\n"
                                      "    target: {role: heading, name: Home}\n" + steps)
    return tmp_path / "wf.yaml"


def test_allowed_hosts_let_the_app_work_and_load_nothing_elsewhere(two_hosts, tmp_path):
    from guidecast.capture.replay import capture_workflow

    app, other = two_hosts
    other.hits.clear()
    wf = _hosts_workflow(tmp_path, "  - action: click\n    target: {role: link, name: Next}\n")
    bundle = capture_workflow(wf, tmp_path / "cap", base_url=app.url, allowed_hosts=[app.host])
    assert bundle.final_url == app.url + "/next" and bundle.final_title == "Next"
    assert other.hits == []  # the image and iframe from the other host were not fetched
    # the host alone (any port) allows it too, and without allowed_hosts nothing is guarded
    capture_workflow(wf, tmp_path / "cap2", base_url=app.url, allowed_hosts=["127.0.0.1"])
    capture_workflow(wf, tmp_path / "cap3", base_url=app.url)
    assert "/x" in other.hits


@pytest.mark.parametrize("how, step, sid", [
    ("link", "click\n    target: {role: link, name: Partner, exact: true}", "click-partner"),
    ("redirect", "click\n    target: {role: link, name: Jump}", "click-jump"),
    ("goto", "goto\n    url: OTHER/x", None),
    ("popup", "click\n    target: {role: link, name: Partner tab}\n    opens_popup: true", "click-partner-tab"),
    ("script", "click\n    target: {role: link, name: Script}", "click-script"),
], ids=["link", "redirect", "goto", "popup", "script"])
def test_a_page_sent_off_the_allowed_hosts_stops_the_capture(two_hosts, tmp_path, how, step, sid):
    from guidecast.capture.replay import capture_workflow

    app, other = two_hosts
    other.hits.clear()
    wf = _hosts_workflow(tmp_path, f"  - action: {step.replace('OTHER', other.url)}\n"
                                   "  - action: click\n    target: {role: link, name: Next}\n")
    with pytest.raises(CaptureError) as err:
        capture_workflow(wf, tmp_path / "cap", base_url=app.url, allowed_hosts=[app.host], find_timeout=2)
    msg = str(err.value)
    assert f": step 2 ({sid or 'goto-'}" in msg, msg
    assert f"went to {other.url}/x, but {other.host} is not an allowed host for this capture (allowed: {app.host})" in msg
    assert "s3cret" not in msg and other.hits == []
    assert not (tmp_path / "cap").exists() and load_capture(tmp_path / "cap.partial").partial
