"""Alembic environment: runs against the connection the server hands in (server.db.upgrade)."""
from alembic import context
from sqlalchemy import create_engine

from guidecast.server.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # `alembic` on the command line: -x url=sqlite:///path/to/guidecast.db
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("alembic: give the database as -x url=sqlite:///path/to/guidecast.db")
        with create_engine(url).begin() as c:
            _migrate(c)
    else:
        _migrate(conn)


def _migrate(conn) -> None:
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
