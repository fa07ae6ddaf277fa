"""Guide exports: single-file HTML, an HTML folder, Markdown for docs sites, PDF and SCORM 1.2.

Every export renders the same Jinja2 templates (`templates/`, overridable with a template folder) and
is written whole or not at all.
"""
from __future__ import annotations

import base64
import mimetypes
import shutil
from dataclasses import dataclass
from pathlib import Path

from guidecast.composer.brand import load_brand
from guidecast.composer.guide import GUIDE_FILE, Guide, GuideStep, load_guide
from guidecast.composer.render import render
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_text, staged_dir
from guidecast.kernel.inputs import check_image
from guidecast.kernel.paths import check_output, inside
from guidecast.kernel.progress import Progress

HTML_FILE = "guide.html"
MD_FILE = "guide.md"
FORMATS = ("html", "html-folder", "md", "pdf", "scorm")
EXPORT_MARK = ".guidecast-export"  # a folder export carries it, so that only our own folders are replaced
MEDIA_DIR = "media"


@dataclass(frozen=True)
class Section:
    title: str | None  # inline markup, e.g. "On the **New expense** page"
    steps: list[GuideStep]


def sections(guide: Guide) -> list[Section]:
    """The steps grouped under their section headings (steps before the first heading: no title)."""
    out: list[Section] = []
    for step in guide.steps:
        if step.section or not out:
            out.append(Section(step.section, []))
        out[-1].steps.append(step)
    return out


def picture(guide_dir: Path, rel: str) -> Path:
    """A picture of the guide, checked: inside the guide folder (links too), there, and a readable image."""
    path = inside(guide_dir, rel, what="image", source=Path(guide_dir) / GUIDE_FILE)
    if not path.is_file():
        raise GuidecastError(f"{path}: picture of the guide is missing; compose the guide again")
    check_image(path, "picture of the guide")
    return path


def data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")



def page_html(guide: Guide, guide_dir: Path, *, mode: str = "web", inline_images: bool = True,
              template_dir: Path | None = None, video: str | None = None, quiz=None) -> str:
    """The guide page. mode: web | print | scorm. `video` is a src (a data URI or a relative path); `quiz` (a
    composer.quiz.Quiz) adds the knowledge check after the guide (the SCORM package grades it)."""
    guide_dir = Path(guide_dir)

    def src(rel: str) -> str:
        return data_uri(picture(guide_dir, rel)) if inline_images else rel

    extra = {}
    if quiz is not None:
        from guidecast.composer.practice import TOLERANCE_PX

        extra = {"quiz": quiz, "tolerance": TOLERANCE_PX}
    return render("guide.html.j2", template_dir, guide=guide, sections=sections(guide), src=src, mode=mode,
                  brand=load_brand(template_dir), video=video, **extra)


def markdown(guide: Guide, template_dir: Path | None = None) -> str:
    return render("guide.md.j2", template_dir, guide=guide, sections=sections(guide),
                  brand=load_brand(template_dir))


def export_html(guide: Guide, guide_dir: Path, out: Path, *, inline_images: bool = True,
                template_dir: Path | None = None, video: Path | None = None) -> Path:
    video_src = data_uri(_video(video)) if video else None
    atomic_write_text(out, page_html(guide, guide_dir, inline_images=inline_images, template_dir=template_dir,
                                     video=video_src))
    return out


def export_markdown(guide: Guide, out: Path, template_dir: Path | None = None) -> Path:
    atomic_write_text(out, markdown(guide, template_dir))
    return out


def write_exports(guide: Guide, guide_dir: Path) -> dict[str, Path]:
    """The exports kept inside a guide folder: guide.html (self-contained) and guide.md."""
    guide_dir = Path(guide_dir)
    return {
        "html": export_html(guide, guide_dir, guide_dir / HTML_FILE),
        "md": export_markdown(guide, guide_dir / MD_FILE),
    }


def image_files(guide: Guide) -> list[str]:
    """Every picture the exports show, relative to the guide folder."""
    names = [s.image for s in guide.steps if s.image] + ([guide.final_image] if guide.final_image else [])
    return list(dict.fromkeys(names))


def copy_images(guide: Guide, guide_dir: Path, dest: Path) -> None:
    for rel in image_files(guide):
        src = picture(guide_dir, rel)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / rel)


def _video(video: Path) -> Path:
    p = Path(video)
    if not p.is_file():
        raise GuidecastError(f"{p}: --video is not a file (give the narrated guide.mp4)")
    return p


def export_folder(guide: Guide, guide_dir: Path, out: Path, fmt: str, *, template_dir: Path | None = None,
                  video: Path | None = None) -> Path:
    """`html-folder` (index.html + images/) or `md` (index.md + images/), replacing only our own folder."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / EXPORT_MARK).exists())):
        raise GuidecastError(f"{out}: exists and is not a guidecast export; choose a new or empty folder")
    with staged_dir(out) as stage:
        (stage / EXPORT_MARK).write_text(f"{fmt} export of {guide.id}\n")
        copy_images(guide, guide_dir, stage)
        if fmt == "md":
            atomic_write_text(stage / "index.md", markdown(guide, template_dir))
        else:
            video_src = None
            if video:
                (stage / MEDIA_DIR).mkdir()
                shutil.copyfile(_video(video), stage / MEDIA_DIR / _video(video).name)
                video_src = f"{MEDIA_DIR}/{_video(video).name}"
            atomic_write_text(stage / "index.html", page_html(guide, guide_dir, inline_images=False,
                                                              template_dir=template_dir, video=video_src))
    return out


def export_guide(guide_dir: str | Path, fmt: str, out: str | Path, *, template_dir: str | Path | None = None,
                 video: str | Path | None = None, browser=None, progress: Progress | None = None,
                 quiz=None) -> Path:
    """Export the guide in `guide_dir` as `fmt` (one of FORMATS) to `out` (`browser`: a launched
    Playwright browser to print the PDF with, else one is started; `progress`: the PDF's and the SCORM
    package's steps, as `progress(done, total, what)`). `quiz`: a composer.quiz.Quiz, "generated"
    (made from the steps) or None; the SCORM package grades it and reports the score."""
    guide_dir, out = Path(guide_dir), Path(out)
    template_dir = Path(template_dir) if template_dir else None
    video = Path(video) if video else None
    guide = load_guide(guide_dir)
    # (a folder export checks its own mark: it says which folders are its exports)
    check_output(out, [guide_dir, video, template_dir], folder=fmt in ("html-folder", "md"), ours=None)
    if fmt == "html":
        return export_html(guide, guide_dir, out, template_dir=template_dir, video=video)
    if fmt in ("html-folder", "md"):
        return export_folder(guide, guide_dir, out, fmt, template_dir=template_dir, video=video)
    if fmt == "pdf":
        from guidecast.composer.pdf import export_pdf

        return export_pdf(guide, guide_dir, out, template_dir=template_dir, browser=browser, progress=progress)
    if fmt == "scorm":
        from guidecast.composer.scorm import export_scorm

        if quiz == "generated":
            from guidecast.composer.quiz import generate_quiz

            quiz = generate_quiz(guide)
        return export_scorm(guide, guide_dir, out, template_dir=template_dir, video=video, progress=progress,
                            quiz=quiz)
    if quiz is not None:
        raise GuidecastError("--quiz: only the SCORM package carries a knowledge check (use --format scorm)")
    raise GuidecastError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
