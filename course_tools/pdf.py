"""The whole book as one PDF, built offline: Sphinx's single-page HTML, printed by Chromium.

`make pdf` builds the book (solutions left out, as a printed hand-out would) into one HTML page,
_build/singlehtml/book/intro.html, and prints it with headless Chromium (Debian's `chromium`) to
_build/html/course.pdf, beside the site, so that publishing the site publishes the PDF.
"""

import re
import shutil
import subprocess
from pathlib import Path

from course_tools import ROOT, book

BUILD = book.BUILD_DIR
PDF = BUILD / "html" / "course.pdf"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit(
            "make pdf: Debian's chromium is needed (apt-get install chromium)"
        )
    return found


def page_count(path: Path) -> int:
    """Pages of a PDF, counted from its page objects (no PDF library needed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def build() -> Path:
    subprocess.run(
        book.build_command(solutions=False, builder="singlehtml"), cwd=ROOT, check=True
    )
    # The book's root page holds the whole book (index.html only redirects to it). Sphinx
    # writes that page's links relative to the output folder, where it does not lie
    # (book/intro.html): a copy at the top finds its styles, figures and plots.
    root = book.toc_documents()[0]
    page = BUILD / "singlehtml" / "course.html"
    shutil.copy(BUILD / "singlehtml" / f"{root}.html", page)
    PDF.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=20000",  # MathJax typesets before the page is printed
            "--no-pdf-header-footer",
            f"--print-to-pdf={PDF}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    return PDF


if __name__ == "__main__":
    path = build()
    print(f"{path.relative_to(ROOT)}: {page_count(path)} pages")
