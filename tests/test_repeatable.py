"""Replays that create things: per-run values and hooks make them repeatable; a step the app refuses is
reported with the app's own message, never as a change."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from guidecast.capture.check import check_capture
from guidecast.capture.replay import capture_workflow
from guidecast.kernel.errors import StepRefused
from guidecast.samples import WORKFLOWS_DIR
from tests.conftest import requires_browser

pytestmark = [requires_browser, pytest.mark.browser]

INVITE = (WORKFLOWS_DIR / "invite-teammate.yaml").read_text()


@pytest.fixture
def app():
    """An Expensely of this test alone: what its replays create stays in it."""
    from guidecast.samples.expense_app import start_sample_app

    with start_sample_app("base") as running:
        yield running


def invite_workflow(tmp_path: Path, email: str, extra: str = "") -> Path:
    """The sample invite workflow, inviting `email`, with `extra` workflow-level YAML."""
    text = INVITE.replace("value: jordan.lee@example.com", f"value: '{email}'")
    text = text.replace("steps:\n", extra + "steps:\n", 1)
    wf = tmp_path / "invite.yaml"
    wf.write_text(text)
    return wf


def team(app) -> list[str]:
    return [t["email"] for t in httpx.get(f"{app.url}/api/team").json()]


def test_a_workflow_that_creates_a_user_replays_unchanged_three_times_with_a_per_run_name(app, tmp_path, monkeypatch):
    monkeypatch.setenv("GUIDECAST_STATE_DIR", str(tmp_path / "state"))
    wf = invite_workflow(tmp_path, "{{ invitee }}",
                         "vars:\n  invitee: 'pat.{{ run.id }}.{{ run.counter }}@example.com'\n"
                         "dynamic: [{test_id: team-table}]\n")
    base = capture_workflow(wf, tmp_path / "capture", base_url=app.url)
    first = next(s for s in base.steps if s.id == "enter-invitee-email").value
    assert first is not None and first.startswith("pat.") and first.endswith(".1@example.com")
    for run in range(3):
        report = check_capture(tmp_path / "capture")
        assert report.verified and report.refused is None, report.error
        assert {s.id: s.status for s in report.steps} == {s.id: "unchanged" for s in base.steps}, run
        assert not report.flow
    invited = [e for e in team(app) if e.startswith("pat.")]
    assert len(invited) == 4 and len(set(invited)) == 4  # the baseline and one per check: no second replay
    assert sorted(int(e.split(".")[2].split("@")[0]) for e in invited) == [1, 2, 3, 4]


def test_the_same_name_twice_is_refused_with_the_apps_message_and_no_step_counts_as_changed(app, tmp_path):
    wf = invite_workflow(tmp_path, "pat.twice@example.com")
    capture_workflow(wf, tmp_path / "capture", base_url=app.url)
    report = check_capture(tmp_path / "capture")
    assert not report.verified and report.refused is not None
    assert (report.refused.step, report.refused.id) == (8, "send-invite")
    assert "pat.twice@example.com is already on the team." in report.refused.message
    assert "the app refused step 8 (send-invite)" in report.error and "run.id" in report.error
    assert not any(s.status in ("new_flow", "gone", "renamed") for s in report.steps)
    with pytest.raises(StepRefused, match="already on the team"):  # a build from such a replay stops too
        capture_workflow(wf, tmp_path / "again", base_url=app.url)
    assert not (tmp_path / "again").exists()


def test_setup_and_teardown_hooks_run_around_every_replay(app, tmp_path):
    log = tmp_path / "teardown.log"
    wf = invite_workflow(tmp_path, "pat.hooks@example.com",
                         "setup:\n  - request: {method: POST, url: /api/reset}\n"
                         "teardown:\n  - command: [sh, -c, 'echo \"$GUIDECAST_RUN_ID {{ today }}\" >> teardown.log']\n"
                         "dynamic: [{test_id: team-table}]\n")
    capture_workflow(wf, tmp_path / "capture", base_url=app.url)
    for _ in range(2):  # the reset before each replay makes the same invitation possible again
        report = check_capture(tmp_path / "capture")
        assert report.verified and not report.changed, report.error
    runs = log.read_text().split("\n")[:-1]
    assert len(runs) == 3 and len({r.split()[0] for r in runs}) == 3  # a new run id each replay
    assert team(app).count("pat.hooks@example.com") == 1


def test_a_failing_hook_is_a_clear_error(app, tmp_path):
    from guidecast.kernel.errors import HookFailed

    wf = invite_workflow(tmp_path, "pat.fail@example.com", "setup:\n  - request: {url: /api/no-such-thing}\n")
    with pytest.raises(HookFailed, match=r"setup hook 1: POST .*/api/no-such-thing answered 404"):
        capture_workflow(wf, tmp_path / "capture", base_url=app.url)
    wf = invite_workflow(tmp_path, "pat.fail@example.com", "setup:\n  - command: [sh, -c, 'echo no >&2; exit 4']\n")
    with pytest.raises(HookFailed, match="setup hook 1: sh exited with 4: no"):
        capture_workflow(wf, tmp_path / "capture", base_url=app.url)
    with pytest.raises(HookFailed, match="commands are not run here"):
        capture_workflow(wf, tmp_path / "capture", base_url=app.url, allowed_hosts=["127.0.0.1"])


def test_a_per_run_value_under_a_persons_text_does_not_put_the_step_in_review(app, tmp_path, monkeypatch):
    """The generated sentence quotes this replay's value ("pat.1f0c9a2e@..."); a new value each refresh is not
    the app changing, so the manager's own text for the step is not flagged for review."""
    import yaml

    from guidecast.composer.compose import compose_guide

    monkeypatch.setenv("GUIDECAST_STATE_DIR", str(tmp_path / "state"))
    wf = invite_workflow(tmp_path, "pat.{{ run.id }}@example.com", "dynamic: [{test_id: team-table}]\n")
    first = capture_workflow(wf, tmp_path / "capture1", base_url=app.url)
    step = next(s for s in first.steps if s.id == "enter-invitee-email")
    assert step.value_template == "pat.{{ run.id }}@example.com" and "{{" not in step.value
    edits = tmp_path / "edits.yaml"
    edits.write_text(yaml.safe_dump({"steps": {"enter-invitee-email": {"text": "Type the new teammate's e-mail."}}}))
    v1 = compose_guide(tmp_path / "capture1", tmp_path / "guide", edits=edits)
    capture_workflow(wf, tmp_path / "capture2", base_url=app.url)
    v2 = compose_guide(tmp_path / "capture2", tmp_path / "guide")
    before, after = (next(s for s in g.steps if s.id == "enter-invitee-email") for g in (v1, v2))
    assert before.generated_text != after.generated_text  # each replay quoted its own value
    assert after.text == "Type the new teammate's e-mail." and after.review is None
