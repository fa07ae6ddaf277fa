"""SCORM 1.2 packages: build one from a guide, and check one (ours or anyone's) before an LMS sees it.

A package is a zip with `imsmanifest.xml` at its root, the guide page `index.html` (which finds the
LMS's API, reports "completed" when the learner reaches the end, commits and finishes) and its images
and, when given, the narrated video under `media/`. With a knowledge check (`composer.quiz.Quiz`), the page
ends with it and reports `cmi.core.score.raw` and `passed`/`failed` instead of "completed".
"""
from __future__ import annotations

import os
import posixpath
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from guidecast.composer.export import MEDIA_DIR, image_files, page_html, picture
from guidecast.composer.guide import Guide
from guidecast.composer.quiz import HotspotQuestion, Quiz
from guidecast.composer.render import render
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import FILE_MODE
from guidecast.kernel.progress import Progress, no_progress

MANIFEST = "imsmanifest.xml"
LAUNCH = "index.html"
NS = {"cp": "http://www.imsproject.org/xsd/imscp_rootv1p1p2", "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2"}
SCORMTYPE = f"{{{NS['adlcp']}}}scormtype"


class ScormError(GuidecastError):
    """A SCORM package is malformed."""


@dataclass(frozen=True)
class PackageInfo:
    title: str
    launch: str
    files: int


def export_scorm(guide: Guide, guide_dir: Path, out: Path, *, template_dir: Path | None = None,
                 video: Path | None = None, progress: Progress | None = None, quiz: Quiz | None = None) -> Path:
    """Write the SCORM 1.2 zip to `out` (checked with validate_package before it replaces anything);
    `progress` counts the files packed. With a `quiz`, the page ends with the knowledge check and reports its
    score and passed/failed."""
    progress = progress or no_progress
    guide_dir, out = Path(guide_dir), Path(out)
    files: dict[str, Path | bytes] = {rel: picture(guide_dir, rel) for rel in image_files(guide)}
    for q in quiz.questions if quiz else []:
        if isinstance(q, HotspotQuestion):
            files[q.image] = picture(guide_dir, q.image)
    video_src = None
    if video is not None:
        if not Path(video).is_file():
            raise GuidecastError(f"{video}: --video is not a file (give the narrated guide.mp4)")
        video_src = f"{MEDIA_DIR}/{Path(video).name}"
        files[video_src] = Path(video)
    files[LAUNCH] = page_html(guide, guide_dir, mode="scorm", inline_images=False, template_dir=template_dir,
                              video=video_src, quiz=quiz).encode("utf-8")
    manifest = render("imsmanifest.xml.j2", template_dir, guide=guide, identifier=f"guidecast-{guide.id}",
                      launch=LAUNCH, files=[LAUNCH] + sorted(k for k in files if k != LAUNCH))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.chmod(tmp, FILE_MODE)  # published with the usual mode, not mkstemp's private one
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, manifest)
            total = len(files) + 1
            for done, (name, content) in enumerate(files.items()):
                progress(done, total, f"packing {name}")
                if isinstance(content, bytes):
                    z.writestr(name, content)
                else:
                    if not content.is_file():
                        raise GuidecastError(f"{content}: file of the guide is missing; compose the guide again")
                    z.write(content, name)
        progress(total - 1, total, "checking the package")
        validate_package(tmp)
        os.replace(tmp, out)
        progress(total, total, "SCORM package ready")
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def validate_package(path: str | Path) -> PackageInfo:
    """Check a SCORM 1.2 package; raises ScormError with one line naming the problem."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScormError(f"{where}: no such file")
    if not zipfile.is_zipfile(path):
        raise ScormError(f"{where}: not a zip archive; a SCORM package is a .zip with {MANIFEST} at its root")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for n in names:
            norm = posixpath.normpath(n)
            if n.startswith("/") or norm.startswith("..") or "\\" in n:
                raise ScormError(f"{where}: unsafe path '{n}' in the archive")
        if MANIFEST not in names:
            nested = sorted(n for n in names if n.endswith("/" + MANIFEST))
            hint = f" (found {nested[0]}: zip the folder's contents, not the folder)" if nested else ""
            raise ScormError(f"{where}: {MANIFEST} is missing at the root of the package{hint}")
        try:
            root = ET.fromstring(z.read(MANIFEST))
        except ET.ParseError as e:
            line, col = e.position
            raise ScormError(f"{where}: {MANIFEST} line {line}, column {col}: not well-formed XML") from None
        info = _check_manifest(root, names, f"{where}: {MANIFEST}")
        launch = z.read(info.launch).decode("utf-8", "replace") if info.launch.endswith((".html", ".htm")) else ""
    if launch and "LMSInitialize" not in launch:
        raise ScormError(f"{where}: launch page {info.launch} never calls LMSInitialize, so the LMS cannot track it")
    return info


def _check_manifest(root: ET.Element, names: set[str], where: str) -> PackageInfo:
    if root.tag != f"{{{NS['cp']}}}manifest":
        raise ScormError(f"{where}: the root element is <{root.tag}>, not an IMS content package <manifest>")
    version = root.findtext("cp:metadata/cp:schemaversion", namespaces=NS)
    if (version or "").strip() != "1.2":
        raise ScormError(f"{where}: metadata/schemaversion is {version!r}; a SCORM 1.2 package says '1.2'")
    orgs = root.find("cp:organizations", NS)
    if orgs is None:
        raise ScormError(f"{where}: <organizations> is missing")
    default = orgs.get("default")
    org = next((o for o in orgs.findall("cp:organization", NS) if o.get("identifier") == default), None)
    if org is None:
        raise ScormError(f"{where}: organizations default='{default}' names no <organization>")
    resources = {r.get("identifier"): r for r in root.findall("cp:resources/cp:resource", NS)}
    items = org.findall(".//cp:item", NS)
    if not items:
        raise ScormError(f"{where}: organization '{default}' has no <item>")
    title = (org.findtext("cp:title", namespaces=NS) or "").strip()
    launch = None
    for item in items:
        ref = item.get("identifierref")
        if ref is None:
            continue
        res = resources.get(ref)
        if res is None:
            raise ScormError(f"{where}: item '{item.get('identifier')}' refers to resource '{ref}', which is not there")
        href = res.get("href")
        if not href:
            raise ScormError(f"{where}: resource '{ref}' has no href (its launch page)")
        if href.split("?")[0].split("#")[0] not in names:
            raise ScormError(f"{where}: resource '{ref}' launches '{href}', which is not in the package")
        if res.get(SCORMTYPE, "").lower() == "sco":
            launch = launch or href.split("?")[0].split("#")[0]
    if launch is None:
        raise ScormError(f"{where}: no item launches a resource with adlcp:scormtype='sco'")
    for res in resources.values():
        for f in res.findall("cp:file", NS):
            if f.get("href") not in names:
                raise ScormError(f"{where}: resource '{res.get('identifier')}' lists file '{f.get('href')}', "
                                 "which is not in the package")
    return PackageInfo(title=title, launch=launch, files=len(names))
