"""SSRF guard for server-side capture: every URL a workflow opens must be on an allowlisted host.

Entries are `host` (any port) or `host:port` (settings.capture_allowed_hosts). A URL is checked after
it is resolved against the base URL (relative workflow URLs) and after its host name is resolved to
addresses: the name must match an entry, it must resolve, and link-local / metadata addresses
(169.254.0.0/16, fe80::/10) are refused unless the entry is that literal address.

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


def check_url(url: str, allowed: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise NotAllowed(f"{url}: only http and https URLs can be captured")
    host = parts.hostname.lower()
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise NotAllowed(f"{url}: bad port") from None
    if not any(h == host and p in (None, port) for h, p in parse_hosts(allowed)):
        raise NotAllowed(f"{url}: host {host}:{port} is not on the capture allowlist "
                         "(GUIDECAST_CAPTURE_ALLOWED_HOSTS); ask an admin to add it")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise NotAllowed(f"{url}: host {host} does not resolve") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip.is_link_local and str(ip) != host:
            raise NotAllowed(f"{url}: {host} resolves to the link-local address {ip}; refused")


def workflow_urls(workflow_path, base_url: str | None) -> list[str]:
    """Every URL the workflow opens by itself (start_url and goto steps), resolved against base_url."""
    from guidecast.capture.workflow import load_workflow

    wf = load_workflow(workflow_path).workflow
    urls = [wf.resolve_url(wf.start_url, base_url)]
    urls += [wf.resolve_url(s.url, base_url) for s in wf.steps if s.action == "goto" and s.url]
    return urls


def check_workflow(workflow_path, base_url: str | None, allowed: list[str]) -> None:
    """Every URL on the allowlist, and no `upload` step: its files would be read from the server's disk."""
    from guidecast.capture.workflow import load_workflow

    for n, step in enumerate(load_workflow(workflow_path).workflow.steps, 1):
        if step.action == "upload":
            raise NotAllowed(f"workflow step {n}: 'upload' steps cannot run on the server (they would send "
                             "files from the server's disk); capture this workflow locally and upload the bundle")
    for url in workflow_urls(workflow_path, base_url):
        check_url(url, allowed)
