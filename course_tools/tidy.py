"""Notebook hygiene that leaves a stored run valid: formatting before a run, no volatile metadata.

`make execute` formats a notebook with ruff before it runs it, so that the code it hashes is the
formatted code and a later `ruff format` changes nothing. Per-cell execution timestamps would make
every re-run a diff on every cell; they are never written, and `strip-metadata` removes old ones.
"""

import subprocess
import sys
from pathlib import Path

import nbformat

#: Cell metadata that records when a cell ran, not what it is.
VOLATILE_CELL_KEYS = ("execution", "ExecuteTime")
#: Notebook metadata that a front end stores about its own state.
VOLATILE_NOTEBOOK_KEYS = ("widgets",)


def strip_volatile(notebook: nbformat.NotebookNode) -> bool:
    """Remove volatile metadata in place; return whether anything was removed."""
    changed = False
    for key in VOLATILE_NOTEBOOK_KEYS:
        changed |= notebook.metadata.pop(key, None) is not None
    for cell in notebook.cells:
        for key in VOLATILE_CELL_KEYS:
            changed |= cell.metadata.pop(key, None) is not None
    return changed


def strip_files(paths: list[Path]) -> list[Path]:
    """Strip volatile metadata from notebook files; return the ones that changed."""
    changed = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if strip_volatile(notebook):
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def format_notebook(path: Path) -> None:
    """`ruff format` one notebook, with the project's settings (pyproject.toml)."""
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=True
    )
