"""`guidecast ...`: parse the command line, call the core or a stage's function, report errors in one line.

User mistakes (`GuidecastError`) become a `UserError`, a click exception: one line on stderr, the error's
exit code, no traceback, in a subprocess and under click's `CliRunner` alike.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import click

from guidecast.cli.guide import compose_options, run_compose
from guidecast.cli.progress import bars, console, stage_progress
from guidecast.cli.sample import sample_app as sample_app_ctx
from guidecast.cli.video import make_voice_engine, narrate_options, run_narrate
from guidecast.kernel.errors import GuidecastError
from guidecast.narration.tts import DEFAULT_ENGINE, ENGINES

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
EXIT_INTERRUPTED = 130


class UserError(click.ClickException):
    """A `GuidecastError` as click shows errors: `error: message` on stderr, exit code of the error."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.code = exit_code

    @property  # click reads `exit_code` when it exits
    def exit_code(self) -> int:  # type: ignore[override]
        return self.code

    def show(self, file: IO[Any] | None = None) -> None:
        if file is None:
            console.print("[red]error:[/red] ", end="", highlight=False)
            console.out(self.message, highlight=False)  # literally: messages hold [brackets] of their own
        else:
            click.echo(f"error: {self.message}", file=file)


class Interrupted(click.ClickException):
    exit_code = EXIT_INTERRUPTED

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True)


class GuidecastGroup(click.Group):
    """Runs a command; a user mistake or Ctrl+C becomes a click exception instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GuidecastError as e:
            raise UserError(str(e), e.exit_code) from None
        except KeyboardInterrupt:
            raise Interrupted("interrupted; outputs already written are unchanged") from None


def main() -> None:
    cli(prog_name="guidecast")


@click.group(cls=GuidecastGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """Record a web-app process once; get a step-by-step guide and a narrated video."""
    ctx.obj = {"quiet": quiet}


def _capture_options(f):
    f = click.option("--base-url", help="Where the app runs; relative URLs in the workflow are resolved against it.")(f)
    f = click.option("--headed", is_flag=True, help="Show the browser window (needs a display or xvfb-run).")(f)
    f = click.option("--device-scale", type=click.FloatRange(0.5, 4), default=1.0, show_default=True, help="Device pixel ratio of screenshots.")(f)
    f = click.option("--browser", "browser_path", help="Chromium executable (default: Debian's chromium, else Playwright's).")(f)
    f = click.option("--find-timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
                     help="Seconds to wait for each step's target to appear.")(f)
    f = click.option("--sample-app", type=click.Choice(["base", "changed"]),
                     help="Start the bundled sample app for this run and use it as --base-url.")(f)
    return f


def _narrate_options(f):
    f = click.option("--engine", type=click.Choice(sorted(ENGINES)), default=DEFAULT_ENGINE, show_default=True,
                     help="Voice engine; auto: the neural voice (piper) when installed, else espeak-ng (pyttsx3).")(f)
    f = click.option("--voice", help="Voice: a Piper voice's name or .onnx file, or an espeak-ng id such as gmw/en-US "
                     "(`guidecast voices`; default: the guide's, else the engine's).")(f)
    f = click.option("--rate", type=click.IntRange(60, 450),
                     help="Speaking rate, words per minute (default: the guide's, else 165).")(f)
    f = click.option("--size", type=click.Choice(sorted(SIZES)), default="720p", show_default=True, help="Video size.")(f)
    f = click.option("--cache-dir", type=click.Path(path_type=Path), help="Speech and segment cache (default: beside the output).")(f)
    return f


@cli.command()
@click.argument("workflow", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Capture bundle folder (default: out/<workflow>/capture).")
@click.option("--settle-timeout", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds to wait for a page to finish loading before giving up.")
@click.option("--strip-query", is_flag=True, help="Store URLs without ?query and #fragment.")
@_capture_options
@click.pass_obj
def capture(obj, workflow: Path, out: Path | None, base_url, headed, device_scale, browser_path, find_timeout,
            sample_app, settle_timeout, strip_query) -> None:
    """Replay WORKFLOW in Chromium and write a capture bundle (screenshots + element semantics)."""
    from guidecast.capture.replay import capture_workflow

    out = out or Path("out") / workflow.stem / "capture"
    with sample_app_ctx(sample_app) as app, stage_progress("capture", obj["quiet"]) as p:
        bundle = capture_workflow(workflow, out, base_url=app.url if app else base_url, headless=not headed,
                                  device_scale_factor=device_scale, browser_path=browser_path, progress=p,
                                  find_timeout=find_timeout, settle_timeout_s=settle_timeout,
                                  strip_query_strings=strip_query or None)
    click.echo(f"capture: {out} ({len(bundle.steps)} steps, {bundle.id})")


@cli.command()
@click.argument("capture_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Guide folder (default: beside the capture, 'guide').")
@compose_options
@click.pass_obj
def compose(obj, capture_dir: Path, out: Path | None, **composer_opts) -> None:
    """Turn a capture bundle into a guide: step text, highlighted screenshots, guide.html and guide.md."""
    out = out or capture_dir.parent / "guide"
    guide = run_compose(obj, capture_dir, out, **composer_opts)
    click.echo(f"guide: {out / 'guide.html'} ({len(guide.steps)} steps)")
    click.echo(f"markdown: {out / 'guide.md'}")


@cli.command()
@click.argument("guide_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Video folder (default: beside the guide, 'video').")
@_narrate_options
@narrate_options
@click.pass_obj
def narrate(obj, guide_dir: Path, out: Path | None, engine, voice, rate, size, cache_dir, **engine_opts) -> None:
    """Voice each step of a guide and render the narrated video with captions and chapters."""
    out = out or guide_dir.parent / "video"
    m = run_narrate(obj, guide_dir, out, engine, voice, rate, SIZES[size], cache_dir, **engine_opts)
    click.echo(f"video: {out / m.files['video']} ({m.duration:.1f} s, captions {out / m.files['captions_vtt']})")


@cli.command()
@click.argument("workflow", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output folder (default: out/<workflow name>).")
@click.option("--owner", help="Who owns this guide (e.g. an email; default: your user name); recorded in the manifest.")
@click.option("--review-by", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date by which the owner reviews the guide.")
@_capture_options
@_narrate_options
@click.pass_obj
def build(obj, workflow: Path, out: Path | None, owner, review_by, base_url, headed, device_scale, browser_path,
          find_timeout, sample_app, engine, voice, rate, size, cache_dir) -> None:
    """Capture, compose and narrate WORKFLOW in one go."""
    out = out or Path("out") / workflow.stem
    paths = run_build(obj, workflow, out, base_url=base_url, headed=headed, device_scale=device_scale,
                      browser_path=browser_path, find_timeout=find_timeout, sample_app=sample_app, engine=engine,
                      voice=voice, rate=rate, size=size, cache_dir=cache_dir, owner=owner,
                      review_by=review_by.date() if review_by else None)
    for k, v in paths.items():
        click.echo(f"{k}: {v}")


def run_build(obj, workflow: Path, out: Path, *, base_url=None, headed=False, device_scale=1.0, browser_path=None,
              find_timeout=10.0, sample_app=None, engine=DEFAULT_ENGINE, voice=None, rate=None, size="720p", cache_dir=None,
              owner=None, review_by=None) -> dict[str, Path]:
    """`guidecast build` (and `demo`): the core's build with this command line's flags."""
    from guidecast.core.build import CaptureOptions, NarrateOptions
    from guidecast.core.build import build as core_build
    from guidecast.narration.manifest import RenderSettings

    width, height = SIZES[size]
    eng = make_voice_engine(engine, voice)
    with sample_app_ctx(sample_app) as app:
        result = core_build(
            workflow, out,
            capture=CaptureOptions(base_url=app.url if app else base_url, headless=not headed,
                                   device_scale=device_scale, browser_path=browser_path, find_timeout=find_timeout),
            narrate=NarrateOptions(engine=eng, voice=voice, rate=rate,
                                   settings=RenderSettings(width=width, height=height), cache_dir=cache_dir),
            owner=owner or os.environ.get("USER") or None, review_by=review_by, stages=bars(obj["quiet"]))
    r = result.render
    click.echo(f"segments: {len(r.rendered)} rendered, {len(r.reused)} reused; {len(r.voiced)} clip(s) voiced")
    return result.outputs(out)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
@click.option("--engine", type=click.Choice(sorted(ENGINES)), default=DEFAULT_ENGINE, show_default=True,
              help="Voice engine; auto: the neural voice (piper) when installed, else espeak-ng.")
@click.pass_obj
def demo(obj, out: Path, engine: str) -> None:
    """Start the sample app, build the sample guide and video, print where they are, stop the app."""

    from guidecast.samples import WORKFLOWS_DIR

    os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")
    paths = run_build(obj, WORKFLOWS_DIR / "submit-expense.yaml", out, sample_app="base", engine=engine)
    click.echo("\nYour guide and video are ready:")
    for k, v in paths.items():
        click.echo(f"  {k:<17} {v.resolve()}")


@cli.command("sample-app")
@click.option("--variant", type=click.Choice(["base", "changed"]), default="base", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def sample_app_cmd(variant: str, port: int) -> None:
    """Run the bundled sample app (Expensely) in the foreground."""
    import uvicorn

    from guidecast.samples.expense_app import create_app

    click.echo(f"Expensely ({variant}) on http://127.0.0.1:{port}  (Ctrl+C to stop)")
    uvicorn.run(create_app(variant), host="127.0.0.1", port=port, log_level="warning")


@cli.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1, or GUIDECAST_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8080, or GUIDECAST_PORT).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Database and assets (default out/server, or GUIDECAST_DATA_DIR).")
@click.option("--web-processes", type=click.IntRange(1, 64),
              help="Web processes behind the one port (default 1, or GUIDECAST_WEB_PROCESSES).")
def serve(host: str | None, port: int | None, data_dir: Path | None, web_processes: int | None) -> None:
    """Run the web app: library, editor, learner view, sharing and jobs (settings: GUIDECAST_* env)."""
    from guidecast.server.app import run
    from guidecast.server.settings import load_settings

    settings = load_settings(host=host, port=port, data_dir=data_dir, web_processes=web_processes)
    n = settings.web_processes
    click.echo(f"guidecast on http://{settings.host}:{settings.port}  data in {settings.data_dir}"
               f"{f'  {n} web processes' if n > 1 else ''}  (Ctrl+C to stop)")
    run(settings)


def _register_area_commands() -> None:
    from guidecast.cli import freshness, guide, record, server, video

    for mod in (record, guide, video, server, freshness):
        mod.register(cli)


_register_area_commands()
