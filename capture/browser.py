"""Finding and launching Chromium: Debian's package first, a Playwright-managed build second."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from capture.errors import GuidecastError

# Without these, Chromium keeps trying to reach Google's services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
    "--hide-scrollbars",
    "--font-render-hinting=none",
]
SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(explicit: str | None = None) -> str | None:
    """Return an executable path, or None to use Playwright's own managed browser."""
    explicit = explicit or os.environ.get("GUIDECAST_CHROMIUM")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise GuidecastError(f"GUIDECAST_CHROMIUM / --browser points to '{explicit}', which is not an executable")
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if _playwright_managed_exists():
        return None
    raise GuidecastError(
        "no Chromium found: install Debian's package (`apt-get install chromium`, or `make setup`), "
        "or set GUIDECAST_CHROMIUM to a Chrome/Chromium executable"
    )


def _playwright_managed_exists() -> bool:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        return Path(p.chromium.executable_path).exists()


@contextmanager
def launch_browser(headless: bool = True, executable: str | None = None, args: list[str] | None = None
                   ) -> Iterator["object"]:
    """Yield a launched Playwright Browser; closes it and the driver on exit. `args`: extra Chromium flags."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    exe = find_chromium(executable)
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=exe, headless=headless, args=CHROMIUM_ARGS + list(args or []))
        except PlaywrightError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "unknown error"
            hint = " (no display: run under `xvfb-run` or use headless mode)" if not headless else ""
            raise GuidecastError(f"could not start Chromium at {exe or 'Playwright-managed path'}{hint}: {first}") from None
        try:
            yield browser
        finally:
            try:
                browser.close()
            except PlaywrightError:
                pass
