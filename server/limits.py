"""Rate limits and who is asking from where.

- `SigninLimiter`: failed sign-ins per client address and per account (the account named the way the
  lookup names it, `normal_email`, so " Me@X.test" and "me@x.test" share one count).
- `RateLimit`: requests per client address on the routes anyone may call (beacon, oEmbed): a token
  bucket, over it 429 + Retry-After.
- `client_ip`: the peer address; `X-Forwarded-For` counts only when the peer is one of the configured
  `TRUSTED_PROXIES` (uvicorn itself is told to trust no proxy header, server/app.py `uvicorn_config`).

Counts live in this process's memory: a restart forgets them, and several processes behind a load
balancer each keep their own (`guidecast serve` runs one).
"""
from __future__ import annotations

import ipaddress
import threading
import time
import unicodedata
from collections import defaultdict, deque

from fastapi import HTTPException, Request


def normal_email(email: str) -> str:
    """An e-mail address as accounts are stored and looked up: NFKC, no surrounding space, lower case."""
    return unicodedata.normalize("NFKC", email).strip().lower()


class SigninLimiter:
    """Failed sign-ins per IP and per account in a sliding window; over the limit: HTTP 429."""

    def __init__(self, per_ip: int, per_account: int, window_s: int):
        self.limits = {"ip": per_ip, "account": per_account}
        self.window = window_s
        self._fails: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _count(self, key: tuple[str, str], now: float) -> int:
        q = self._fails[key]
        while q and q[0] < now - self.window:
            q.popleft()
        if not q:
            del self._fails[key]
        return len(q)

    def check(self, ip: str, account: str) -> None:
        now = time.monotonic()
        with self._lock:
            for kind, value in (("ip", ip), ("account", normal_email(account))):
                if self._count((kind, value), now) >= self.limits[kind]:
                    raise HTTPException(429, "Too many failed sign-ins; wait a few minutes and try again.",
                                        headers={"Retry-After": str(self.window)})

    def failed(self, ip: str, account: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._fails[("ip", ip)].append(now)
            self._fails[("account", normal_email(account))].append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._fails.pop(("account", normal_email(account)), None)


class RateLimit:
    """A token bucket per key: `burst` requests at once, then `per_s` a second."""

    MAX_KEYS = 100_000

    def __init__(self, per_s: float, burst: int):
        self.per_s, self.burst = per_s, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - at) * self.per_s)
            if tokens < 1:
                raise HTTPException(429, "too many requests; slow down",
                                    headers={"Retry-After": str(max(1, round(1 / self.per_s)))})
            if len(self._buckets) >= self.MAX_KEYS and key not in self._buckets:
                self._buckets.clear()  # a flood of addresses: forget them all rather than grow without end
            self._buckets[key] = (tokens - 1, now)


def networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _trusted(addr: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_ip(request: Request) -> str:
    """The real client address: the peer, or (when the peer is a trusted proxy) the right-most address of
    X-Forwarded-For that is not a trusted proxy itself."""
    peer = request.client.host if request.client else "unknown"
    networks = request.app.state.ctx.trusted_networks
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return peer
