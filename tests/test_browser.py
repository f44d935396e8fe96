"""Every page of the built site in a real headless Chromium, served on localhost.

Per page: no console error, no failed request for a local asset, math typeset without TeX errors,
every local image loaded, the Colab button pointing at the notebook's own path; a screenshot of
its first screen is saved to _build/screenshots/ (of the whole page with
COURSE_SCREENSHOTS=full, which takes a third longer: long notebook pages make large images).
Every built page must have been visited. Skipped, with the reason, where no Chromium is installed
(Debian: `apt-get install chromium`), except in CI (the variable CI set, as `.ci/run` and CI
services set it), where a missing Chromium fails them.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from course_tools import ROOT
from course_tools.book import toc_documents
from course_tools.book_config import load_repository

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "_build" / "screenshots"
FULL_PAGE_SCREENSHOTS = os.environ.get("COURSE_SCREENSHOTS") == "full"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NO_CHROMIUM = (
    "no Chromium on this machine (apt-get install chromium) to run the site in"
)
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")

pytestmark = pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason=NO_CHROMIUM)


@pytest.fixture(scope="module", autouse=True)
def chromium_in_ci():
    if CHROMIUM is None:  # in CI: skipping would leave every page unchecked, and green
        pytest.fail(f"{NO_CHROMIUM}; CI may not skip the browser tests", pytrace=False)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(built_site):
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def site_pages():
    """The pages the table of contents promises, plus the redirecting index.html."""
    return ["index.html"] + [f"{doc}.html" for doc in toc_documents()]


def is_local(url, site_url):
    return url.startswith(site_url) or url.startswith("data:")


def visit(browser, url, site_url):
    """Load `url` and return what a careful reader would notice is broken."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "Failed to load resource"
            not in msg.text  # reported as a request failure below
            and problems.append(f"console error: {msg.text}")
        ),
    )
    page.on(
        "requestfailed",
        lambda req: (
            is_local(req.url, site_url)
            and problems.append(f"failed request: {req.url} ({req.failure})")
        ),
    )
    page.on(
        "response",
        lambda resp: (
            is_local(resp.url, site_url)
            and resp.status >= 400
            and problems.append(f"HTTP {resp.status}: {resp.url}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.goto(url, wait_until="networkidle")
    return page, problems


#: The pages test_page_in_chromium opened, for test_every_built_page_is_visited (run after it:
#: the site tests run in file order, on one worker).
VISITED: set[str] = set()
#: Sphinx's generated pages, which hold no course content.
GENERATED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}


@pytest.mark.parametrize("page_path", site_pages())
def test_page_in_chromium(built_site, site_url, browser, page_path):
    page, problems = visit(browser, f"{site_url}/{page_path}", site_url)
    VISITED.add(page_path)
    try:
        # Math: every math element the page has was typeset by MathJax.
        page.wait_for_function(
            "!window.MathJax || !MathJax.startup || MathJax.startup.promise"
        )
        page.evaluate(
            "window.MathJax && MathJax.startup ? MathJax.startup.promise : null"
        )
        untypeset = page.evaluate(
            """() => [...document.querySelectorAll('.math')]
                   .filter(el => !el.querySelector('mjx-container')).length"""
        )
        if untypeset:
            problems.append(f"{untypeset} math element(s) not typeset")
        tex_errors = page.eval_on_selector_all(
            "mjx-merror",
            "els => els.map(e => e.getAttribute('data-mjx-error') || e.textContent)",
        )
        problems.extend(f"TeX error in math: {error}" for error in tex_errors)
        # Images: every local image decoded (natural width above 0).
        broken = page.evaluate(
            """(site) => [...document.images]
                   .filter(img => img.src.startsWith(site))
                   .filter(img => !(img.complete && img.naturalWidth > 0))
                   .map(img => img.getAttribute('src'))""",
            site_url,
        )
        problems.extend(f"image not loaded: {src}" for src in broken)
        # Colab: the launch button opens this very notebook of the repository.
        if page_path.startswith("notebooks/"):
            repository = load_repository()
            expected = repository.colab_url(
                ROOT / Path(page_path).with_suffix(".ipynb")
            )
            links = page.eval_on_selector_all(
                "a[href^='https://colab.research.google.com/github/']",
                "els => els.map(e => e.href)",
            )
            if expected not in links:
                problems.append(f"no Colab link to {expected}; found {links}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=SCREENSHOTS / page_path.replace("/", "__").replace(".html", ".png"),
            full_page=FULL_PAGE_SCREENSHOTS,
        )
    finally:
        page.close()
    assert not problems, "\n".join(problems)


def content_pages(site) -> set[str]:
    """Every HTML page of the built site, except Sphinx's generated ones and its copies."""
    return {
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(path.relative_to(site).parts)
    } - GENERATED_PAGES


def test_every_built_page_is_visited(built_site):
    """Every page a reader can reach was opened in Chromium above (so run the whole file)."""
    unvisited = sorted(content_pages(built_site) - VISITED)
    assert not unvisited, f"built but never opened in Chromium: {unvisited}"


def test_self_check_questions_answer_in_the_page(built_site, site_url, browser):
    """A reader answers wrong, then right, and the page says which, with no server behind it."""
    page, problems = visit(
        browser, f"{site_url}/book/02_recurrent_neurons.html", site_url
    )
    try:
        numeric, choice = page.locator(".selfcheck").all()[:2]

        def check(box):
            box.locator(".selfcheck-check").click()
            return box.locator(".selfcheck-feedback")

        assert check(numeric).inner_text() == "Type a number first."
        numeric.locator("input").fill("28")
        feedback = check(numeric)
        assert feedback.inner_text().startswith("Not quite.")
        assert "selfcheck-wrong" in feedback.get_attribute("class")
        numeric.locator("input").fill("32")
        assert check(numeric).inner_text().startswith("Right.")

        choice.get_by_label("(32, 16)", exact=True).check()
        assert check(choice).inner_text().startswith("Not quite.")
        choice.get_by_label("(32, 56, 16)", exact=True).check()
        feedback = check(choice)
        assert feedback.inner_text().startswith("Right.")
        assert "selfcheck-right" in feedback.get_attribute("class")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        choice.screenshot(path=SCREENSHOTS / "selfcheck-answered.png")
    finally:
        page.close()
    assert not problems, "\n".join(problems)
