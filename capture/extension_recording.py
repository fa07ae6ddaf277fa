"""A recording made by the browser extension (capture/extension/), and the workflow + capture bundle it
makes: through the same step logic as `guidecast record` (capture/steplog.py).

The bundle file the extension uploads or saves is a zip: `recording.json` (`BrowserRecording`: the
events capture/recorder.js reported, in order, each with its tab, its screenshot and the boxes masked
in it) and `screenshots/<hash>.png`. Typed passwords and values that look like credentials are in it
as `secret:` references (a salted hash made in the browser), never as values.

    wf, bundle_dir = convert_recording(folder, out_yaml)   # flow.yaml + flow.capture/
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from guidecast.capture.bundle import SCREENSHOT_DIR, ElementContext
from guidecast.capture.privacy import blur_regions
from guidecast.capture.steplog import Final, Recorded, StepLog
from guidecast.capture.workflow import LoadedWorkflow, Locator, Step, Viewport, Workflow, dump_workflow
from guidecast.kernel.boxes import Box
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_text, sha256_bytes, store_content_addressed
from guidecast.kernel.model import Strict
from guidecast.kernel.paths import SafeName

FORMAT = "guidecast-recording"
RECORDING_FILE = "recording.json"
MAX_EVENTS = 5000
MAX_RECORDING_BYTES = 20 * 1024 * 1024  # recording.json alone

Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=300)]
Url = Annotated[str, Field(max_length=4000)]


class Candidate(Strict):
    loc: dict[str, Annotated[str, Field(max_length=2000)]]
    count: int = Field(ge=0)


class EventElement(Strict):
    """The element as recorder.js describes it (`describe()`)."""

    role: Short | None = None
    name: Text | None = None
    label: Text | None = None
    tag: Short
    test_id: Short | None = None
    input_type: Short | None = None
    text: Text | None = None
    in_dialog: bool = False
    in_navigation: Short | None = None
    context: ElementContext | None = None
    candidates: list[Candidate] = Field(default_factory=list, max_length=20)
    what: Text = ""
    box: Box


class Event(Strict):
    """One event of the recording: what recorder.js sent, plus what the extension knew (its tab, the
    frame path, the screenshot taken for it, the boxes masked in that screenshot, CSS px)."""

    kind: Literal["load", "focus", "typed", "fill", "click", "dblclick", "select", "check", "uncheck", "press", "upload",
                  "pause", "note", "tab", "close"]
    page: Annotated[str, Field(pattern=r"^(main|popup-\d{1,4})$")] = "main"
    t: float = 0
    url: Url | None = None
    title: Text | None = None
    heading: Text | None = None
    dpr: float = Field(1.0, gt=0, le=8)
    doc: Short | None = None
    element: EventElement | None = None
    value: Annotated[str, Field(max_length=100_000)] | None = None
    secret_kind: Short | None = None
    key: Short | None = None
    field: Short | None = None
    nav_type: Short | None = None
    asked: bool | None = None
    files: list[Short] = Field(default_factory=list, max_length=50)
    text: Text | None = None
    opener: Annotated[str, Field(pattern=r"^(main|popup-\d{1,4})$")] | None = None
    frame: list[Text] = Field(default_factory=list, max_length=10)
    offset: tuple[float, float] = (0.0, 0.0)
    top: bool = True
    viewport: Viewport | None = None
    screenshot: SafeName | None = None
    blurred: list[Box] = Field(default_factory=list, max_length=100)


class FinalShot(Strict):
    screenshot: SafeName
    url: Url
    title: Text


class BrowserRecording(Strict):
    """recording.json: what the extension recorded."""

    format: Literal["guidecast-recording"]
    schema_version: Literal[1]
    title: Short | None = None
    started_at: Short | None = None
    browser: Short = "chromium"
    viewport: Viewport | None = None
    events: list[Event] = Field(max_length=MAX_EVENTS)
    final: FinalShot | None = None

    def screenshots(self) -> list[str]:
        names = [e.screenshot for e in self.events if e.screenshot]
        return list(dict.fromkeys(names + ([self.final.screenshot] if self.final else [])))


def load_recording(folder: Path) -> BrowserRecording:
    """recording.json of a bundle folder, validated; every screenshot it names must be in the folder."""
    path = folder / RECORDING_FILE
    try:
        if path.stat().st_size > MAX_RECORDING_BYTES:
            raise GuidecastError(f"{RECORDING_FILE}: larger than {MAX_RECORDING_BYTES >> 20} MB; record a shorter task")
        rec = BrowserRecording.model_validate(json.loads(path.read_bytes()))
    except OSError:
        raise GuidecastError(f"{folder}: no {RECORDING_FILE}; is this a guidecast recording bundle?") from None
    except (ValueError, ValidationError) as e:
        first = e.errors()[0] if isinstance(e, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        why = first["msg"] if first else str(e)
        raise GuidecastError(f"{RECORDING_FILE}: {where + ': ' if where else ''}{why}; the file is not a recording "
                             "the guidecast extension made (record it again)") from None
    for name in rec.screenshots():
        if not (folder / SCREENSHOT_DIR / name).is_file():
            raise GuidecastError(f"{RECORDING_FILE} names the screenshot {SCREENSHOT_DIR}/{name}, which the bundle "
                                 "does not hold")
    return rec


class ExtensionRecording(StepLog):
    """The steps of a BrowserRecording, made by the recorder's own step logic. Locator counts are the
    page's own (recorder.js counts in the document at the moment of the action)."""

    def __init__(self, rec: BrowserRecording, *, title: str | None = None, secret_prefix: str | None = None):
        super().__init__(title=title or rec.title, secret_prefix=secret_prefix)
        self.rec = rec
        self._field_shots: dict[str, tuple[str | None, list[Box]]] = {}  # at the press or focus, before typing
        self._typed_shots: dict[str, tuple[str | None, list[Box]]] = {}  # when the typing paused
        for ev in rec.events:
            self.feed(ev)
        self.stopped = True

    def clock(self, ev: dict) -> float:
        return float(ev.get("t") or 0) / 1000

    def feed(self, event: Event) -> None:
        ev: dict[str, Any] = event.model_dump()
        kind, name = event.kind, event.page
        blurred = [b.scaled(event.dpr) for b in event.blurred]
        if kind == "pause":
            self.paused = not self.paused
        elif kind == "note":
            self.add_note(event.text or "")
        elif kind == "tab":
            self.opener[name] = event.opener or "main"
            self._popups.append((name, self.opener[name], event.t / 1000))
        elif kind == "close":
            if name != "main" and not self.paused:
                self.items.append(Recorded(step=Step(action="close_page"), page=name))
        elif kind == "focus":
            if event.field and event.screenshot and not self.paused:  # the first picture of the field counts
                self._field_shots[event.field] = (event.screenshot, blurred)
        elif kind == "typed":
            if event.field and event.screenshot and not self.paused:
                self._typed_shots[event.field] = (event.screenshot, blurred)
        else:
            self._action(event, ev, blurred)

    def _action(self, event: Event, ev: dict, blurred: list[Box]) -> None:
        slot = Recorded(step=None, page=event.page, url=event.url or "", title=event.title or "",
                        heading=event.heading, t_page=event.t / 1000)
        self.items.append(slot)
        step: Step | None = None
        try:
            if event.kind == "load":
                step = self.on_load(event.page, ev) if event.top else None
            elif not self.paused:
                self._last_action[event.page] = self.clock(ev)
                el = ev.get("element")
                target: Locator | None = None
                fallbacks: list[Locator] = []
                if el:
                    found = [(Locator(**c["loc"], frame=event.frame), c["count"]) for c in el.get("candidates", [])]
                    target, fallbacks = self.rank(el, found)
                step = self.step_for(slot, event.kind, ev, target, fallbacks, event.offset)
        except (GuidecastError, ValueError) as e:
            self.warnings.append(f"a '{event.kind}' on {event.url} was not recorded ({type(e).__name__}: {e})")
            step = None
        if step is None:
            if slot in self.items:
                self.items.remove(slot)
            return
        slot.step = step
        shots = self._typed_shots if step.action == "press" else self._field_shots
        early = shots.pop(event.field, None) if event.field else None
        if step.action in ("fill", "check", "uncheck", "press") and early is not None and early[0]:
            # the field before the typing (a secret too: masked, and not typed yet), the click, or the key
            slot.screenshot, slot.blurred = early
        else:
            slot.screenshot, slot.blurred = event.screenshot, blurred

    def viewport(self) -> Viewport | None:
        return next((e.viewport for e in self.rec.events if e.viewport and e.page == "main"), None) or self.rec.viewport


MAX_BUNDLE_FILES = 5000
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
_ENTRY = re.compile(r"^(recording\.json|screenshots/[0-9a-f]{32}\.png)$")


def is_bundle(path: Path) -> bool:
    """A recording bundle: a zip holding recording.json, or a folder holding it."""
    if path.is_dir():
        return (path / RECORDING_FILE).is_file()
    try:
        with zipfile.ZipFile(path) as zf:
            return RECORDING_FILE in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


@contextmanager
def opened_bundle(path: Path) -> Iterator[Path]:
    """The bundle's folder: `path` itself, or the zip unpacked into a temporary folder (only
    recording.json and screenshots/<hash>.png, within `MAX_BUNDLE_BYTES`; anything else is refused)."""
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="guidecast-bundle-") as tmp, zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_BUNDLE_FILES or sum(i.file_size for i in infos) > MAX_BUNDLE_BYTES:
            raise GuidecastError(f"{path}: the bundle is larger than a recording can be; is it the file the "
                                 "guidecast extension saved?")
        for info in infos:
            if not _ENTRY.match(info.filename):
                raise GuidecastError(f"{path}: {info.filename!r} is not part of a recording bundle (it holds "
                                     "recording.json and screenshots/*.png); remove it or save the recording again")
            target = Path(tmp) / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        yield Path(tmp)


def convert_recording(folder: str | Path, out: str | Path, *, title: str | None = None,
                      secret_prefix: str | None = None) -> tuple[Workflow, Path | None, list[str]]:
    """Write the workflow (`out`, atomically) and its capture bundle beside it (`flow.yaml` ->
    `flow.capture/`) from an extracted recording bundle folder. Returns the workflow, the bundle folder
    (None without screenshots) and the warnings."""
    folder, out = Path(folder), Path(out)
    rec = load_recording(folder)
    log = ExtensionRecording(rec, title=title, secret_prefix=secret_prefix)
    wf = log.workflow(log.viewport())
    text = dump_workflow(wf, "Recorded with the guidecast browser extension. Replay: guidecast capture " + out.name)
    atomic_write_text(out, text)
    lw = LoadedWorkflow(path=out, sha256=sha256_bytes(text.encode()), workflow=wf)
    bundle = out.with_suffix(".capture")
    final = Final(rec.final.screenshot, rec.final.url, rec.final.title) if rec.final else None
    with tempfile.TemporaryDirectory(prefix="guidecast-ext-") as tmp:
        shots = _blurred_shots(log, folder / SCREENSHOT_DIR, Path(tmp), final)
        written = log.write_bundle(lw, bundle, shots, final, rec.browser[:120])
    return wf, bundle if written else None, list(log.warnings)


def _blurred_shots(log: StepLog, source: Path, dest: Path, final: Final | None) -> Path:
    """The screenshots the steps use, with the boxes masked in the page also blurred into the pixels
    (privacy.blur_regions, as `guidecast record` does): a step's picture is renamed after its new content."""
    for it in log.items:
        if it.step is None or not it.screenshot:
            continue
        png = (source / it.screenshot).read_bytes()
        if it.blurred:
            png = blur_regions(png, [(b.x, b.y, b.width, b.height) for b in it.blurred])
        it.screenshot = store_content_addressed(dest, png, ".png")
    if final is not None:
        shutil.copyfile(source / final.screenshot, dest / final.screenshot)
    return dest
