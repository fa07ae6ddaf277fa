"""What both importers share: building workflow steps, tabs, secrets and the report of what was skipped."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from guidecast.capture.privacy import SecretNames, app_name, env_prefix, secret_kind
from guidecast.capture.workflow import (
    LOCATOR_KINDS,
    Locator,
    Step,
    Viewport,
    Workflow,
    origin_of,
    relative_to,
    with_step_ids,
)
from guidecast.kernel.errors import GuidecastError


class ImportFormatError(GuidecastError):
    """The recording cannot be imported as it is."""


@dataclass
class Issue:
    where: str  # "step 4" / "command 7"
    message: str
    unsupported: bool  # True: something in the recording has no equivalent and was left out

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    workflow: Workflow
    issues: list[Issue] = field(default_factory=list)
    env_vars: dict[str, str] = field(default_factory=dict)  # env var -> what it holds

    @property
    def unsupported(self) -> list[Issue]:
        return [i for i in self.issues if i.unsupported]


def rank(locators: list[Locator | None]) -> list[Locator]:
    """Locators without repeats, ordered like the recorder ranks them: role+name first, XPath last."""
    seen, out = set(), []
    for loc in locators:
        if loc is not None and loc.model_dump_json() not in seen:
            seen.add(loc.model_dump_json())
            out.append(loc)
    return sorted(out, key=lambda loc: LOCATOR_KINDS.index(loc.kind))


def css_locator(css: str, frame: list[str]) -> Locator:
    """A CSS selector, as a test_id locator when it only selects by data-testid."""
    import re

    m = re.fullmatch(r"""\*?\[data-testid=["']?([^"'\]]+)["']?\]""", css.strip())
    return Locator(test_id=m.group(1), frame=frame) if m else Locator(css=css, frame=frame)


class Builder:
    """Collects steps in workflow terms while an importer walks a recording."""

    def __init__(self, source: Path, title: str):
        self.source = source
        self.title = title
        self.steps: list[Step] = []
        self.issues: list[Issue] = []
        self.start_url: str | None = None
        self.origin: str | None = None
        self.viewport: Viewport | None = None
        self.secret_names = SecretNames()
        self.current_page = "main"
        self._popups = 0
        self._opener: dict[str, str] = {}

    def error(self, where: str, message: str) -> ImportFormatError:
        return ImportFormatError(f"{self.source}: {where}: {message}")

    def note(self, where: str, message: str, unsupported: bool = False) -> None:
        self.issues.append(Issue(where, message, unsupported))

    # -- tabs ------------------------------------------------------------------------------------
    def open_popup(self) -> str:
        """Mark the last step as opening a popup; returns the popup's name (popup-1, ...)."""
        self._popups += 1
        name = f"popup-{self._popups}"
        if self.steps:
            self.steps[-1] = self.steps[-1].model_copy(update={"opens_popup": True})
        self._opener[name] = self.current_page
        self.current_page = name
        return name

    def close_page(self, where: str, name: str) -> None:
        """Close tab `name`; replay goes back to the tab that opened it."""
        self.add(where, action="close_page", page=name)
        self.current_page = self._opener.get(name, "main")

    def on_page(self, name: str) -> dict:
        """Fields for a step that runs in tab `name`: `page` only where replay must change tabs."""
        if name == self.current_page:
            return {}
        self.current_page = name
        return {"page": name}

    # -- steps -----------------------------------------------------------------------------------
    def navigate(self, where: str, url: str, page: str = "main") -> None:
        if self.start_url is None:
            self.start_url, self.origin = url, origin_of(url)
            return
        self.add(where, action="goto", url=relative_to(url, self.origin), **self.on_page(page))

    def add(self, where: str, **fields) -> None:
        if self.start_url is None:
            raise self.error(where, "the recording acts before it opens any page; it must start with a "
                                    "navigation to the app")
        try:
            self.steps.append(Step(**fields))
        except ValidationError as e:
            raise self.error(where, e.errors()[0]["msg"].removeprefix("Value error, ")) from None

    def fill(self, where: str, locators: list[Locator], value: str, page: str = "main") -> None:
        """A typed value; a password (by its locators) or a credential-looking value becomes a secret."""
        target, fallbacks = locators[0], locators[1:]
        looks_password = any("password" in (getattr(loc, loc.kind) or "").lower() for loc in locators)
        kind = "password" if looks_password else secret_kind(value)
        extra = self.on_page(page)
        if kind:
            name = self.secret_names.name_for(value, "password" if looks_password else "token")
            self.note(where, f"the typed {'password' if looks_password else kind} is not kept; "
                             f"it is read from the secret '{name}' when replaying")
            self.add(where, action="fill", target=target, fallbacks=fallbacks, secret=name,
                     sensitive=not looks_password, **extra)
        else:
            self.add(where, action="fill", target=target, fallbacks=fallbacks, value=value, **extra)

    def result(self) -> ImportResult:
        if self.start_url is None:
            raise self.error("top level", "the recording never opens a page (no navigate/open step)")
        if not self.steps:
            raise self.error("top level", "the recording has no steps after opening the page; nothing to import")
        prefix = env_prefix(app_name(self.start_url, ""))
        secrets = self.secret_names.env_vars(prefix)
        steps = with_step_ids(self.steps)
        wf = Workflow(
            title=self.title, start_url=relative_to(self.start_url, self.origin), base_url=self.origin,
            viewport=self.viewport or Viewport(), secrets=secrets, steps=steps,
        )
        env = {var: f"the value of secret '{name}'" for name, var in secrets.items()}
        return ImportResult(wf, self.issues, env)
