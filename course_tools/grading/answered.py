"""The student notebook answered with the solution: an honest, complete submission, as a
student who found every answer hands it in (the tests and `make benchmark` grade it)."""

import re

import nbformat

from course_tools.grading import assign

_PROMPT = re.compile(
    r'^\s*""" # BEGIN PROMPT\n.*?^\s*"""\s*# END PROMPT\n', re.M | re.S
)
_MARKER = re.compile(r"^\s*# (BEGIN SOLUTION( NO PROMPT)?|END SOLUTION)\s*$\n?", re.M)
_CHECK = re.compile(r'grader\.check\("(\w+)"\)')


def solved(name: str) -> nbformat.NotebookNode:
    """The student notebook answered with the solution's code: an honest, complete submission.

    Each question's answer cells (tagged `otter_answer_cell`, before its `grader.check` cell)
    get, in order, the code of the solution's `# BEGIN SOLUTION` ... `# END SOLUTION` cells,
    without the prompt otter shows students and without the markers.
    """
    answers, question, inside = {}, None, False
    solution = nbformat.read(assign.solutions_dir() / f"{name}.ipynb", as_version=4)
    for cell in solution.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            question = re.search(r"^name:\s*(\S+)", text, re.M).group(1)
        elif cell.cell_type == "raw" and text in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = text == "# BEGIN SOLUTION"
        elif inside and cell.cell_type == "code":
            code = _MARKER.sub("", _PROMPT.sub("", cell.source)).strip()
            answers.setdefault(question, []).append(code)
    notebook = nbformat.read(assign.EXERCISES / f"{name}.ipynb", as_version=4)
    slots = []
    for cell in notebook.cells:
        if "otter_answer_cell" in cell.metadata.get("tags", []):
            slots.append(cell)
        elif check := _CHECK.fullmatch(cell.source.strip()):
            code = answers.pop(check.group(1), [])
            if len(code) != len(slots):
                raise ValueError(
                    f"{name}, {check.group(1)}: {len(slots)} answer cells in the student "
                    f"notebook, {len(code)} solution cells (run `make assign`?)"
                )
            for slot, source in zip(slots, code, strict=True):
                slot.source = source
            slots = []
    if answers:
        raise ValueError(f"{name}: no check cell for {sorted(answers)}")
    return notebook
