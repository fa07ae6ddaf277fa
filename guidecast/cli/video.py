"""The narrate area's commands: `narrate` options (voice engine setup, jobs), `voices` and `status`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from guidecast.cli.progress import stage_progress


def narrate_options(f):
    """Options of `guidecast narrate` that configure the voice engine and the renderer."""
    f = click.option("--language", help="Language of the offline voice when --voice is not given (e.g. de, fr, es).")(f)
    f = click.option("--tts-base-url", help="OpenAI-compatible endpoint for --engine openai (default: $OPENAI_BASE_URL).")(f)
    f = click.option("--tts-model", help="Model for --engine openai (default: tts-1).")(f)
    f = click.option("--tts-timeout", type=click.FloatRange(0, 3600, min_open=True), default=60.0, show_default=True,
                     help="Seconds to wait for the voice engine to answer one request.")(f)
    f = click.option("--jobs", type=click.IntRange(1, 16), help="Segments rendered at once (default: the CPU count, at most 4).")(f)
    return f


def run_narrate(obj, guide_dir: Path, out: Path, engine: str, voice, rate, size: tuple[int, int], cache_dir,
                language=None, tts_base_url=None, tts_model=None, tts_timeout=60.0, jobs=None):
    from guidecast.narration.manifest import RenderSettings
    from guidecast.narration.narrate import RenderReport, narrate_guide
    if not voice and (guide_dir / "guide.json").is_file():
        from guidecast.composer.guide import load_guide

        voice = load_guide(guide_dir).voice  # the guide's own voice decides the engine "auto" picks
    eng = make_voice_engine(engine, voice, language=language, base_url=tts_base_url, model=tts_model,
                            timeout=tts_timeout)
    report = RenderReport()
    with stage_progress("narrate", obj["quiet"]) as p:
        m = narrate_guide(guide_dir, out, engine=eng, voice=voice, rate=rate,
                          settings=RenderSettings(width=size[0], height=size[1]), cache_dir=cache_dir,
                          progress=p, jobs=jobs, report=report)
    click.echo(f"segments: {len(report.rendered)} rendered, {len(report.reused)} reused; "
               f"{len(report.voiced)} clip(s) voiced")
    return m


def make_voice_engine(engine: str, voice: str | None = None, **options):
    """The voice engine the flags ask for; when "auto" had to fall back to espeak-ng, one line on stderr says so."""
    from guidecast.narration.tts import make_engine

    eng = make_engine(engine, voice=voice, **options)
    notice = getattr(eng, "notice", None)
    if notice:
        click.echo(notice, err=True)
    return eng


def register(cli: click.Group) -> None:
    """Add this area's commands to `cli`."""

    @cli.command()
    @click.option("--engine", help="Only this voice engine's voices (piper, pyttsx3, openai, silent; default: the "
                  "neural voices, when installed, and espeak-ng's).")
    @click.option("--language", help="Only voices for this language (e.g. en, de, en-US).")
    def voices(engine: str | None, language: str | None) -> None:
        """List voices: id (for --voice), name, language, quality, engine, and the file of a neural voice."""
        from guidecast.narration import voice_piper
        from guidecast.narration.tts import NEURAL_MISSING, make_engine

        if engine:
            engines = [engine]
        elif voice_piper.installed():
            engines = ["piper", "pyttsx3"]
        else:
            click.echo(NEURAL_MISSING.replace("narrating with", "listing"), err=True)
            engines = ["pyttsx3"]
        lang = (language or "").lower().replace("_", "-")
        for name in engines:
            for v in make_engine(name).voices():
                tags = [x.lower().replace("_", "-") for x in v.languages]
                if lang and not any(x == lang or x.split("-")[0] == lang for x in tags):
                    continue
                click.echo(f"{v.id:<28} {v.name:<34} {', '.join(v.languages):<12} {v.quality or '-':<7} {name}"
                           + (f"  {v.source}" if v.source else ""))

    @cli.command()
    @click.argument("video_dir", type=click.Path(path_type=Path))
    @click.option("--guide", "guide_dir", type=click.Path(path_type=Path),
                  help="Guide folder to compare with (default: the one the video was rendered from).")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    def status(video_dir: Path, guide_dir: Path | None, as_json: bool) -> None:
        """Is the video in VIDEO_DIR current or stale relative to its guide, and why (exit 1 when stale)."""
        from guidecast.narration.video_status import video_status

        st = video_status(video_dir, guide_dir)
        if as_json:
            click.echo(json.dumps(st.as_dict(), indent=2))
        else:
            for line in st.lines():
                click.echo(line)
        if not st.current:
            click.get_current_context().exit(1)
