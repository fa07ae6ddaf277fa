"""A progress bar on stderr for the stages' progress callbacks."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


@contextmanager
def stage_progress(label: str, quiet: bool = False) -> Iterator[Callable[[int, int, str], None]]:
    if quiet:
        yield lambda *_: None
        return
    with Progress(TextColumn(f"[bold]{label:<8}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False) as p:
        task = p.add_task("starting", total=None)

        def update(done: int, total: int, what: str) -> None:
            p.update(task, completed=done, total=total, description=what)

        yield update
