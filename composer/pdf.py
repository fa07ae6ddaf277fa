"""PDF export through Chromium's print (Playwright `page.pdf`): each section starts on a new page."""
from __future__ import annotations

import tempfile
from pathlib import Path

from guidecast.capture.browser import launch_browser
from guidecast.composer.export import page_html
from guidecast.composer.guide import Guide
from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import atomic_write_bytes
from guidecast.kernel.progress import Progress, no_progress

FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#5b6676;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def pdf_bytes(html: str, browser=None) -> bytes:
    """Print `html` (a complete page with inline images) to PDF bytes; launches Chromium unless given one."""
    if browser is None:
        with launch_browser(headless=True) as b:
            return pdf_bytes(html, b)
    from playwright.sync_api import Error as PlaywrightError

    with tempfile.TemporaryDirectory(prefix="guidecast-pdf-") as tmp:
        page_path = Path(tmp) / "guide.html"
        page_path.write_text(html, "utf-8")
        page = browser.new_page()
        try:
            page.goto(page_path.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            page.evaluate("document.fonts ? document.fonts.ready.then(() => true) : true")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                            display_header_footer=True, header_template="<span></span>", footer_template=FOOTER)
        except PlaywrightError as e:
            raise GuidecastError(f"Chromium could not print the guide: {str(e).splitlines()[0]}") from None
        finally:
            page.close()


def export_pdf(guide: Guide, guide_dir: Path, out: Path, *, template_dir: Path | None = None, browser=None,
               progress: Progress | None = None) -> Path:
    progress = progress or no_progress
    progress(0, 3, "laying out the pages")
    html = page_html(guide, guide_dir, mode="print", inline_images=True, template_dir=template_dir)
    progress(1, 3, "printing the PDF in Chromium")
    data = pdf_bytes(html, browser)
    progress(2, 3, "writing the PDF")
    atomic_write_bytes(Path(out), data)
    progress(3, 3, "PDF ready")
    return Path(out)
