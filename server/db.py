"""The database: SQLite under the data directory (the default), or PostgreSQL through psycopg 3
(`GUIDECAST_DATABASE_URL=postgresql://...`), migrated with Alembic at start-up. On PostgreSQL the start-up
also lays out Procrastinate's tables (the job queue, server/queue.py) once."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """`pool_size`: connections kept (server/capacity.py sizes it with the request threads and job workers);
    a few more may open for streams and the scheduler, and waiting for one ends after 10 s."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=8, pool_timeout=10)

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=8, pool_timeout=10, pool_pre_ping=True)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'guidecast.db'}"


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` against `engine`, with the migration scripts kept in server/migrations."""
    with engine.begin() as conn:
        upgrade_on(conn)


def upgrade_on(conn) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def queue_schema(conn) -> None:
    """Procrastinate's own tables and functions, laid out by its schema script when they are missing."""
    from procrastinate.schema import SchemaManager

    if conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is None:
        conn.connection.driver_connection.execute(SchemaManager.get_schema())  # a script: no parameters


class Database:
    def __init__(self, url: str, pool_size: int = 5):
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def migrate(self) -> None:
        if self.postgres:
            with self.engine.begin() as conn:  # one process migrates at a time (several start together)
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(72657)")
                upgrade_on(conn)
                queue_schema(conn)
        else:
            upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        s = self.sessions()
        try:
            yield s
        except BaseException:
            self.abort(s)
            raise
        self.finish(s)

    @staticmethod
    def finish(s: Session) -> None:
        """Commit `s`, run its after-commit hooks and close it (rolled back and closed if the commit fails)."""
        try:
            s.commit()
        except BaseException:
            Database.abort(s)
            raise
        hooks = s.info.pop("after_commit", [])
        s.close()
        for hook in hooks:
            hook()

    @staticmethod
    def abort(s: Session) -> None:
        try:
            s.rollback()
        finally:
            s.close()
