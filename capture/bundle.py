"""The capture bundle: what replaying a workflow produced, handed on to the composer.

On disk: `<dir>/capture.json` plus `<dir>/screenshots/<content-hash>.png`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field, model_validator

from guidecast.capture.workflow import Action, Locator, Viewport
from guidecast.kernel.boxes import Box
from guidecast.kernel.model import Strict, read_model, write_model
from guidecast.kernel.paths import SafeName, inside

CAPTURE_SCHEMA_VERSION: Final = 1
CAPTURE_FILE = "capture.json"
SCREENSHOT_DIR = "screenshots"


class ElementContext(Strict):
    """What a person sees around the element (capture/context.js): what to call it when it has no name
    of its own, and what a password field's form is for. Never a value someone typed."""

    placeholder: str | None = None  # a field's placeholder, or a list's empty first option ("- column -")
    column: str | None = None  # the table column header above it
    row: str | None = None  # the first words of its table row ("Some Like It Hot")
    item: str | None = None  # the first words of its list item ("Buy milk")
    header: bool = False  # it sits in a table's column header (a sort link)
    group: str | None = None  # the legend or heading of the group or form it sits in ("Sign in")
    before: str | None = None  # the text just before it ("=")
    ordinal: int | None = None  # its position among like controls without a name in its form (1-based)
    count: int | None = None  # how many such controls there are
    autocomplete: str | None = None  # the field's autocomplete hint ("current-password", "new-password")
    form_passwords: int | None = None  # password fields in its form
    password_index: int | None = None  # which of them it is (1-based)
    submit: str | None = None  # the name of its form's submit button ("Sign in", "Add user")


class ElementInfo(Strict):
    """What the target element is, as a person and assistive technology would name it."""

    role: str | None = None
    name: str | None = None
    label: str | None = None
    tag: str | None = None
    input_type: str | None = None
    text: str | None = None
    test_id: str | None = None
    in_dialog: bool = False
    in_navigation: str | None = None
    context: ElementContext | None = None
    attributes: dict[str, str] = {}  # id, name, for, aria-controls, href path: what survives a relabel
    box: Box | None = None
    box_device: Box | None = None


class Control(Strict):
    """A form field, button or menu item a person could see on the step's page (capture.inventory)."""

    kind: Literal["field", "button", "menu item"]
    name: str
    box: Box | None = None  # CSS px of the screenshot (what a blur drawn over it is tied to)


class DialogInfo(Strict):
    """A JavaScript dialog (alert, confirm, prompt, beforeunload) the step raised, and how it was answered."""

    type: str
    message: str
    answer: Literal["accept", "dismiss"]


class CapturedStep(Strict):
    id: SafeName
    index: int
    action: Action
    value: str | None = None
    value_template: str | None = None  # the workflow's text of the value when it holds per-run values ({{ run.id }})
    value_redacted: bool = False
    key: str | None = None
    url_arg: str | None = None
    note: str | None = None
    locator: Locator | None = None
    locator_rank: int | None = None
    element: ElementInfo | None = None
    url: str
    title: str
    heading: str | None = None
    screenshot: SafeName
    timing_ms: float
    # Added with the recorder / privacy work; all optional so older bundles still load.
    page: str = "main"  # which tab the step ran in: main, popup-1, ...
    opened_page: str | None = None  # the popup this step opened, if any
    viewport: Viewport | None = None
    device_scale_factor: float | None = None
    dialogs: list[DialogInfo] = []
    blurred: list[Box] = []
    # When every locator failed and the element was found by its other recorded traits (capture.rediscover):
    # which traits matched ("test id", "role", "place on the page", ...).
    rediscovered: list[str] = []
    controls: list[Control] | None = None  # what the page (or its open modal dialog) offered at the screenshot
    ignore_boxes: list[Box] = []  # the workflow's dynamic regions on this screenshot (CSS px)  # regions blurred in the screenshot, in device pixels


class WorkflowRef(Strict):
    path: str
    sha256: str
    title: str
    description: str | None = None


class CaptureBundle(Strict):
    schema_version: Literal[1] = CAPTURE_SCHEMA_VERSION
    id: str
    workflow: WorkflowRef
    base_url: str | None = None
    captured_at: str
    browser: str
    viewport: Viewport
    device_scale_factor: float = 1.0
    steps: list[CapturedStep] = Field(default_factory=list)
    final_screenshot: SafeName | None = None
    final_url: str | None = None
    final_title: str | None = None
    final_heading: str | None = None  # the main heading of the last page, as the reader sees it
    final_dialog: str | None = None  # heading of a modal dialog open at the end, if any
    final_controls: list[Control] | None = None
    partial: bool = False  # True for `<out>.partial/`: the steps captured before a failure
    error: str | None = None  # why a partial capture stopped, and where

    @model_validator(mode="after")
    def _ids_unique(self) -> CaptureBundle:
        seen: dict[str, int] = {}
        for i, s in enumerate(self.steps, 1):
            if s.id in seen:
                raise ValueError(f"steps {seen[s.id]} and {i} both have the id '{s.id}'; the bundle is damaged: "
                                 "capture again")
            seen[s.id] = i
        return self

    def screenshot_path(self, bundle_dir: Path, name: str) -> Path:
        """Where screenshot `name` is: inside the bundle's screenshots folder, or the bundle is refused."""
        return inside(Path(bundle_dir) / SCREENSHOT_DIR, name, what="screenshot", source=Path(bundle_dir) / CAPTURE_FILE)


def save_capture(bundle: CaptureBundle, bundle_dir: Path) -> Path:
    return write_model(bundle, bundle_dir, CAPTURE_FILE)


def load_capture(bundle_dir: str | Path) -> CaptureBundle:
    return read_model(CaptureBundle, bundle_dir, CAPTURE_FILE,
                      "no capture bundle here; run `guidecast capture WORKFLOW` first")
