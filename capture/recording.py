"""An interactive recording session: open Chromium at a URL, record until the person stops, save.

Stopping: the toolbar's Stop button, closing the browser, Ctrl+C or SIGTERM. Whatever was recorded
is saved (atomically) in every case.
"""
from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from guidecast.capture.browser import launch_browser
from guidecast.capture.recorder import Recorder, SavedRecording
from guidecast.kernel.errors import GuidecastError

POLL_MS = 200


def record_interactive(
    url: str,
    out: str | Path,
    *,
    headless: bool = False,
    title: str | None = None,
    secret_prefix: str | None = None,
    viewport: tuple[int, int] = (1280, 720),
    screenshots: bool = True,
    browser_path: str | None = None,
    cdp_port: int | None = None,
    on_ready: Callable[[], None] | None = None,
) -> SavedRecording:
    if not headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise GuidecastError(
            "no display to show the browser on ($DISPLAY is not set): run it under a virtual display, "
            f"`xvfb-run -a guidecast record {url} -o {out}`, or pass --headless for automation"
        )
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    args = [f"--remote-debugging-port={cdp_port}"] if cdp_port else []
    try:
        with launch_browser(headless=headless, executable=browser_path, args=args) as browser:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            rec = Recorder(context, title=title, screenshots=screenshots, secret_prefix=secret_prefix)
            try:
                _open(context.new_page(), url)
                if on_ready:
                    on_ready()
                while not rec.done and not stop["signal"] and context.pages:
                    try:
                        context.pages[0].wait_for_timeout(POLL_MS)
                    except Exception:  # noqa: BLE001 - the browser was closed or crashed: save what we have
                        break
                rec.stop()
                return rec.save(out)
            finally:
                rec.close()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _open(page, url: str) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.goto(url, wait_until="load")
    except PlaywrightError as e:
        reason = str(e).strip().splitlines()[0].replace("Page.goto: ", "")
        raise GuidecastError(f"could not open {url} ({reason}); is the app running and the URL right?") from None
