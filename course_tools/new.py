"""Start a lecture notebook or an exercise from the templates, in place in the course.

`python -m course_tools new notebooks/06_5_topic.ipynb` copies templates/lecture_notebook.ipynb,
writes its Colab badge and lists it in _toc.yml under chapter 06; with
`solutions/ex8_topic.ipynb` it copies templates/exercise_solution.ipynb, names the exercise and
lists it, and its solution, in _toc.yml. `make new` then runs `make assign` (for an exercise) and
`make execute` on it.
"""

import re
from pathlib import Path

import nbformat

from course_tools import ROOT
from course_tools.book_config import load_repository

TEMPLATES = ROOT / "templates"


class NewError(Exception):
    """The notebook cannot be started there; the message says why."""


def _insert_after_last(
    lines: list[str], start: int, end: int, prefix: str, entry: str
) -> None:
    """Insert `- file: entry` after the last `- file: prefix...` line of lines[start:end]."""
    last = None
    for index in range(start, end):
        if lines[index].strip().startswith(f"- file: {prefix}"):
            last = index
    if last is None:
        raise NewError(
            f"_toc.yml has no entry starting with {prefix!r} to add {entry} after"
        )
    indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
    lines.insert(last + 1, f"{indent}- file: {entry}")


def add_to_toc(entry: str, toc: Path) -> None:
    lines = toc.read_text(encoding="utf-8").splitlines()
    folder, name = entry.split("/", 1)
    if folder == "notebooks":
        chapter = name[:2]
        heads = [
            i for i, line in enumerate(lines) if f"- file: book/{chapter}_" in line
        ]
        if not heads:
            raise NewError(f"no chapter book/{chapter}_*.md in _toc.yml for {entry}")
        head = heads[0]
        depth = len(lines[head]) - len(lines[head].lstrip())
        end = head + 1
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > depth
        ):
            end += 1
        if any("- file: notebooks/" in line for line in lines[head:end]):
            _insert_after_last(lines, head, end, "notebooks/", entry)
        else:  # the chapter's first notebook
            indent = " " * (depth + 2)
            lines[head + 1 : head + 1] = [
                f"{indent}sections:",
                f"{indent}  - file: {entry}",
            ]
    else:  # an exercise: the student notebook and its solution, each after the last of its kind
        _insert_after_last(lines, 0, len(lines), "exercises/", f"exercises/{name}")
        _insert_after_last(lines, 0, len(lines), "solutions/", f"solutions/{name}")
    toc.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start(relative: str, root: Path = ROOT) -> Path:
    """Create `relative` (notebooks/NN_*.ipynb or solutions/exN_*.ipynb) in the course at `root`."""
    path = root / relative
    if path.exists():
        raise NewError(f"{relative} exists already")
    if re.fullmatch(r"notebooks/\d\d_\w+\.ipynb", relative):
        notebook = nbformat.read(TEMPLATES / "lecture_notebook.ipynb", as_version=4)
    elif match := re.fullmatch(r"solutions/ex(\d+)_\w+\.ipynb", relative):
        notebook = nbformat.read(TEMPLATES / "exercise_solution.ipynb", as_version=4)
        for cell in notebook.cells:
            cell.source = (
                cell.source.replace("name: NAME", f"name: {path.stem}")
                .replace("/NAME/", f"/{path.stem}/")
                .replace("# Exercise N:", f"# Exercise {match.group(1)}:")
            )
    else:
        raise NewError(
            f"{relative}: a lecture notebook is notebooks/NN_topic.ipynb (NN its chapter), "
            "an exercise solutions/exN_topic.ipynb"
        )
    # the badge names the notebook's place in the repository, wherever this copy of it lies
    repository = load_repository(root / "_config.yml")
    notebook.cells[0].source = repository.colab_badge(ROOT / relative)
    add_to_toc(relative.removesuffix(".ipynb"), root / "_toc.yml")
    nbformat.write(notebook, path)
    return path
