"""Which version each share link shows, remembered per web process, so that a cached learner page is
served with no query, no thread and no route (`pagecache.SharedPages`).

- `LiveLinks.get(token)`: (version id, video tree) of a plainly live link, or None (unknown, revoked,
  expired, unpublished: the route then decides and says why). Known answers are kept for at most `ttl`
  seconds; a link's expiry is checked against the clock on every request.
- Everything is forgotten at once when a change to share links, guides or versions commits:
  - in this process: the engine's own events see the statement and its commit (ORM and Core alike);
  - in every process, on PostgreSQL: a trigger (migration 0007) sends `NOTIFY guidecast_links` with the
    commit, and a listener thread per process forgets on it (and on any reconnect, when a notice may have
    been missed);
  - SQLite with several processes has no notices: another process's change is seen within `ttl`.
- An answer read while a change committed is not kept (a generation counter), so a revoke is never
  overwritten by the state from just before it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
CHANNEL = "guidecast_links"
TABLES = ("share_links", "guides", "guide_versions")
WRITES = ("INSERT", "UPDATE", "DELETE")

Live = tuple[int, "str | None"]


class LiveLinks:
    def __init__(self, engine: Engine, lookup: Callable[[str], tuple[int, str | None, datetime | None] | None],
                 clock: Callable[[], datetime], ttl: float = 1.0, size: int = 10000):
        self.lookup, self.clock, self.ttl, self.size = lookup, clock, ttl, size
        self._known: dict[str, tuple[float, int, str | None, datetime | None]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self.lookups = 0  # queries made (tests: one per link while nothing changes)
        self._watch(engine)

    def get(self, token: str) -> Live | None:
        """From memory when known and fresh; None when not known (call `fetch` in a worker thread)."""
        hit = self._known.get(token)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return self._shown(*hit[1:])

    def fetch(self, token: str) -> Live | None:
        """One query (blocking: a worker thread), its answer kept unless a change committed meanwhile."""
        generation = self._generation
        row = self.lookup(token)
        self.lookups += 1
        if row is None:
            return None
        with self._lock:
            if generation == self._generation:
                if len(self._known) >= self.size:
                    self._known.clear()
                self._known[token] = (time.monotonic(), *row)
        return self._shown(*row)

    def _shown(self, version: int, tree: str | None, expires: datetime | None) -> Live | None:
        """What a link known to show `version` shows now: nothing once it has expired."""
        return None if expires is not None and expires <= self.clock() else (version, tree)

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._known.clear()

    # --- what tells this process that something changed -------------------------------------------------

    def _watch(self, engine: Engine) -> None:
        @event.listens_for(engine, "after_cursor_execute")
        def _seen(conn, _cursor, statement: str, *_args) -> None:
            head = statement.lstrip()[:6].upper()
            if head in WRITES and any(t in statement for t in TABLES):
                conn.info["links_changed"] = True

        @event.listens_for(engine, "commit")
        def _committed(conn) -> None:
            if conn.info.pop("links_changed", False):
                self.forget()

        @event.listens_for(engine, "rollback")
        def _rolled_back(conn) -> None:
            conn.info.pop("links_changed", None)

    def listen(self, dsn: str) -> None:
        """PostgreSQL: forget on every `NOTIFY guidecast_links`, in a daemon thread (see the module text)."""
        self._stop.clear()
        self._listener = threading.Thread(target=self._listen, args=(dsn,), name="live-links", daemon=True)
        self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)

    def _listen(self, dsn: str) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.forget()  # anything before the LISTEN may have gone unheard
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.forget()
            except psycopg.Error as e:  # the database restarted or went away: forget, then listen again
                log.warning("share-link notices: %s; listening again", e)
                self.forget()
                self._stop.wait(1.0)
