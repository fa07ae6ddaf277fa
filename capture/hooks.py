"""A workflow's `setup` and `teardown` hooks, run before and after every replay.

A hook is a command (argv, no shell, run in the workflow's folder with the run's values in
`GUIDECAST_RUN_ID`, `GUIDECAST_RUN_COUNTER`, `GUIDECAST_TODAY` and `GUIDECAST_BASE_URL`) or an HTTP request
to the app. A replay restricted to allowed hosts (the web app's) runs no commands, and sends requests to
allowed hosts only.
"""
from __future__ import annotations

import os
import subprocess

import httpx

from guidecast.capture.browser import Hosts, host_allowed
from guidecast.capture.runvars import RunValues
from guidecast.capture.workflow import Hook, LoadedWorkflow
from guidecast.kernel.errors import HookFailed, WorkflowError

MAX_SAID = 200  # characters of a failing hook's output quoted in the error


def run_hooks(lw: LoadedWorkflow, phase: str, values: RunValues, base_url: str | None,
              hosts: Hosts | None = None) -> None:
    """Run the workflow's `phase` hooks ("setup" or "teardown") in order; the first failure raises HookFailed."""
    for k, hook in enumerate(getattr(lw.workflow, phase), 1):
        where = f"{lw.path}: {phase} hook {k}"
        if hook.command is not None:
            _command(lw, hook, values, base_url, hosts, where, phase, k)
        else:
            _request(lw, hook, values, base_url, hosts, where, phase, k)


def _command(lw: LoadedWorkflow, hook: Hook, values: RunValues, base_url: str | None, hosts: Hosts | None,
             where: str, phase: str, k: int) -> None:
    assert hook.command is not None
    if hosts is not None:
        raise HookFailed(f"{where}: commands are not run here (the web app replays only in the browser); use a "
                         "'request' hook to the app instead", phase=phase, hook=k)
    argv = [values.expand(a) for a in hook.command]
    env = {**os.environ, **values.env(), "GUIDECAST_BASE_URL": base_url or lw.workflow.base_url or ""}
    try:
        done = subprocess.run(argv, cwd=lw.path.parent, env=env, capture_output=True, text=True,
                              timeout=hook.timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise HookFailed(f"{where}: no program {argv[0]!r}; check the command", phase=phase, hook=k) from None
    except subprocess.TimeoutExpired:
        raise HookFailed(f"{where}: {argv[0]} did not finish within {hook.timeout:g}s (raise 'timeout')",
                         phase=phase, hook=k) from None
    if done.returncode != 0:
        said = _last_line(done.stderr) or _last_line(done.stdout)
        raise HookFailed(f"{where}: {argv[0]} exited with {done.returncode}" + (f": {said}" if said else ""),
                         phase=phase, hook=k)


def _request(lw: LoadedWorkflow, hook: Hook, values: RunValues, base_url: str | None, hosts: Hosts | None,
             where: str, phase: str, k: int) -> None:
    r = hook.request
    assert r is not None
    try:
        url = lw.workflow.resolve_url(values.expand(r.url), base_url)
    except WorkflowError as e:
        raise WorkflowError(f"{where}: {e}") from None
    if hosts is not None and not host_allowed(url, hosts):
        raise HookFailed(f"{where}: {url} is not on an allowed host for this replay", phase=phase, hook=k)
    headers = {name: values.expand(v) for name, v in r.headers.items()}
    try:
        answer = httpx.request(r.method, url, json=values.expand_any(r.body), headers=headers,
                               timeout=hook.timeout, follow_redirects=False)
    except httpx.HTTPError as e:
        raise HookFailed(f"{where}: {r.method} {url} failed ({e or type(e).__name__}); is the app running?",
                         phase=phase, hook=k) from None
    if answer.status_code >= 400:
        said = _last_line(answer.text)
        raise HookFailed(f"{where}: {r.method} {url} answered {answer.status_code} {answer.reason_phrase}"
                         + (f": {said}" if said else ""), phase=phase, hook=k)


def _last_line(text: str | None) -> str:
    lines = [x.strip() for x in (text or "").splitlines() if x.strip()]
    return lines[-1][:MAX_SAID] if lines else ""
