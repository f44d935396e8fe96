"""The built website: it builds without warnings; each notebook page opens its own file in Colab."""

from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import executed_notebook_paths
from course_tools import ROOT
from course_tools.book_config import load_repository
from course_tools.links import site_url

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
