"""How much work the server takes on at once, so that load makes requests wait briefly or get
503 + Retry-After, never stall for 30 s or deadlock.

Each request that uses the database takes a slot of the `Gate` before its session exists (waiting in the
event loop: no thread, no connection). There are as many slots as request threads, and the connection
pool is larger than both (`pool_size`), so a request holding a session never waits for a connection
and one waiting for a slot holds neither. When `max_queued` requests already wait, or a slot does not
come free within `wait_s`, the answer is 503 with Retry-After.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import HTTPException

RETRY_AFTER_S = 2
SPARE_CONNECTIONS = 4  # the job workers' and scheduler's connections come on top of these


def pool_size(request_threads: int, job_workers: int) -> int:
    """Connections the database pool keeps: every request slot, every job worker, and a few spare."""
    return request_threads + job_workers + SPARE_CONNECTIONS


class Busy(HTTPException):
    def __init__(self) -> None:
        super().__init__(503, "the server is busy; try again in a few seconds",
                         headers={"Retry-After": str(RETRY_AFTER_S)})


class Gate:
    def __init__(self, slots: int, max_queued: int, wait_s: float):
        self.slots, self.max_queued, self.wait_s = slots, max_queued, wait_s
        self.waiting = 0
        self._sem: anyio.Semaphore | None = None  # made in the event loop on first use

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._sem is None:
            self._sem = anyio.Semaphore(self.slots)
        if self.waiting >= self.max_queued:
            raise Busy()
        self.waiting += 1
        acquired = False
        try:
            with anyio.move_on_after(self.wait_s):
                await self._sem.acquire()
                acquired = True
        finally:
            self.waiting -= 1
        if not acquired:
            raise Busy()
        try:
            yield
        finally:
            self._sem.release()


def size_thread_pool(threads: int) -> None:
    """The request thread pool (anyio's default limiter, which FastAPI and Starlette use) gets `threads`."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
