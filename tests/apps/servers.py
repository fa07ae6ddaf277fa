"""Third-party web apps for the real-app tests, each started on a free loopback port.

Installed by `make setup` (`scripts/apps-deps.sh`, `scripts/node-deps.sh`) into the git-ignored `.cache/`:
Datasette and Wagtail in their own venvs under `.cache/apps/`, the TodoMVC examples under `.cache/node/`.
`missing()` says what is not installed; the fixtures in `conftest.py` skip on it outside CI and fail in CI.
"""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / ".cache" / "apps"
DATASETTE = APPS / "datasette" / "bin" / "datasette"
WAGTAIL_BIN = APPS / "wagtail" / "bin"
TODOMVC = REPO / ".cache" / "node" / "node_modules" / "todomvc"
START_TIMEOUT_S = 60.0

WAGTAIL_USER = "editor"
WAGTAIL_PASSWORD = "Quill-Harbour-7342"  # the admin's password: must never appear in any output byte
NEW_USER_PASSWORD = "Lantern-Meadow-5190"  # the password the workflow gives a new user


def missing(app: str) -> str | None:
    """Why `app` cannot run here (not installed), or None."""
    need = {"datasette": DATASETTE, "wagtail": WAGTAIL_BIN / "wagtail",
            "todomvc": TODOMVC / "examples" / "react" / "index.html"}[app]
    if need.exists():
        return None
    return f"{app} is not installed ({need.relative_to(REPO)} is missing); run `make setup`"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    name: str
    url: str
    log: Path | None = None
    data: dict = field(default_factory=dict)


def _wait_until_answers(url: str, proc: subprocess.Popen | None, log: Path | None, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"{what} exited with {proc.returncode} before answering {url}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {START_TIMEOUT_S:g}s")
        time.sleep(0.1)


@contextmanager
def _process(cmd: list[str], *, cwd: Path, ready_url: str, log: Path, what: str,
             env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
    try:
        _wait_until_answers(ready_url, proc, log, what)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- Datasette --------------------------------------------------------------------------------------
FILMS = [
    ("Arrival", "Science fiction", 2016, 7.9), ("Blade Runner", "Science fiction", 1982, 8.1),
    ("Casablanca", "Drama", 1942, 8.5), ("Chinatown", "Crime", 1974, 8.1),
    ("Fargo", "Crime", 1996, 8.1), ("Gattaca", "Science fiction", 1997, 7.8),
    ("Heat", "Crime", 1995, 8.3), ("Moonlight", "Drama", 2016, 7.4),
    ("Paddington 2", "Comedy", 2017, 7.8), ("Parasite", "Drama", 2019, 8.5),
    ("Some Like It Hot", "Comedy", 1959, 8.2), ("The Apartment", "Comedy", 1960, 8.3),
    ("The Matrix", "Science fiction", 1999, 8.7), ("Vertigo", "Drama", 1958, 8.3),
    ("Zodiac", "Crime", 2007, 7.7), ("Groundhog Day", "Comedy", 1993, 8.0),
]


def make_films_db(path: Path) -> Path:
    """A small SQLite file: a `films` table (title, genre, year, rating) to filter, sort and facet."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE films (id INTEGER PRIMARY KEY, title TEXT NOT NULL, genre TEXT NOT NULL, "
                   "year INTEGER NOT NULL, rating REAL NOT NULL)")
        db.executemany("INSERT INTO films (title, genre, year, rating) VALUES (?, ?, ?, ?)", FILMS)
    db.close()
    return path


@contextmanager
def start_datasette(workdir: Path, extra: tuple[str, ...] = ()) -> Iterator[App]:
    """Datasette on a fresh films.db in `workdir`; `extra`: more `datasette serve` options (e.g.
    `--template-dir`, `--metadata`)."""
    db = make_films_db(workdir / "films.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "datasette.log"
    cmd = [str(DATASETTE), "serve", str(db), "--host", "127.0.0.1", "--port", str(port),
           "--setting", "facet_time_limit_ms", "1000", *extra]
    with _process(cmd, cwd=workdir, ready_url=url + "/-/versions.json", log=log, what="Datasette"):
        yield App("datasette", url, log, {"db": db})


# -- Wagtail ----------------------------------------------------------------------------------------
# The page type of Wagtail's tutorial (its blog page), as a Wagtail user adds to a new project.
ARTICLE_MODEL = """

from wagtail.admin.panels import FieldPanel  # noqa: E402


class ArticlePage(Page):
    intro = models.CharField("Intro", max_length=250, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
"""


def make_wagtail_project(workdir: Path) -> Path:
    """`wagtail start newsroom` with an article page type, migrated, with the superuser WAGTAIL_USER; returns
    the project folder (its database also kept as `pristine.sqlite3`)."""
    project = workdir / "newsroom"
    project.mkdir()
    py = str(WAGTAIL_BIN / "python")
    log = workdir / "wagtail-setup.log"
    env = {**os.environ, "DJANGO_SUPERUSER_PASSWORD": WAGTAIL_PASSWORD, "PYTHONDONTWRITEBYTECODE": "1"}

    def run(cmd: list[str]) -> None:
        with log.open("ab") as out:
            r = subprocess.run(cmd, cwd=project, stdout=out, stderr=subprocess.STDOUT, env=env,
                               stdin=subprocess.DEVNULL, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])} failed ({r.returncode}):\n"
                               + log.read_text(errors="replace")[-2000:])

    run([str(WAGTAIL_BIN / "wagtail"), "start", "newsroom", str(project)])
    with (project / "home" / "models.py").open("a") as f:
        f.write(ARTICLE_MODEL)
    steps = [
        [py, "manage.py", "makemigrations", "home", "-v0"],
        [py, "manage.py", "migrate", "--noinput", "-v0"],
        [py, "manage.py", "createsuperuser", "--noinput", "--username", WAGTAIL_USER,
         "--email", "editor@example.com"],
    ]
    for cmd in steps:
        run(cmd)
    shutil.copyfile(project / "db.sqlite3", project / "pristine.sqlite3")
    return project


@contextmanager
def start_wagtail(project: Path) -> Iterator[App]:
    """Django's development server (threaded, no reloader) on the migrated project. `app.data["reset"]()`
    puts the database back as migrated (every request opens the file anew, so no restart is needed)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = project.parent / "wagtail.log"
    cmd = [str(WAGTAIL_BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]

    def reset() -> None:
        tmp = project / "db.sqlite3.new"
        shutil.copyfile(project / "pristine.sqlite3", tmp)
        os.replace(tmp, project / "db.sqlite3")

    reset()
    with _process(cmd, cwd=project, ready_url=url + "/admin/login/", log=log, what="Wagtail",
                  env={"PYTHONDONTWRITEBYTECODE": "1"}):
        yield App("wagtail", url, log, {"project": project, "reset": reset, "db": project / "db.sqlite3"})


def end_state(app: App) -> dict:
    """What an app holds that a workflow changes: Wagtail's pages and users (read from its database)."""
    if app.name != "wagtail":
        return {}
    with sqlite3.connect(app.data["db"]) as db:
        pages = db.execute("SELECT title, live FROM wagtailcore_page WHERE depth > 2 ORDER BY path").fetchall()
        users = db.execute("SELECT username, first_name, last_name, email FROM auth_user ORDER BY id").fetchall()
    db.close()
    return {"pages": pages, "users": users}


# -- TodoMVC ----------------------------------------------------------------------------------------
@contextmanager
def start_todomvc(root_dir: Path | None = None) -> Iterator[App]:
    """The todomvc package served as static files; the React example is at /examples/react/."""
    root = str(root_dir or TODOMVC)

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        _wait_until_answers(url + "/examples/react/", None, None, "the TodoMVC server")
        yield App("todomvc", url)
    finally:
        server.shutdown()
        server.server_close()
