"""Progress bars on stderr for the core's progress callbacks (one bar per stage)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guidecast.kernel.progress import Progress as ProgressCallback
from guidecast.kernel.progress import Stages, no_progress

console = Console(stderr=True)


@contextmanager
def stage_progress(label: str, quiet: bool = False) -> Iterator[ProgressCallback]:
    if quiet:
        yield no_progress
        return
    with Progress(TextColumn(f"[bold]{label:<8}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False) as p:
        task = p.add_task("starting", total=None)

        def update(done: int, total: int, what: str) -> None:
            p.update(task, completed=done, total=total, description=what)

        yield update


def bars(quiet: bool) -> Stages:
    """`Stages` for the core's multi-stage functions: a bar per stage."""
    def stage(name: str, weight: float = 1.0, /):
        return stage_progress(name, quiet)

    return stage
