"""The built website: it builds without warnings; each notebook page opens its own file in Colab."""

import posixpath
import shutil
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup
from docutils.nodes import make_id

from conftest import executed_notebook_paths, read_notebook
from course_tools import ROOT, book
from course_tools.__main__ import main as course_tools_main
from course_tools.book_config import load_repository
from course_tools.grading import assign
from course_tools.links import site_url
from course_tools.pins import pins
from course_tools.sphinx_ext import headline_outputs

NOTEBOOK_PAGES = [
    path for path in executed_notebook_paths() if path.parent.name == "notebooks"
]
IDS = [path.relative_to(ROOT).as_posix() for path in NOTEBOOK_PAGES]


def colab_links(html_path):
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    return [
        a["href"]
        for a in soup.find_all("a", href=True)
        if a["href"].startswith("https://colab.research.google.com/")
    ]


def repository_path(colab_url):
    """The repository path a Colab URL opens: .../github/OWNER/REPO/blob/BRANCH/PATH."""
    parts = urlparse(colab_url).path.split("/")
    assert parts[1] == "github" and parts[4] == "blob", colab_url
    return "/".join(parts[6:])


def test_the_site_has_a_landing_page(built_site):
    assert (built_site / "index.html").is_file()


def sidebar_entries(html_path) -> list[str]:
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    return [
        " ".join(a.get_text().split())
        for a in soup.select("nav.bd-links li.toctree-l2 > a")
    ]


def test_chapter_six_is_numbered_as_in_the_lecture(built_site):
    """BPTT and the gradients notebook open chapter 6 without a number; then 6.1 IMDB, 6.2 Jena,
    6.3 and 6.4 Chicago; no title carries its own number as well (no "6.1. 6.1 Sentiment")."""
    entries = sidebar_entries(built_site / "notebooks" / "06_1_imdb.html")
    chapter = [entry for entry in entries if entry.startswith(("6.", "Training RNNs"))]
    assert chapter[0] == "Training RNNs: gradients through time", chapter
    assert [entry.split(" ", 1)[0] for entry in chapter[1:]] == [
        "6.1.",
        "6.2.",
        "6.3.",
        "6.4.",
    ]
    assert "IMDB" in chapter[1] and "Jena" in chapter[2] and "Chicago" in chapter[3]
    numbered = [entry.split(" ", 1) for entry in entries if entry[0].isdigit()]
    assert numbered and not [title for _, title in numbered if title[0].isdigit()]
    soup = BeautifulSoup(
        (built_site / "notebooks" / "06_1_imdb.html").read_text(encoding="utf-8"),
        "html.parser",
    )
    assert soup.select_one("h1 .section-number").get_text().strip() == "6.1."


@pytest.mark.parametrize("notebook", NOTEBOOK_PAGES, ids=IDS)
def test_colab_links_open_this_notebook(built_site, notebook):
    page = built_site / notebook.relative_to(ROOT).with_suffix(".html")
    assert page.is_file(), f"{page} was not built"
    links = colab_links(page)
    repository = load_repository()
    rel = notebook.relative_to(ROOT).as_posix()
    # The launch button in the page header and the badge in the notebook's first cell.
    assert len(links) >= 2, (
        f"{page.name}: expected a Colab launch button and a badge, found {links}"
    )
    for link in links:
        assert repository_path(link) == rel, link
        assert f"/github/{repository.github_slug}/blob/{repository.branch}/" in link, (
            link
        )


def test_repository_path_reads_a_colab_url():
    url = "https://colab.research.google.com/github/owner/repo/blob/main/notebooks/x.ipynb"
    assert repository_path(url) == "notebooks/x.ipynb"
    assert repository_path(url.replace("notebooks/x", "x")) != "notebooks/x.ipynb"


def internal_link_problems(site, base=None):
    """Every relative link of every page points at a built file, and at an id that exists in it.

    So does every absolute link to the published site `base` (how notebooks link to other pages,
    so that the links work in Colab too): it is checked against this build."""
    pages = {
        path: BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for path in site.rglob("*.html")
        if "_static" not in path.parts
    }
    ids = {
        path: {tag["id"] for tag in soup.find_all(id=True)}
        for path, soup in pages.items()
    }
    problems = []
    for path, soup in pages.items():
        for a in soup.find_all("a", href=True):
            href = a["href"]
            target, _, anchor = href.partition("#")
            if base and href.startswith(base):
                target_path = (site / target[len(base) :]).resolve()
            elif urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            else:
                target_path = (path.parent / target).resolve() if target else path
            if not target_path.exists():
                problems.append(f"{path.relative_to(site)}: broken link {href}")
            elif (
                anchor
                and target_path.suffix == ".html"
                and anchor not in ids.get(target_path, ())
            ):
                problems.append(
                    f"{path.relative_to(site)}: no #{anchor} in {target or path.name}"
                )
    return problems


def test_no_internal_link_is_broken(built_site):
    assert internal_link_problems(built_site, site_url()) == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "index.html").write_text(
        '<a href="missing.html">x</a> <a href="other.html#nowhere">y</a>'
        '<a id="top" href="#top">z</a>'
        '<a href="https://example.org/course/gone.html">site</a>'
        '<a href="https://example.org/course/other.html#somewhere">site</a>'
        '<a href="https://example.org/elsewhere.html">not the site</a>'
    )
    (tmp_path / "other.html").write_text('<p id="somewhere"></p>')
    assert internal_link_problems(tmp_path, "https://example.org/course/") == [
        "index.html: broken link missing.html",
        "index.html: no #nowhere in other.html",
        "index.html: broken link https://example.org/course/gone.html",
    ]


# --- the results page ----------------------------------------------------------------------

RESULTS_PAGE = "book/results.html"
HEADLINE_NOTEBOOKS = [
    path for path in NOTEBOOK_PAGES if headline_outputs(read_notebook(path))
]


def results_problems(site, notebooks) -> list[str]:
    """What the results page lacks: for each notebook with `headline` cells, a section that
    links to the notebook's page and shows each of their outputs (an HTML table, or the text
    table in a <pre>)."""
    soup = BeautifulSoup(
        (site / RESULTS_PAGE).read_text(encoding="utf-8"), "html.parser"
    )
    problems = []
    if "No notebook has headline results yet." in soup.get_text():
        problems.append("the page says that no notebook has headline results")
    for notebook in notebooks:
        doc = notebook.relative_to(ROOT).with_suffix("").as_posix()
        section = soup.find("section", id=make_id(f"results-{doc}"))
        if section is None:
            problems.append(f"{doc}: no section of its headline results")
            continue
        here = posixpath.dirname(RESULTS_PAGE)
        targets = {
            posixpath.normpath(posixpath.join(here, a["href"].partition("#")[0]))
            for a in section.find_all("a", href=True)
        }
        if f"{doc}.html" not in targets:
            problems.append(f"{doc}: its section does not link to {doc}.html")
        texts = [pre.get_text() for pre in section.find_all("pre")]
        tables = len(section.find_all("table"))
        for output in headline_outputs(read_notebook(notebook)):
            if "html" in output:
                tables -= "<table" in output["html"]
                if tables < 0:
                    problems.append(f"{doc}: a headline table is missing")
                continue
            line = next(line for line in output["text"].splitlines() if line.strip())
            if not any(line.strip() in text for text in texts):
                problems.append(f"{doc}: headline output not shown: {line.strip()!r}")
    return problems


def test_there_are_headline_results_to_show():
    assert HEADLINE_NOTEBOOKS, "no lecture notebook has a cell tagged `headline`"


def test_the_results_page_shows_every_headline_table(built_site):
    assert results_problems(built_site, HEADLINE_NOTEBOOKS) == []


def test_the_results_check_sees_an_empty_page(tmp_path):
    page = tmp_path / RESULTS_PAGE
    page.parent.mkdir()
    page.write_text(
        "<main><h1>Results at a glance</h1>"
        "<p>No notebook has headline results yet.</p></main>",
        encoding="utf-8",
    )
    found = results_problems(tmp_path, HEADLINE_NOTEBOOKS[:1])
    doc = HEADLINE_NOTEBOOKS[0].relative_to(ROOT).with_suffix("").as_posix()
    assert found == [
        "the page says that no notebook has headline results",
        f"{doc}: no section of its headline results",
    ]


# --- `make book SOLUTIONS=0` ---------------------------------------------------------------


@pytest.fixture(scope="module")
def site_without_solutions(built_site):
    """`python -m course_tools book --without-solutions` (what `make book SOLUTIONS=0` runs,
    tests/test_weak_spots.py checks that), built into _build/without-solutions/ so that the
    site of the other tests stays."""
    out = book.BUILD_DIR / "without-solutions"
    shutil.rmtree(out, ignore_errors=True)
    command = book.build_command
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            book,
            "build_command",
            lambda solutions=True: [*command(solutions), "--path-output", str(out)],
        )
        assert course_tools_main(["book", "--without-solutions"]) == 0
    return out / "_build" / "html"


def test_the_site_without_solutions_has_no_solution(site_without_solutions):
    site = site_without_solutions
    assert (site / "index.html").is_file() and (site / "exercises").is_dir()
    assert not (site / "solutions").exists()
    linked = [
        f"{path.relative_to(site)}: {a['href']}"
        for path in site.rglob("*.html")
        for a in BeautifulSoup(
            path.read_text(encoding="utf-8"), "html.parser"
        ).find_all("a", href=True)
        if "solutions/" in a["href"]
    ]
    assert linked == []
    for name in assign.exercise_names():
        assert assign.leaks(name, [site]) == [], name


def test_the_site_with_solutions_shows_hidden_tests(built_site):
    """The leak check above can fire: the full site's solution pages hold the hidden tests."""
    for name in assign.exercise_names():
        assert assign.leaks(name, [built_site / "solutions" / f"{name}.html"]), name


def _pins(name: str) -> dict[str, str]:
    return pins(ROOT / name)


def test_the_book_only_requirements_pin_what_the_full_set_pins():
    """The Pages workflow builds from requirements-book.txt: the same versions, nothing more."""
    book, full = _pins("requirements-book.txt"), _pins("requirements.txt")
    assert book and {name: full.get(name) for name in book} == book
    assert not {"tensorflow", "keras"} & set(book)


def test_jupyterlab_is_added_by_make_lab_only():
    """requirements-lab.txt pins only what requirements.txt lacks, JupyterLab among it; the test
    environment goes without rfc3987-syntax, whose import (via nbformat's jsonschema) costs every
    grading worker and command over a second."""
    lab, full = _pins("requirements-lab.txt"), _pins("requirements.txt")
    assert "jupyterlab" in lab and not set(lab) & set(full)
    assert not {"jupyterlab", "rfc3987-syntax"} & set(full)
