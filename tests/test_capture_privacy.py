"""Privacy by default: typed secrets appear nowhere in the bundle and their fields are blurred in the pixels."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from guidecast.capture.privacy import blur_regions, luhn_ok, scrub, secret_kind, strip_query
from tests.conftest import requires_browser
from tests.fixtures.capture.site_server import serve_site

PASSWORD = "correct horse battery staple"
TOKEN = "sk-proj-Q9vX2mTr8LkP4wZs7YbN3cDe"  # typed into a field marked sensitive
GH_TOKEN = "ghp_" + "R4nd0mT0k3nV4lu3sF0rT3st1ngXyZ0129"  # typed into an ordinary field: caught by its pattern

WORKFLOW = f"""
title: Save integration settings
start_url: /settings.html?session=abc123
secrets: {{password: SHOP_PASSWORD}}
privacy: {{strip_query: true}}
steps:
  - action: fill
    target: {{label: Account name}}
    value: Robin Lee
  - action: fill
    target: {{label: Password}}
    secret: password
  - action: fill
    target: {{label: API token}}
    value: {TOKEN}
    sensitive: true
  - action: fill
    target: {{label: Notes}}
    value: {GH_TOKEN}
  - action: click
    target: {{role: button, name: Save settings}}
"""


@pytest.mark.parametrize("value,kind", [
    ("sk-proj-abcdefghijklmnopqrstuv", "API key (sk-...)"),
    ("ghp_" + "a" * 36, "GitHub token"),
    ("AKIAIOSFODNN7EXAMPLE", "AWS access key id"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JSON Web Token"),
    ("4111 1111 1111 1111", "card number"),
    ("4111-1111-1111-1112", None),  # fails Luhn
    ("128.50", None), ("2026-11-14", None), ("Team offsite train tickets", None),
])
def test_secret_patterns(value, kind):
    assert secret_kind(value) == kind


def test_helpers():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert strip_query("http://h/p?token=1#frag") == "http://h/p"
    assert scrub('{"u": "x?pw=hunter22"}', ["hunter22"]) == '{"u": "x?pw=•••"}'


def test_blur_lowers_detail_only_inside_the_box():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (100, 200, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    out = np.asarray(Image.open(io.BytesIO(blur_regions(buf.getvalue(), [(10, 10, 80, 40)]))), dtype=float)
    assert out[10:50, 10:90].std() < noise[10:50, 10:90].std() * 0.2
    assert np.array_equal(out[60:, 100:], noise[60:, 100:])


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    from guidecast.capture.replay import capture_workflow

    d = tmp_path_factory.mktemp("privacy")
    (d / "settings.yaml").write_text(WORKFLOW)
    with serve_site() as site:
        bundle = capture_workflow(d / "settings.yaml", d / "cap", base_url=site.url,
                                  env={"SHOP_PASSWORD": PASSWORD})
        assert site.log == [{"saved": "Robin Lee"}]
        plain = _unblurred_render(site.url)
    return d / "cap", bundle, plain


def _unblurred_render(url: str) -> bytes:
    """The same page with the same values typed, screenshot by plain Playwright (no blurring)."""
    from guidecast.capture.browser import launch_browser

    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/settings.html")
        page.get_by_label("Account name").fill("Robin Lee")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("API token").fill(TOKEN)
        page.get_by_label("Notes").fill(GH_TOKEN)
        return page.screenshot(animations="disabled", caret="hide")


@requires_browser
@pytest.mark.browser
def test_secrets_appear_in_no_file_of_the_bundle(captured):
    cap_dir, bundle, _ = captured
    files = [p for p in cap_dir.rglob("*") if p.is_file()]
    assert len(files) >= 3
    for f in files:
        data = f.read_bytes()
        for secret in (PASSWORD, TOKEN, GH_TOKEN):
            assert secret.encode() not in data, (f, secret)
    steps = json.loads((cap_dir / "capture.json").read_text())["steps"]
    assert [(s["value"], s["value_redacted"]) for s in steps[:4]] == [
        ("Robin Lee", False), (None, True), (None, True), (None, True)]
    assert all("?" not in s["url"] for s in steps) and "session" not in (cap_dir / "capture.json").read_text()


@requires_browser
@pytest.mark.browser
def test_sensitive_fields_are_blurred_in_the_pixels(captured):
    cap_dir, bundle, plain_png = captured
    plain = np.asarray(Image.open(io.BytesIO(plain_png)).convert("L"), dtype=float)
    click = bundle.steps[-1]  # every field is filled and visible when Save is clicked
    shot = np.asarray(Image.open(cap_dir / "screenshots" / click.screenshot).convert("L"), dtype=float)
    assert shot.shape == plain.shape
    boxes = {s.element.label: s.element.box for s in bundle.steps[:4]}
    assert len(click.blurred) == 3  # password, API token, notes

    def region(img, b):
        return img[int(b.y) + 4:int(b.y + b.height) - 4, int(b.x) + 4:int(b.x + b.width) - 4]

    for label in ("Password", "API token", "Notes"):
        blurred, sharp = region(shot, boxes[label]).std(), region(plain, boxes[label]).std()
        assert blurred < sharp * 0.5, (label, blurred, sharp)
    # the ordinary field keeps its detail
    assert region(shot, boxes["Account name"]).std() > region(plain, boxes["Account name"]).std() * 0.8
    # and so does the final screenshot, taken after the fields stay on the page
    final = np.asarray(Image.open(cap_dir / "screenshots" / bundle.final_screenshot).convert("L"), dtype=float)
    assert region(final, boxes["API token"]).std() < region(plain, boxes["API token"]).std() * 0.5
