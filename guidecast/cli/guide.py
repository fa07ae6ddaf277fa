"""The compose area's commands: `compose` options (edits, polish), `export` and `edit`."""
from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from guidecast.cli.progress import stage_progress
from guidecast.composer.edits import EDITS_FILE, EditSet, load_edits, read_edits
from guidecast.composer.export import FORMATS
from guidecast.composer.guide import Callout, Guide, capture_path, load_guide
from guidecast.kernel.errors import GuidecastError, describe_validation_error
from guidecast.kernel.files import folder_lock


def compose_options(f):
    """Options of `guidecast compose` that belong to the composer."""
    f = click.option("--edits", "edits_file", type=click.Path(path_type=Path),
                     help=f"Edit layer (YAML/JSON) to apply; kept as OUT/{EDITS_FILE} (default: the one in OUT).")(f)
    f = click.option("--polish", is_flag=True,
                     help="Reword the generated text with a language model (needs OPENAI_API_KEY or --polish-base-url).")(f)
    f = click.option("--polish-model", help="Model for --polish (default: $GUIDECAST_POLISH_MODEL or gpt-4o-mini).")(f)
    f = click.option("--polish-base-url", help="OpenAI-compatible endpoint for --polish (default: $OPENAI_BASE_URL).")(f)
    return f


def run_compose(obj, capture_dir: Path, out: Path, *, edits_file=None, polish=False, polish_model=None,
                polish_base_url=None) -> Guide:
    from guidecast.composer.compose import compose_guide
    from guidecast.composer.polish import PolishSettings

    settings = PolishSettings.from_env(polish_model, polish_base_url) if polish else None
    with stage_progress("compose", obj["quiet"]) as p:
        guide = compose_guide(capture_dir, out, edits=edits_file, polish=settings, progress=p)
    report(guide)
    return guide


def report(guide: Guide) -> None:
    """Conflicts and notices, one line each: never silently dropped."""
    for note in guide.notices:
        click.echo(f"note: {note}")
    for c in guide.conflicts:
        click.echo(f"conflict: {c.edit}: {c.message}")
    for name, say in guide.pronunciations.items():
        click.echo(f"pronounce: {name} -> {say}")
    if guide.voice or guide.rate:
        click.echo(f"voice: {guide.voice or 'default'}, {guide.rate or 'default'} words a minute")
    new = [s.id for s in guide.steps if s.is_new]
    if new:
        click.echo(f"new steps (not in the previous capture): {', '.join(new)}")
    click.echo(f"version {guide.version} ({guide.id}; capture {guide.source.capture_id}"
               f"{'; edits ' + guide.edits_sha256[:12] if guide.edits_sha256 else ''})")


@click.command("export")
@click.argument("guide_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="What to make.")
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
              help="File (html, pdf, scorm .zip) or folder (html-folder, md).")
@click.option("--template-dir", type=click.Path(path_type=Path),
              help="Your templates and brand.json (logo, colours, font), searched before the built-in ones.")
@click.option("--video", type=click.Path(path_type=Path), help="Narrated video to include (html, html-folder, scorm).")
@click.option("--quiz", "quiz_src", metavar="generated|FILE",
              help="scorm: end with a knowledge check that reports the score and passed/failed: `generated` (made "
                   "from the steps) or a quiz JSON file (the web app's Knowledge check page saves one per version).")
@click.pass_obj
def export_cmd(obj, guide_dir: Path, fmt: str, out: Path, template_dir: Path | None, video: Path | None,
               quiz_src: str | None) -> None:
    """Export a composed guide as HTML, an HTML folder, Markdown, PDF or a SCORM 1.2 package."""
    from guidecast.composer.export import export_guide

    quiz: object = None
    if quiz_src == "generated":
        quiz = "generated"
    elif quiz_src:
        from guidecast.composer.quiz import Quiz
        from guidecast.kernel.model import read_model

        quiz = read_model(Quiz, Path(quiz_src), Path(quiz_src).name, "no such quiz file (or give `generated`)")
    with stage_progress("export", obj["quiet"]) as p:
        path = export_guide(guide_dir, fmt, out, template_dir=template_dir, video=video, progress=p, quiz=quiz)
    if fmt == "scorm":
        from guidecast.composer.scorm import validate_package

        info = validate_package(path)
        click.echo(f"scorm: {path} (SCORM 1.2, launches {info.launch}, {info.files} files)")
    else:
        click.echo(f"{fmt}: {path}")


@click.command("edit")
@click.argument("guide_dir", type=click.Path(path_type=Path))
@click.option("--list", "list_", is_flag=True, help="Show the steps with their ids, edits and conflicts.")
@click.option("--apply", "apply_file", type=click.Path(path_type=Path), help="Replace the edit layer with this file.")
@click.option("--set-text", nargs=2, multiple=True, metavar="STEP_ID TEXT", help="New text for a step.")
@click.option("--set-title", metavar="TEXT", help="New guide title.")
@click.option("--narration", nargs=2, multiple=True, metavar="STEP_ID TEXT", help="What the voice says for a step.")
@click.option("--callout", nargs=3, multiple=True, metavar="STEP_ID KIND TEXT", help="Add a tip, note or warning.")
@click.option("--hide", multiple=True, metavar="STEP_ID", help="Leave a step out of the guide.")
@click.option("--unhide", multiple=True, metavar="STEP_ID", help="Bring a hidden step back.")
@click.option("--pronounce", nargs=2, multiple=True, metavar="NAME SAY_AS",
              help="How the voice says a name, e.g. --pronounce Expensely Expense-lee (whole words, any case).")
@click.option("--drop-pronunciation", multiple=True, metavar="NAME", help="Let the voice say NAME its own way again.")
@click.option("--set-voice", metavar="VOICE", help="The guide's narration voice (`guidecast voices`; 'default': the engine's).")
@click.option("--set-rate", metavar="WPM", help="The guide's speaking rate, 60 to 450 words a minute ('default': 165).")
@click.pass_obj
def edit_cmd(obj, guide_dir: Path, list_: bool, apply_file, set_text, set_title, narration, callout, hide,
             unhide, pronounce, drop_pronunciation, set_voice, set_rate) -> None:
    """Change a guide's edit layer (GUIDE_DIR/edits.yaml) and compose the guide again from its capture."""
    guide = load_guide(guide_dir)
    changes = dict(set_text=set_text, set_title=set_title, narration=narration, callout=callout, hide=hide,
                   unhide=unhide, pronounce=pronounce, drop_pronunciation=drop_pronunciation, set_voice=set_voice,
                   set_rate=set_rate)
    if not (apply_file or any(v for v in changes.values())):
        list_steps(guide, guide_dir)
        return
    with folder_lock(guide_dir, "guide"):  # two edits at once: the second waits its turn by being refused
        _edit(obj, guide, guide_dir, list_, apply_file, **changes)


def _edit(obj, guide: Guide, guide_dir: Path, list_: bool, apply_file, set_text, set_title, narration, callout,
          hide, unhide, pronounce=(), drop_pronunciation=(), set_voice=None, set_rate=None) -> None:
    guide = load_guide(guide_dir)  # again, under the lock: what another edit made meanwhile counts
    kept = guide_dir / EDITS_FILE
    edits = load_edits(apply_file) if apply_file else (read_edits(kept)[0] if kept.is_file() else EditSet())
    only_file = apply_file and not (set_text or set_title or narration or callout or hide or unhide or pronounce
                                    or drop_pronunciation or set_voice or set_rate)
    known = set(guide.capture_step_ids) | {s.id for s in guide.steps} | {f.id for f in edits.insert}

    def step(sid: str, option: str):
        if sid not in known:
            raise GuidecastError(f"{guide_dir}: {option}: unknown step id '{sid}'; `guidecast edit {guide_dir} "
                                 "--list` shows the step ids")
        return edits.step(sid)

    if set_title is not None:
        edits.title = _text(set_title, "--set-title")
    for sid, text in set_text:
        step(sid, "--set-text").text = _text(text, "--set-text")
    for sid, text in narration:
        step(sid, "--narration").narration = _text(text, "--narration")
    for sid, kind, text in callout:
        if kind not in ("tip", "note", "warning"):
            raise GuidecastError(f"--callout {sid} {kind}: the kind is one of tip, note, warning")
        step(sid, "--callout").callouts.append(Callout(kind=kind, text=_text(text, "--callout")))
    for sid in hide:
        step(sid, "--hide").hidden = True
    for sid in unhide:
        step(sid, "--unhide").hidden = False
    for name, say in pronounce:
        edits.pronunciations[_text(name, "--pronounce").strip()] = _text(say, "--pronounce").strip()
    for name in drop_pronunciation:
        match = next((k for k in edits.pronunciations if k.lower() == name.strip().lower()), None)
        if match is None:
            raise GuidecastError(f"{guide_dir}: --drop-pronunciation: no pronunciation for '{name}'; `guidecast "
                                 f"edit {guide_dir} --list` shows them")
        del edits.pronunciations[match]
    if set_voice is not None:
        edits.voice = None if set_voice.strip() == "default" else _text(set_voice, "--set-voice").strip()
    if set_rate is not None:
        if set_rate.strip() == "default":
            edits.rate = None
        elif not set_rate.strip().isdigit() or not 60 <= int(set_rate) <= 450:
            raise GuidecastError(f"--set-rate {set_rate}: give words a minute, 60 to 450, or 'default'")
        else:
            edits.rate = int(set_rate)
    try:
        edits = EditSet.model_validate(edits.model_dump())
    except ValidationError as e:
        raise GuidecastError(describe_validation_error(f"{guide_dir}: edits", e, steps_key="-")) from None
    capture_dir = capture_path(guide, guide_dir)
    if not (capture_dir / "capture.json").is_file():
        raise GuidecastError(f"{guide_dir}: the capture it was made from ({capture_dir}) is gone; capture the "
                             f"workflow again and run `guidecast compose CAPTURE_DIR -o {guide_dir}`")
    obj = obj or {"quiet": True}
    from guidecast.composer.compose import compose_guide

    with stage_progress("compose", obj.get("quiet", True)) as p:
        # with --apply alone, the file itself: a mistake in it is reported with its name
        new = compose_guide(capture_dir, guide_dir, edits=apply_file if only_file else edits, progress=p)
    report(new)
    if list_:
        list_steps(new, guide_dir)


def _text(value: str, option: str) -> str:
    if not value.strip():
        raise GuidecastError(f"{option}: the text is empty")
    return value


def list_steps(guide: Guide, guide_dir: Path) -> None:
    click.echo(f"{guide.title} — version {guide.version}, {len(guide.steps)} steps ({guide_dir})")
    for s in guide.steps:
        flags = [f for f, on in (("new", s.is_new), ("free", s.free)) if on]
        if s.edited:
            flags.append("edited: " + ", ".join(s.edited))
        merged = f" (= {' + '.join(s.source_ids)})" if len(s.source_ids) > 1 else ""
        click.echo(f"{s.number:>3}  {s.id}{merged}  {s.text}" + (f"  [{'; '.join(flags)}]" if flags else ""))
    shown = {i for s in guide.steps for i in s.source_ids}
    hidden = [i for i in guide.capture_step_ids if i not in shown]
    if hidden:
        click.echo(f"hidden: {', '.join(hidden)}")
    for c in guide.conflicts:
        click.echo(f"conflict: {c.edit}: {c.message}")
    for name, say in guide.pronunciations.items():
        click.echo(f"pronounce: {name} -> {say}")
    if guide.voice or guide.rate:
        click.echo(f"voice: {guide.voice or 'default'}, {guide.rate or 'default'} words a minute")


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`."""
    cli.add_command(export_cmd)
    cli.add_command(edit_cmd)
