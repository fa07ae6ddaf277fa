"""The real-app corpus: Datasette, Wagtail and React TodoMVC started once per session on free loopback
ports, and each hand-written workflow in `workflows/` captured and composed once (read-only for tests).

An app that is not installed skips its tests with the reason (run `make setup`), except in CI
(`CI=true`), where a missing app is a failure.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.apps import servers

WORKFLOWS = Path(__file__).parent / "workflows"
SECRETS_ENV = {"WAGTAIL_PASSWORD": servers.WAGTAIL_PASSWORD, "NEW_USER_PASSWORD": servers.NEW_USER_PASSWORD}
SECRETS = tuple(SECRETS_ENV.values())
APP_OF = {"datasette-comedies": "datasette", "wagtail-publish-article": "wagtail", "wagtail-add-user": "wagtail",
          "todomvc-shopping": "todomvc"}


def _need(app: str) -> None:
    why = servers.missing(app)
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def datasette_app(tmp_path_factory):
    _need("datasette")
    with servers.start_datasette(tmp_path_factory.mktemp("datasette")) as app:
        yield app


@pytest.fixture(scope="session")
def wagtail_project(tmp_path_factory) -> Path:
    """A `wagtail start` project, migrated, with its superuser: made once per session."""
    _need("wagtail")
    return servers.make_wagtail_project(tmp_path_factory.mktemp("wagtail"))


@pytest.fixture(scope="session")
def wagtail_app(wagtail_project):
    with servers.start_wagtail(wagtail_project) as app:
        yield app


@pytest.fixture(scope="session")
def todomvc_app():
    _need("todomvc")
    with servers.start_todomvc() as app:
        yield app


@pytest.fixture(scope="session")
def apps(request):
    """The running app by name, started on first use."""
    return lambda name: request.getfixturevalue(f"{name}_app")


@dataclass
class Built:
    name: str
    workflow: Path
    app: servers.App
    capture_dir: Path
    guide_dir: Path
    end_state: dict  # what the app held right after the capture (see servers.end_state)

    @property
    def bundle(self):
        from guidecast.capture.bundle import load_capture

        return load_capture(self.capture_dir)

    @property
    def guide(self):
        from guidecast.composer.guide import load_guide

        return load_guide(self.guide_dir)


def capture_env() -> dict[str, str]:
    return {**os.environ, **SECRETS_ENV}


@pytest.fixture(scope="session")
def built(apps, tmp_path_factory):
    """`built(name)`: the workflow `workflows/<name>.yaml` captured against its app and composed, once per
    session (Wagtail's database is put back as migrated first)."""
    from guidecast.capture.replay import capture_workflow
    from guidecast.composer.compose import compose_guide

    cache: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in cache:
            app = apps(APP_OF[name])
            if "reset" in app.data:
                app.data["reset"]()
            out = tmp_path_factory.mktemp(name)
            workflow = WORKFLOWS / f"{name}.yaml"
            capture_workflow(workflow, out / "capture", base_url=app.url, env=capture_env())
            end = servers.end_state(app)
            compose_guide(out / "capture", out / "guide")
            cache[name] = Built(name, workflow, app, out / "capture", out / "guide", end)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def reference_boxes(apps):
    """`reference_boxes(name)`: step id -> the target's box once the app settled, from a slow walk of the
    workflow with plain Playwright (`settled.settled_boxes`), once per session."""
    from tests.apps.settled import settled_boxes

    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            app = apps(APP_OF[name])
            if "reset" in app.data:
                app.data["reset"]()
            cache[name] = settled_boxes(WORKFLOWS / f"{name}.yaml", app.url, capture_env())
        return cache[name]

    return get
