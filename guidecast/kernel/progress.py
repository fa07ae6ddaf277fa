"""The progress protocol: every long-running core function takes `progress(done, total, what)`.

`Stages` is what a function that runs several stages in order (build, refresh) takes: it opens one
`Progress` per stage. The CLI draws a bar per stage; the server maps the stages onto one job's 0-100.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    """A progress callback that reports nothing."""


class Stages(Protocol):
    def __call__(self, name: str, weight: float = 1.0, /) -> AbstractContextManager[Progress]: ...


@contextmanager
def quiet_stage(name: str, weight: float = 1.0, /) -> Iterator[Progress]:
    """`Stages` that report nothing."""
    yield no_progress


def part(progress: Progress, start: float, span: float) -> Progress:
    """A stage's progress mapped onto [start, start + span] of 100."""
    def update(done: int, total: int, what: str) -> None:
        progress(int(start + span * (done / total if total else 1)), 100, what)

    return update


class WeightedStages:
    """`Stages` over one `Progress` of 0-100: stage i covers its share of the weights given up front."""

    def __init__(self, progress: Progress, weights: dict[str, float]) -> None:
        self.progress = progress
        total = sum(weights.values()) or 1.0
        self.spans: dict[str, tuple[float, float]] = {}
        at = 0.0
        for name, w in weights.items():
            self.spans[name] = (at, 100.0 * w / total)
            at += 100.0 * w / total

    @contextmanager
    def __call__(self, name: str, weight: float = 1.0, /) -> Iterator[Progress]:
        start, span = self.spans.get(name, (0.0, 100.0))
        yield part(self.progress, start, span)
