"""The API docs in Chromium on an offline machine: /docs (Swagger UI) and /redoc render from assets the
server serves itself, under their page CSP, with no request leaving 127.0.0.1 and no CSP violation."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from guidecast.server.settings import load_settings
from guidecast.server.testing import running_server
from tests.conftest import requires_browser

pytestmark = [pytest.mark.browser, requires_browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("docs-server"))
    with running_server(st) as (url, _app):
        yield url


@pytest.fixture(scope="module")
def browser():
    from guidecast.capture.browser import launch_browser

    with launch_browser() as b:
        yield b


def _open(browser, url: str, ready: str) -> tuple[object, list[str], list[str], set[str]]:
    """Open `url`, wait for `ready`; return the page, every URL it requested, its console errors and the
    URLs the page's CSP stopped before they were sent."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    requests: list[str] = []
    errors: list[str] = []
    csp_blocked: set[str] = set()
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: csp_blocked.add(r.url) if r.failure == "csp" else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(ready, timeout=30000)
    page.wait_for_load_state("networkidle")
    return page, requests, errors, csp_blocked


def _off_loopback(requests: list[str]) -> list[str]:
    return [u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"]


def test_swagger_ui_renders_the_operations_offline(server, browser):
    page, requests, errors, _ = _open(browser, server + "/docs", ".opblock")
    assert _off_loopback(requests) == [] and errors == []
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/guides" in [p.replace("\u200b", "") for p in paths]
    assert len(paths) > 20
    assert any("/docs/assets/swagger-ui-bundle.js" in u for u in requests)
    page.context.close()


def test_redoc_renders_offline(server, browser):
    page, requests, errors, csp_blocked = _open(browser, server + "/redoc", "[role=menuitem]")
    # ReDoc's bundle hard-codes its vendor's logo on a CDN: the page CSP stops it before it is sent
    assert set(_off_loopback(requests)) <= csp_blocked == {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    assert all("logo-mini.svg" in e and "Content Security Policy" in e for e in errors)
    assert page.get_by_text("/api/guides", exact=False).count() > 0
    page.context.close()


def test_docs_pages_keep_a_strict_script_policy(server):
    import httpx

    for path in ("/docs", "/redoc"):
        r = httpx.get(server + path)
        csp = r.headers["content-security-policy"]
        assert r.status_code == 200 and "script-src 'self';" in csp and "unsafe-inline'; img" in csp
        assert "http" not in csp and "<script>" not in r.text  # no CDN, no inline script
