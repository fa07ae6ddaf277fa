"""Bounds of the numbers routes take: ids and revisions fit SQLite's INTEGER, so a bigger one is a 422
naming the parameter, never a 500 from the database driver."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=0, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=0, le=MAX_ID)]
