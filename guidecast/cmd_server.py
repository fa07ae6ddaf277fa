"""Extra `guidecast` commands of the server area, registered on the main group."""
from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`."""
    cli.add_command(user)


@click.group()
def user() -> None:
    """Manage the web app's users."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="viewer", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters (prompted for when left out).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="As for `guidecast serve`.")
def user_add(email: str, role: str, password: str, data_dir: Path | None) -> None:
    """Create a user, e.g. the first admin: guidecast user add EMAIL --role admin."""
    from fastapi import HTTPException

    from capture.errors import GuidecastError
    from server.app import make_context
    from server.routes_auth import create_user
    from server.settings import load_settings

    ctx = make_context(load_settings(data_dir=data_dir))
    try:
        with ctx.db.session() as s:
            u = create_user(s, email, role, password)
            click.echo(f"user {u.email} ({u.role}) created in {ctx.settings.data_dir}")
    except HTTPException as e:
        raise GuidecastError(f"user add: {e.detail}") from None
