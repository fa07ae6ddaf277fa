"""Finding and launching Chromium: Debian's package first, a Playwright-managed build second. Host
allowlists (`parse_hosts`, `host_allowed`, `host_resolver_rules`) for captures that must reach no other host."""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from guidecast.kernel.errors import GuidecastError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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
                   ) -> Iterator[Browser]:
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


# -- host allowlists ----------------------------------------------------------------------------------
Hosts = list[tuple[str, int | None]]
NETWORK_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
LOCAL_SCHEMES = ("data", "blob", "about")  # never leave the browser
_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]*:[0-9a-f:.]*")  # DNS name, IPv4, or IPv6 (unbracketed)


def parse_hosts(entries: Iterable[str]) -> Hosts:
    """`host` (any port), `host:port`, `[v6]` or `[v6]:port` entries as (host, port or None), lowercased."""
    out: Hosts = []
    for raw in entries:
        e = raw.strip().lower()
        host, port = e, None
        if e.startswith("[") and "]" in e:
            host, _, rest = e[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ("" if rest else None)
        elif e.count(":") == 1:
            host, port = e.split(":")
        if not _NAME.fullmatch(host) or (port is not None and not (port.isdigit() and 0 < int(port) < 65536)):
            raise GuidecastError(f"allowed host {raw!r}: write host, host:port or [IPv6]:port")
        out.append((host, int(port) if port is not None else None))
    return out


def url_host(url: str) -> tuple[str, int] | None:
    """(host, port) of a network URL (http, https, ws, wss); None for any other scheme or a bad port."""
    parts = urlsplit(url)
    if parts.scheme not in NETWORK_PORTS or not parts.hostname:
        return None
    try:
        return parts.hostname.lower(), parts.port or NETWORK_PORTS[parts.scheme]
    except ValueError:
        return None


def host_allowed(url: str, hosts: Hosts) -> bool:
    """May the browser load `url`? Network URLs only on an allowed host (and port); data:, blob: and
    about: always; nothing else (file:, ...)."""
    hp = url_host(url)
    if hp is None:
        return urlsplit(url).scheme in LOCAL_SCHEMES
    return any(h == hp[0] and p in (None, hp[1]) for h, p in hosts)


def host_resolver_rules(hosts: Hosts) -> str:
    """Chromium `--host-resolver-rules` under which only the allowed hosts (and ports) resolve: the
    browser cannot reach any other host, whatever asks for it (redirect hops, which request routes do not
    see, websockets, service workers). IP literals go through the rules too."""
    rules = []
    for h, p in hosts:
        name = f"[{h}]" if ":" in h else h
        rules.append(f"MAP {name}:{p} {name}" if p is not None else f"MAP {h} {name}")
    return ", ".join(rules + ["MAP * ~NOTFOUND"])


@contextmanager
def launch_with_extension(extension_dir: str | Path, user_data_dir: str | Path, *, headless: bool = True,
                          executable: str | None = None, viewport: tuple[int, int] = (1280, 720)):
    """Yield a persistent Playwright BrowserContext with the unpacked extension at `extension_dir` loaded
    (Chromium's new headless mode runs extensions; headed needs a display)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    ext = str(Path(extension_dir).resolve())
    args = CHROMIUM_ARGS + [f"--disable-extensions-except={ext}", f"--load-extension={ext}"]
    with sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(
                str(user_data_dir), executable_path=find_chromium(executable), headless=False,
                args=args + (["--headless=new"] if headless else []), ignore_default_args=["--disable-extensions"],
                viewport={"width": viewport[0], "height": viewport[1]})
        except PlaywrightError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "unknown error"
            raise GuidecastError(f"could not start Chromium with the extension {ext}: {first}") from None
        try:
            yield context
        finally:
            try:
                context.close()
            except PlaywrightError:
                pass
