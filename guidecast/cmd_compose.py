"""Extra `guidecast` commands of the compose area, registered on the main group."""
from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`."""
