"""Rate limits and who is asking from where.

- `SigninLimiter`: failed sign-ins per client address and per account (the account named the way the
  lookup names it, `normal_email`, so " Me@X.test" and "me@x.test" share one count), in the database
  so that several server processes share the count.
- `RateLimit`: requests per client address on the routes anyone may call (beacon, oEmbed): a token
  bucket, over it 429 + Retry-After.
- `client_ip`: the peer address; `X-Forwarded-For` counts only when the peer is one of the configured
  `TRUSTED_PROXIES` (uvicorn itself is told to trust no proxy header, server/app.py `uvicorn_config`).

Both live in the database: every web process (`guidecast serve --web-processes N`, or several servers
behind a load balancer sharing one PostgreSQL) counts against the same limits.
"""
from __future__ import annotations

import ipaddress
import threading
import time
import unicodedata

from fastapi import HTTPException, Request
from sqlalchemy import case, delete, func, select

from guidecast.server.models import RateBucket, SigninFailure


def normal_email(email: str) -> str:
    """An e-mail address as accounts are stored and looked up: NFKC, no surrounding space, lower case."""
    return unicodedata.normalize("NFKC", email).strip().lower()


class SigninLimiter:
    """Failed sign-ins per client address and per account in a sliding window; over the limit: HTTP 429.
    Counted in the database (`signin_failures`), so every server process sharing it sees the same count."""

    def __init__(self, db, per_ip: int, per_account: int, window_s: int):
        self.db = db
        self.limits = {"ip": per_ip, "account": per_account}
        self.window = window_s

    def _keys(self, ip: str, account: str) -> list[tuple[str, str]]:
        return [("ip", ip[:320]), ("account", normal_email(account)[:320])]

    def check(self, ip: str, account: str) -> None:
        since = time.time() - self.window
        with self.db.session() as s:
            for kind, value in self._keys(ip, account):
                n = s.scalar(select(func.count()).select_from(SigninFailure).where(
                    SigninFailure.kind == kind, SigninFailure.value == value, SigninFailure.at > since))
                if n >= self.limits[kind]:
                    raise HTTPException(429, "Too many failed sign-ins; wait a few minutes and try again.",
                                        headers={"Retry-After": str(self.window)})

    def failed(self, ip: str, account: str) -> None:
        now = time.time()
        with self.db.session() as s:
            s.execute(delete(SigninFailure).where(SigninFailure.at < now - self.window))
            s.add_all([SigninFailure(kind=kind, value=value, at=now) for kind, value in self._keys(ip, account)])

    def succeeded(self, account: str) -> None:
        with self.db.session() as s:
            s.execute(delete(SigninFailure).where(SigninFailure.kind == "account",
                                                  SigninFailure.value == normal_email(account)[:320]))


class RateLimit:
    """A token bucket per key: `burst` requests at once, then `per_s` a second. The buckets are rows of
    `rate_buckets`, each request one atomic upsert (refill, then take a token if there is one), so every
    web process sharing the database draws from the same bucket."""

    PURGE_EVERY = 1000  # requests between sweeps of the buckets that are full again

    def __init__(self, db, per_s: float, burst: int):
        self.db = db
        self.per_s, self.burst = per_s, burst
        self._count = 0
        self._lock = threading.Lock()

    def _upsert(self, dialect: str, key: str, now: float):
        from sqlalchemy.dialects import postgresql, sqlite

        pg = dialect == "postgresql"
        least, greatest = (func.least, func.greatest) if pg else (func.min, func.max)
        stmt = (postgresql.insert if pg else sqlite.insert)(RateBucket).values(key=key, tokens=float(self.burst - 1), at=now, ok=True)
        # the stored row, refilled; a request that read the clock just before another process's write to the
        # row took its turn finds `at` a little ahead: no time has passed for it (never a negative refill)
        elapsed = greatest(now - RateBucket.at, 0.0)
        refilled = least(float(self.burst), RateBucket.tokens + elapsed * self.per_s)
        take = refilled >= 1
        return stmt.on_conflict_do_update(index_elements=[RateBucket.key], set_={
            "tokens": case((take, refilled - 1), else_=refilled), "at": greatest(RateBucket.at, now), "ok": take,
        }).returning(RateBucket.ok)

    def hit(self, key: str) -> None:
        now = time.time()
        with self.db.session() as s:
            ok = s.scalar(self._upsert(s.get_bind().dialect.name, key[:200], now))
        with self._lock:
            self._count += 1
            purge = self._count % self.PURGE_EVERY == 0
        if purge:  # a bucket full again says nothing: forget it
            with self.db.session() as s:
                s.execute(delete(RateBucket).where(RateBucket.at < now - self.burst / self.per_s))
        if not ok:
            raise HTTPException(429, "too many requests; slow down",
                                headers={"Retry-After": str(max(1, round(1 / self.per_s)))})


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
