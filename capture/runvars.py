"""Per-run values, so that a workflow that creates things can be replayed again and again.

A workflow's step values, URLs, locator texts and hooks may hold `{{ name }}`:

- `{{ run.id }}`: eight hex digits, new for every replay (`jordan.{{ run.id }}@example.com`);
- `{{ run.counter }}`: a number that grows by one with every replay of this workflow on this machine
  (kept in the state folder, `$GUIDECAST_STATE_DIR`, else `$XDG_STATE_HOME/guidecast`, else
  `~/.local/state/guidecast`);
- `{{ today }}`: the date of the replay, `2026-11-14` (UTC, as the replay's browser);
- `{{ NAME }}`: a value of the workflow's `vars:`, which may use the three above.

Names are checked when the workflow is read (an unknown one names its step and field); values are put in
when the workflow is replayed.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guidecast.kernel.files import atomic_write_text

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
BUILTIN = ("run.id", "run.counter", "today")


def names_in(text: str | None) -> list[str]:
    return PLACEHOLDER.findall(text or "")


def unknown_names(texts: Iterable[str | None], known: Iterable[str]) -> list[str]:
    allowed = set(BUILTIN) | set(known)
    return sorted({n for t in texts for n in names_in(t) if n not in allowed})


SHAPES = {"run.id": "[0-9a-f]{8}", "run.counter": "[0-9]+", "today": "[0-9]{4}-[0-9]{2}-[0-9]{2}"}  # what each expands to


@dataclass(frozen=True)
class RunValues:
    """The values of one replay."""

    id: str
    counter: int
    today: str
    vars: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, workflow_path: Path, vars: Mapping[str, str], *, counted: bool) -> RunValues:
        """Fresh values for a replay of the workflow at `workflow_path`; `counted`: the workflow uses
        `run.counter` (the stored counter moves on only then)."""
        counter = next_counter(workflow_path) if counted else 0
        base = cls(id=secrets.token_hex(4), counter=counter, today=datetime.now(UTC).date().isoformat())
        return cls(base.id, base.counter, base.today, {k: base.expand(v) for k, v in vars.items()})

    def lookup(self, name: str) -> str:
        if name == "run.id":
            return self.id
        if name == "run.counter":
            return str(self.counter)
        if name == "today":
            return self.today
        return self.vars[name]

    def expand(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.lookup(m.group(1)), text)

    def expand_any(self, data: object) -> object:
        """Every string inside lists and mappings expanded."""
        if isinstance(data, str):
            return self.expand(data)
        if isinstance(data, list):
            return [self.expand_any(x) for x in data]
        if isinstance(data, dict):
            return {k: self.expand_any(v) for k, v in data.items()}
        return data

    def env(self) -> dict[str, str]:
        """The values for a hook command's environment."""
        return {"GUIDECAST_RUN_ID": self.id, "GUIDECAST_RUN_COUNTER": str(self.counter),
                "GUIDECAST_TODAY": self.today}


def state_dir() -> Path:
    if os.environ.get("GUIDECAST_STATE_DIR"):
        return Path(os.environ["GUIDECAST_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "guidecast"


def next_counter(workflow_path: Path) -> int:
    """The workflow's replay counter, moved on by one (1 the first time); one writer at a time."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key = str(Path(workflow_path).resolve())
    with open(folder / "counters.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = folder / "counters.json"
        try:
            counters = json.loads(path.read_text("utf-8"))
            if not isinstance(counters, dict):
                counters = {}
        except (OSError, ValueError):
            counters = {}
        n = int(counters.get(key, 0)) + 1
        counters[key] = n
        atomic_write_text(path, json.dumps(counters, indent=1))
    return n
