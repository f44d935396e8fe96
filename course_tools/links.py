"""Links from a notebook to the course's other pages, as absolute addresses of the published site.

A `{doc}` role renders only on the site; in Colab and Jupyter it shows as raw text, and a relative
link to a `.md` file breaks in Colab. So notebooks link to the published page instead, as
d2l's Colab notebooks do: `[4. LSTM and GRU cells](https://SITE/book/04_lstm_gru.html)`. The
site's address is `html.baseurl` in `_config.yml`; `make links` writes `{doc}` roles as such links
and moves every existing one to that address (a fork changes the address, then runs it).
"""

import re
from pathlib import Path

import nbformat
import yaml

from course_tools import ROOT

#: Folders whose pages a notebook may link to.
PAGE_FOLDERS = ("book", "notebooks", "exercises", "solutions")

DOC_ROLE = re.compile(r"\{doc\}`([^`<]+)`")
#: A markdown link to a course page on any site: [text](BASE/FOLDER/NAME.html#anchor)
SITE_LINK = re.compile(
    r"\]\((?P<base>https?://[^\s)]+?/)(?P<page>(?:"
    + "|".join(PAGE_FOLDERS)
    + r")/[\w.-]+)\.html(?P<anchor>#[\w-]+)?\)"
)


def site_url(config_path: Path = ROOT / "_config.yml") -> str:
    """The published site's address, ending in a slash."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    url = (config.get("html") or {}).get("baseurl")
    if not url:
        raise ValueError(
            f"{config_path}: html.baseurl (the published site) must be set"
        )
    return url.rstrip("/") + "/"


def source_of(page: str) -> Path | None:
    """The source file of a page such as `book/04_lstm_gru`, if there is one."""
    for suffix in (".md", ".ipynb"):
        if (ROOT / f"{page}{suffix}").is_file():
            return ROOT / f"{page}{suffix}"
    return None


def title_of(source: Path) -> str:
    """The page's first level-one heading, as the site shows it in a `{doc}` link."""
    if source.suffix == ".md":
        texts = [source.read_text(encoding="utf-8")]
    else:
        notebook = nbformat.read(source, as_version=4)
        texts = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise ValueError(f"{source.relative_to(ROOT)} has no '# ' title")


def _page_of_role(target: str, notebook: Path) -> str:
    """`../book/04_lstm_gru` from notebooks/x.ipynb -> `book/04_lstm_gru`."""
    path = (notebook.parent / target).resolve()
    page = path.relative_to(ROOT).with_suffix("").as_posix()
    if source_of(page) is None:
        raise ValueError(f"{notebook.relative_to(ROOT)}: {{doc}}`{target}` has no page")
    return page


def rewrite(text: str, notebook: Path, base: str) -> str:
    """`text` with every `{doc}` role and course-page link pointing at the site `base`."""
    text = DOC_ROLE.sub(
        lambda m: (
            f"[{title_of(source_of(page := _page_of_role(m[1], notebook)))}]"
            f"({base}{page}.html)"
        ),
        text,
    )
    return SITE_LINK.sub(
        lambda m: (
            f"]({base}{m['page']}.html{m['anchor'] or ''})"
            if source_of(m["page"])
            else m[0]
        ),
        text,
    )


def sync_links(path: Path) -> bool:
    """Rewrite the notebook's links in place; True if anything changed."""
    notebook = nbformat.read(path, as_version=4)
    base, changed = site_url(), False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            new = rewrite(cell.source, path, base)
            if new != cell.source:
                cell.source, changed = new, True
    if changed:
        nbformat.write(notebook, path)
    return changed


def link_problems(path: Path) -> list[str]:
    """Roles that only the site renders, and links to pages that are not the site's."""
    notebook = nbformat.read(path, as_version=4)
    base, rel = site_url(), path.relative_to(ROOT).as_posix()
    problems = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for role in re.findall(r"\{(?:doc|ref|numref|eq)\}`[^`]*`", cell.source):
            problems.append(
                f"{rel}: {role} shows as raw text in Colab (run `make links`)"
            )
        for match in SITE_LINK.finditer(cell.source):
            if match["base"] != base:
                problems.append(
                    f"{rel}: {match[0]} is not on {base} (run `make links`)"
                )
            elif source_of(match["page"]) is None:
                problems.append(f"{rel}: {match[0]} links to no page of the course")
    return problems
