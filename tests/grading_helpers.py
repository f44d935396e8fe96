"""Build submissions from the committed student notebooks and grade them with the real command."""

import re
from pathlib import Path

import nbformat

from course_tools import ROOT
from course_tools.grading import assign
from course_tools.grading.batch import Batch
from course_tools.grading.runner import GIB, Limits

EXERCISES = ROOT / "exercises"


def student(name: str) -> nbformat.NotebookNode:
    return nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)


def solution(name: str) -> nbformat.NotebookNode:
    """The solution notebook, from the private folder when COURSE_SOLUTIONS names one."""
    return nbformat.read(assign.solutions_dir() / f"{name}.ipynb", as_version=4)


_PROMPT = re.compile(
    r'^\s*""" # BEGIN PROMPT\n.*?^\s*"""\s*# END PROMPT\n', re.M | re.S
)
_CHECK = re.compile(r'grader\.check\("(\w+)"\)')
_MARKER = re.compile(r"^\s*# (BEGIN SOLUTION( NO PROMPT)?|END SOLUTION)\s*$\n?", re.M)


def solution_code(source: str) -> str:
    """An answer cell of a solution as the solved notebook has it: the prompt otter shows
    students taken out, the solution's own lines kept, without their markers."""
    return _MARKER.sub("", _PROMPT.sub("", source)).strip()


def solution_answers(name: str) -> dict[str, list[str]]:
    """question -> the code of its answer cells in the solution (those of its
    `# BEGIN SOLUTION` ... `# END SOLUTION` raw cells), in order."""
    answers, question, inside = {}, None, False
    for cell in solution(name).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            question = re.search(r"^name:\s*(\S+)", text, re.M).group(1)
        elif cell.cell_type == "raw" and text in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = text == "# BEGIN SOLUTION"
        elif inside and cell.cell_type == "code":
            answers.setdefault(question, []).append(solution_code(cell.source))
    return answers


def solved(name: str) -> nbformat.NotebookNode:
    """The student notebook answered with the solution: what a student who found every answer
    hands in. Its answer cells hold the solution's code, and nothing else of the solution is
    there: no test cell, no raw otter cell."""
    notebook = student(name)
    answers = solution_answers(name)
    cells = notebook.cells
    checks = [
        i for i, cell in enumerate(cells) if _CHECK.fullmatch(cell.source.strip())
    ]
    assert sorted(answers) == sorted(
        _CHECK.fullmatch(cells[i].source.strip()).group(1) for i in checks
    ), answers.keys()
    start = 0
    for check in checks:
        question = _CHECK.fullmatch(cells[check].source.strip()).group(1)
        slots = [
            i
            for i in range(start, check)
            if "otter_answer_cell" in cells[i].metadata.get("tags", [])
        ]
        assert len(slots) == len(answers[question]), (name, question, slots)
        for index, source in zip(slots, answers[question], strict=True):
            cells[index].source = source
        start = check + 1
    return notebook


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
