"""Keep each notebook's "Open in Colab" badge (its first cell) pointing at its own path."""

from pathlib import Path

import nbformat

from course_tools import ROOT
from course_tools.book_config import load_repository


def badge_problem(path: Path) -> str | None:
    notebook = nbformat.read(path, as_version=4)
    expected = load_repository().colab_badge(path)
    first = notebook.cells[0] if notebook.cells else None
    if (
        first is None
        or first.cell_type != "markdown"
        or first.source.strip() != expected
    ):
        rel = path.resolve().relative_to(ROOT)
        return f"{rel}: first cell must be the markdown badge {expected!r} (run `make badges`)"
    return None


def sync_badge(path: Path) -> bool:
    """Write the expected badge into the first cell (inserting one if needed); True if changed."""
    if badge_problem(path) is None:
        return False
    notebook = nbformat.read(path, as_version=4)
    badge = load_repository().colab_badge(path)
    first = notebook.cells[0] if notebook.cells else None
    if (
        first is not None
        and first.cell_type == "markdown"
        and "colab-badge.svg" in first.source
    ):
        first.source = badge
    else:
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    nbformat.write(notebook, path)
    return True
