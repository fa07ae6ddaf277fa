"""The workflow file: what to do in the app, with semantic locators.

A workflow is YAML (or JSON). It says where to start, which steps to perform and which
secrets to read from the environment. Values of secrets are never stored anywhere.

Beyond the basics (action, target + fallbacks, value/secret, key, url, note, sensitive):
- actions: goto, click, dblclick, fill, select, check, uncheck, press, hover, upload (`files:`
  relative to the workflow file), wait_for (the target shows), back, forward, close_page;
- a locator may carry `frame: [<iframe selector>, ...]`, outermost first (`iframe[name="pay"]`,
  `#frame-id`, `iframe >> nth=0`), `nth: N` (the Nth of several matches, 1 = first), and `xpath:` as its
  kind; labels and field names match without their required-field mark or colon ("Username" finds
  "Username*" and "Username:");
- tabs: `opens_popup: true` on the step whose action opens a popup (replay also follows an
  unannounced one); `page: main | popup-1 | ...` switches tab before the step;
- `dialog: accept | dismiss` answers alert/confirm/prompt raised by the step (default accept);
- workflow level: `base_url` (used when no --base-url is given; recorder and importers set it) and
  `privacy: {strip_query: bool, detect_secrets: bool}`;
- repeatable replays: `vars:` and `{{ run.id }}`, `{{ run.counter }}`, `{{ today }}` in values, URLs,
  locator texts and hooks (see `capture.runvars`); `setup:`/`teardown:` hooks run before and after every
  replay: `{command: [argv...]}` (in the workflow's folder) or `{request: {method, url, json}}` to the app;
- `expect_refusal: true` on a step the app is meant to refuse (a guide that shows a validation message);
  any other refused step stops the replay (`capture.refusal`).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urljoin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from guidecast.capture.runvars import unknown_names
from guidecast.kernel.errors import WorkflowError, describe_validation_error
from guidecast.kernel.inputs import InputError, load_yaml, read_input
from guidecast.kernel.model import Strict

WORKFLOW_SCHEMA_VERSION: Final = 1

Action = Literal[
    "goto", "click", "dblclick", "fill", "select", "check", "uncheck", "press", "hover", "upload", "wait_for",
    "back", "forward", "close_page",
]
ACTIONS_WITH_TARGET = {"click", "dblclick", "fill", "select", "check", "uncheck", "hover", "upload", "wait_for"}
LOCATOR_KINDS = ("role", "label", "test_id", "text", "placeholder", "css", "xpath")
PAGE_NAME = r"^(main|popup-[1-9][0-9]*)$"
MAX_ID = 80  # a step id becomes part of file names (images/03-<id>.png)
MAX_STEPS = 2000
MAX_WORKFLOW_BYTES = 5 * 1024 * 1024


class Locator(Strict):
    """How to find an element, ranked like Playwright's codegen: role+name first, CSS last."""

    role: str | None = None
    name: str | None = None
    exact: bool = True
    label: str | None = None
    test_id: str | None = None
    text: str | None = None
    placeholder: str | None = None
    css: str | None = None
    xpath: str | None = None
    # Which one when several elements match (1 is the first, in page order): `{role: combobox, nth: 2}`.
    nth: int | None = Field(None, ge=1, le=1000)
    # The iframes to enter first, outermost first: CSS selectors of <iframe> elements, as Playwright's
    # frame_locator takes them (e.g. `iframe[name="pay"]`, `#checkout-frame`, `iframe >> nth=0`).
    frame: list[str] = []

    @model_validator(mode="after")
    def _one_kind(self) -> Locator:
        kinds = [k for k in LOCATOR_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                "a locator needs exactly one of role, label, test_id, text, placeholder, css, xpath"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.name is not None and not self.role:
            raise ValueError("'name' goes with 'role'")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in LOCATOR_KINDS if getattr(self, k))

    def describe(self) -> str:
        if self.role:
            what = f"{self.role} {self.name!r}" if self.name else self.role
        else:
            what = f"{self.kind} {getattr(self, self.kind)!r}"
        if self.nth is not None:
            what += f" (match {self.nth})"
        return what + "".join(f" in frame {f!r}" for f in self.frame)


class Privacy(Strict):
    """What to keep out of the capture bundle beyond passwords and fields marked `sensitive`."""

    strip_query: bool = False  # drop ?query and #fragment from every stored URL
    detect_secrets: bool = True  # treat values that look like API tokens / card numbers as sensitive


class Viewport(Strict):
    width: int = Field(1280, ge=320, le=3840)
    height: int = Field(720, ge=240, le=2160)


class Step(Strict):
    id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=MAX_ID)
    action: Action
    target: Locator | None = None
    fallbacks: list[Locator] = []
    value: str | None = None
    secret: str | None = None
    key: str | None = None
    url: str | None = None
    note: str | None = None
    sensitive: bool = False
    files: list[str] = []  # upload: paths relative to the workflow file
    page: str | None = Field(None, pattern=PAGE_NAME)  # switch to this tab first: main, popup-1, ...
    opens_popup: bool = False  # the action opens a new tab/popup; later steps run in it
    dialog: Literal["accept", "dismiss"] | None = None  # answer to alert/confirm/prompt (default accept)
    expect_refusal: bool = False  # the app is meant to refuse this step (its message is what the guide shows)

    @field_validator("url")
    @classmethod
    def _web_url(cls, v: str | None) -> str | None:
        return None if v is None else web_url(v, "url")

    @model_validator(mode="after")
    def _fields_for_action(self) -> Step:
        a = self.action
        if a in ACTIONS_WITH_TARGET and self.target is None:
            raise ValueError(f"action '{a}' needs a 'target' locator")
        if a == "fill" and self.value is None and self.secret is None:
            raise ValueError("action 'fill' needs a 'value' or a 'secret'")
        if a == "select" and self.value is None:
            raise ValueError("action 'select' needs a 'value' (the option's label)")
        if a == "press" and not self.key:
            raise ValueError("action 'press' needs a 'key', e.g. Enter")
        if a == "goto" and not self.url:
            raise ValueError("action 'goto' needs a 'url'")
        if a == "upload" and not self.files:
            raise ValueError("action 'upload' needs 'files' (paths relative to the workflow file)")
        if self.value is not None and self.secret is not None:
            raise ValueError("give either 'value' or 'secret', not both")
        return self

    @property
    def is_sensitive(self) -> bool:
        return self.sensitive or self.secret is not None

    def locators(self) -> list[Locator]:
        return ([self.target] if self.target else []) + list(self.fallbacks)


class HookRequest(Strict):
    """An HTTP request to the app (a URL relative to the base URL, or on the app's host)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    body: Any = None  # sent as JSON
    headers: dict[str, str] = {}

    @field_validator("url")
    @classmethod
    def _web_url(cls, v: str) -> str:
        return web_url(v, "url")


class Hook(Strict):
    """One thing to do around a replay: a command (argv, run in the workflow's folder, no shell) or a request."""

    command: list[str] | None = Field(None, min_length=1)
    request: HookRequest | None = None
    timeout: float = Field(60.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_kind(self) -> Hook:
        if (self.command is None) == (self.request is None):
            raise ValueError("a hook is either a 'command' (a list: program and arguments) or a 'request'")
        return self

    def texts(self) -> list[str]:
        if self.command is not None:
            return list(self.command)
        r = self.request
        assert r is not None
        return [r.url, *r.headers.values(), *_strings(r.body)]


class Workflow(Strict):
    schema_version: Literal[1] = WORKFLOW_SCHEMA_VERSION
    title: str = Field(min_length=1)
    description: str | None = None
    start_url: str
    # Where relative URLs point when no --base-url is given (recorders and imports set it).
    base_url: str | None = None
    viewport: Viewport = Viewport()
    secrets: dict[str, str] = {}
    privacy: Privacy = Privacy()
    # Regions whose content changes from run to run (dates, counters, avatars): their boxes are recorded
    # with every screenshot and freshness checks do not compare their pixels.
    dynamic: list[Locator] = []
    # Per-run values (`{{ NAME }}`), which may use {{ run.id }}, {{ run.counter }} and {{ today }}.
    vars: dict[str, str] = {}
    setup: list[Hook] = []  # run before every replay (e.g. reset the app's demo data)
    teardown: list[Hook] = []  # run after every replay, whether it went through or not
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("start_url", "base_url")
    @classmethod
    def _web_urls(cls, v: str | None) -> str | None:
        return None if v is None else web_url(v, "the URL")

    @model_validator(mode="after")
    def _ids_unique(self) -> Workflow:
        first: dict[str, int] = {}
        for i, s in enumerate(self.steps, 1):
            if s.id is None:
                continue
            if s.id in first:
                raise ValueError(f"steps {first[s.id]} and {i} both have the id '{s.id}'; step ids must be unique "
                                 "(rename one, or leave its id out to have one derived)")
            first[s.id] = i
        return self

    @model_validator(mode="after")
    def _secrets_declared(self) -> Workflow:
        for i, s in enumerate(self.steps, 1):
            if s.secret and s.secret not in self.secrets:
                raise ValueError(
                    f"step {i} uses secret '{s.secret}', which is not declared under 'secrets' "
                    f"(add e.g. `{s.secret}: MY_ENV_VAR`)"
                )
        return self

    @model_validator(mode="after")
    def _placeholders_known(self) -> Workflow:
        def check(where: str, texts: list[str | None], known: list[str]) -> None:
            bad = unknown_names(texts, known)
            if bad:
                have = ", ".join(["run.id", "run.counter", "today", *known])
                raise ValueError(f"{where} uses {{{{ {bad[0]} }}}}, which is not a per-run value (known: {have}); "
                                 "declare it under 'vars'")

        for name, v in self.vars.items():
            check(f"vars.{name}", [v], [])
        names = list(self.vars)
        check("start_url", [self.start_url], names)
        for phase in ("setup", "teardown"):
            for k, h in enumerate(getattr(self, phase), 1):
                check(f"{phase} hook {k}", list(h.texts()), names)
        for i, s in enumerate(self.steps, 1):
            texts = [s.value, s.url, *(str(getattr(loc, k) or "") for loc in s.locators()
                                       for k in ("name", *LOCATOR_KINDS))]
            check(f"step {i}", texts, names)
        return self

    @property
    def uses_counter(self) -> bool:
        return "run.counter" in self.model_dump_json()

    def step_ids(self) -> list[str]:
        """Stable ids: the step's own `id`, else a slug of action and target, made unique: a derived id never
        takes an id another step has, explicitly or derived (`fill-email`, `fill-email-2`, ...)."""
        taken = {s.id for s in self.steps if s.id}
        seen: dict[str, int] = {}
        ids = []
        for s in self.steps:
            if s.id:
                ids.append(s.id)
                continue
            base = _slug(s)
            n = seen.get(base, 0)
            while True:
                n += 1
                sid = base if n == 1 else f"{base[:MAX_ID - 6]}-{n}"
                if sid not in taken:
                    break
            seen[base] = n
            taken.add(sid)
            ids.append(sid)
        return ids

    def resolve_url(self, url: str, base_url: str | None) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
            return url
        base_url = base_url or self.base_url
        if not base_url:
            raise WorkflowError(
                f"the URL '{url}' is relative; pass --base-url (e.g. --base-url http://127.0.0.1:8000)"
            )
        return urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))


def with_step_ids(steps: list[Step]) -> list[Step]:
    """The steps with their stable ids written out (`id:`), as `Workflow.step_ids` derives them."""
    draft = Workflow.model_construct(title="", start_url="", steps=steps)
    return [s.model_copy(update={"id": sid}) for s, sid in zip(steps, draft.step_ids(), strict=True)]


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [t for x in data for t in _strings(x)]
    if isinstance(data, dict):
        return [t for x in data.values() for t in _strings(x)]
    return []


def web_url(url: str, what: str) -> str:
    """`url` if it is a web address (http or https) or a path relative to the app; else ValueError. Pages
    from `file:`, `data:` or `javascript:` URLs are not the app and would read local files."""
    u = url.strip()
    if not u:
        raise ValueError(f"{what} is empty; give a path such as /login or an http(s) URL")
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", u)
    if m and m.group(1).lower() not in ("http", "https"):
        raise ValueError(f"{what} {u[:60]!r}: only http and https URLs (or a path such as /login) can be replayed")
    return url


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, else None."""
    m = re.match(r"^(https?://[^/?#]+)", url or "")
    return m.group(1) if m else None


def relative_to(url: str, origin: str | None) -> str:
    """`url` without `origin` when it is on that origin (so the workflow runs against any deployment)."""
    if origin and origin_of(url) == origin:
        return url[len(origin):] or "/"
    return url


def _slug(step: Step) -> str:
    what = ""
    if step.target:
        loc = step.target
        what = loc.name or getattr(loc, loc.kind) or ""
    elif step.key:
        what = step.key
    elif step.url:
        what = step.url
    slug = re.sub(r"[^a-z0-9]+", "-", f"{step.action} {what}".lower()).strip("-")
    return slug[:60].rstrip("-") or step.action


class LoadedWorkflow(BaseModel):
    """A workflow together with where it came from and the hash of its exact bytes."""

    model_config = ConfigDict(frozen=True)
    path: Path
    sha256: str
    workflow: Workflow


def describe_yaml_error(e: yaml.YAMLError) -> str:
    """`line N, column M: not valid YAML: <problem>`, pointing where the broken construct starts."""
    mark = getattr(e, "problem_mark", None)
    start = getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if start is not None and mark is not None and start.line != mark.line:
        context = getattr(e, "context", None) or "in this construct"
        return (f"line {start.line + 1}, column {start.column + 1}: not valid YAML: {context} (from line "
                f"{start.line + 1}), {problem} at line {mark.line + 1}; check brackets and quotes")
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}not valid YAML: {problem}"


def parse_workflow(text: str, source: str = "<workflow>") -> Workflow:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as e:
        raise WorkflowError(f"{source}: {describe_yaml_error(e)}") from None
    if not isinstance(data, dict):
        raise WorkflowError(f"{source}: expected a mapping with 'title', 'start_url' and 'steps'")
    try:
        return Workflow.model_validate(data)
    except ValidationError as e:
        raise WorkflowError(describe_validation_error(source, e)) from None


class _FlowDumper(yaml.SafeDumper):
    """Block style, except small mappings of scalars (locators) which read best on one line."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.MappingNode:
    def scalar(v: object) -> bool:
        return isinstance(v, (str, int, float, bool)) or (isinstance(v, list) and all(isinstance(x, str) for x in v))

    flow = set(data) <= set(Locator.model_fields) and all(scalar(v) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_FlowDumper.add_representer(dict, _represent_dict)


def dump_workflow(wf: Workflow, header: str = "") -> str:
    """The workflow as YAML: defaults left out, fields in model order, locators on one line."""
    data = {"schema_version": wf.schema_version, **wf.model_dump(mode="json", exclude_defaults=True)}
    text = yaml.dump(data, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True, width=110)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + text


def load_workflow(path: str | Path) -> LoadedWorkflow:
    p = Path(path)
    try:
        raw = read_input(p, "workflow file (.yaml)", MAX_WORKFLOW_BYTES)
    except InputError as e:
        raise WorkflowError(str(e)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkflowError(f"{p}: not a UTF-8 text file") from None
    wf = parse_workflow(text, str(p))
    return LoadedWorkflow(path=p, sha256=hashlib.sha256(raw).hexdigest(), workflow=wf)
