"""SSRF guard for server-side capture: every URL a workflow opens must be on an allowlisted host.

Entries are `host` (any port) or `host:port` (settings.capture_allowed_hosts). A URL is checked after
it is resolved against the base URL (relative workflow URLs) and after its host name is resolved to
addresses: the name must match an entry, it must resolve, and link-local / metadata addresses
(169.254.0.0/16, fe80::/10, also written as ::ffff:169.254.x.y), unspecified (0.0.0.0, ::) and multicast
addresses are refused unless the entry is that literal address; URLs with user info (`a@b`), backslashes
or control characters are refused outright (a browser reads them differently from Python).

That is checked before a job runs. While it runs, the capture's browser itself reaches no host off the
list (`capture_workflow(allowed_hosts=...)`: a request route plus Chromium resolver rules), so a link, a
redirect or a script cannot take it elsewhere; it matches host names and ports, Chromium resolves them.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from guidecast.capture.browser import parse_hosts
from guidecast.kernel.errors import GuidecastError

DEFAULT_PORTS = {"http": 80, "https": 443}


class NotAllowed(GuidecastError):
    http_status = 403


class StepNotAllowed(NotAllowed):
    """A step the server never runs (an upload: its files would come from the server's disk)."""


class HostNotOnAllowlist(NotAllowed):
    """The URL's host and port are on no entry of the capture allowlist."""

    def __init__(self, message: str, url: str, host: str, port: int):
        super().__init__(message)
        self.url, self.host, self.port = url, host, port


def check_url(url: str, allowed: list[str]) -> None:
    if any(c in url for c in "\\\t\r\n ") or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise NotAllowed(f"{url!r}: a URL to capture has no backslashes, spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise NotAllowed(f"{url}: not a URL") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise NotAllowed(f"{url}: only http and https URLs can be captured")
    if "@" in parts.netloc:
        raise NotAllowed(f"{url}: a URL to capture carries no user name or password (user@host)")
    host = parts.hostname.lower()
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise NotAllowed(f"{url}: bad port") from None
    if not any(h == host and p in (None, port) for h, p in parse_hosts(allowed)):
        raise HostNotOnAllowlist(f"{url}: host {host}:{port} is not on the capture allowlist "
                                 "(GUIDECAST_CAPTURE_ALLOWED_HOSTS); ask an admin to add it", url, host, port)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise NotAllowed(f"{url}: host {host} does not resolve") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if forbidden(ip) and str(ip) != host.strip("[]"):
            raise NotAllowed(f"{url}: {host} resolves to {ip}, a link-local, metadata or unspecified address; refused")


def forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses a capture never goes to unless named literally: link-local (cloud metadata), unspecified
    (0.0.0.0, ::, which reach the server itself), multicast, and IPv4 ones written as IPv6 (::ffff:a.b.c.d,
    judged as the IPv4 address they are)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return True if mapped.is_unspecified else forbidden(mapped)
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast


def workflow_urls(workflow_path, base_url: str | None) -> list[str]:
    """Every URL the workflow opens by itself (start_url and goto steps), resolved against base_url."""
    from guidecast.capture.workflow import load_workflow

    wf = load_workflow(workflow_path).workflow
    return [wf.resolve_url(u, base_url) for u in opened_urls(wf)]


def opened_urls(wf) -> list[str]:
    """The URLs a workflow opens by itself, as written (relative ones too): start_url and goto steps."""
    return [wf.start_url] + [s.url for s in wf.steps if s.action == "goto" and s.url]


def check_workflow(workflow_path, base_url: str | None, allowed: list[str]) -> None:
    """Every URL on the allowlist, and no `upload` step: its files would be read from the server's disk."""
    from guidecast.capture.workflow import load_workflow

    for n, step in enumerate(load_workflow(workflow_path).workflow.steps, 1):
        if step.action == "upload":
            raise StepNotAllowed(f"workflow step {n}: 'upload' steps cannot run on the server (they would send "
                             "files from the server's disk); capture this workflow locally and upload the bundle")
    for url in workflow_urls(workflow_path, base_url):
        check_url(url, allowed)
