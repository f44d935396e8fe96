"""Record and check where a notebook's stored outputs came from.

After a full-mode run, a notebook's metadata holds `course_run`: the mode, a hash of its code cells
and the library versions. A stored output is stale when the code hash no longer matches.
"""

import hashlib
import platform
from importlib import metadata

import nbformat

METADATA_KEY = "course_run"
TRACKED_PACKAGES = (
    "tensorflow",
    "keras",
    "numpy",
    "pandas",
    "matplotlib",
    "scikit-learn",
)


def code_hash(notebook: nbformat.NotebookNode) -> str:
    """SHA-256 over the source of every code cell, in order; prose edits leave it unchanged."""
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.strip().encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in TRACKED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def stamp(notebook: nbformat.NotebookNode, mode: str, seconds: float) -> None:
    notebook.metadata[METADATA_KEY] = {
        "mode": mode,
        "code_sha256": code_hash(notebook),
        "seconds": round(seconds, 1),
        "versions": library_versions(),
    }


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Why the stored outputs cannot be trusted; empty when they are fresh full-mode outputs."""
    record = notebook.metadata.get(METADATA_KEY)
    if record is None:
        return ["never executed by `make execute` (no course_run metadata)"]
    found = []
    if record.get("mode") != "full":
        found.append(f"outputs come from {record.get('mode')!r} mode, not full mode")
    if record.get("code_sha256") != code_hash(notebook):
        found.append("code changed after its outputs were produced")
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if any(cell.get("execution_count") is None for cell in code_cells):
        found.append("some code cells have no stored execution")
    return found
