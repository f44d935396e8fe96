"""Build submissions from the committed student notebooks and grade them with the real command."""

from pathlib import Path

import nbformat

from course_tools import ROOT
from course_tools.grading import assign
from course_tools.grading.answered import solved  # noqa: F401 (tests import it from here)
from course_tools.grading.batch import Batch
from course_tools.grading.runner import GIB, Limits

EXERCISES = ROOT / "exercises"


def student(name: str) -> nbformat.NotebookNode:
    return nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)


def solution(name: str) -> nbformat.NotebookNode:
    """The solution notebook, from the private folder when COURSE_SOLUTIONS names one."""
    return nbformat.read(assign.solutions_dir() / f"{name}.ipynb", as_version=4)


def _check_cell(notebook, question: str) -> int:
    marker = f'grader.check("{question}")'
    return next(
        i for i, cell in enumerate(notebook.cells) if cell.source.strip() == marker
    )


def answer(notebook, question: str, source: str) -> None:
    """Replace the answer cell of `question` (the code cell just before its check cell)."""
    index = _check_cell(notebook, question) - 1
    assert "otter_answer_cell" in notebook.cells[index].metadata.get("tags", [])
    notebook.cells[index].source = source


def insert_after(notebook, question: str, *sources: str) -> None:
    """Insert code cells right after the check cell of `question`."""
    index = _check_cell(notebook, question) + 1
    for offset, source in enumerate(sources):
        notebook.cells.insert(index + offset, nbformat.v4.new_code_cell(source))


def write(folder: Path, files: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, nbformat.NotebookNode):
            nbformat.write(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def grade(
    exercise: str, folder: Path, out: Path, **limits
) -> tuple[Batch, dict[str, dict]]:
    # Generous: on a busy CI machine two batches may share the cores (a hostile case that
    # needs a short limit passes its own).
    settings = {
        "timeout": 600,
        "cell_timeout": 300,
        "call_timeout": 60,
        "memory": 1.5 * GIB,
    }
    settings.update(limits)
    settings["memory"] = int(settings["memory"])
    batch = Batch(
        exercise=exercise,
        submissions=folder,
        out=out,
        limits=Limits(**settings),
        jobs=2,
        progress=False,
    )
    results = batch.run()
    return batch, {result["submission"]: result for result in results}


def total(result: dict) -> float:
    return sum(result["scores"].values())


def feedback(out: Path, submission: str) -> str:
    return (out / "feedback" / f"{submission}.md").read_text(encoding="utf-8")
