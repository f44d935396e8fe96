"""Hidden tests kept out of the public repository: with COURSE_SOLUTIONS pointing at a private
folder of solution notebooks, grading takes every test from there, a submission cannot read
that folder, and `check-public` finds a hidden test wherever students could see it."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course_tools import ROOT
from course_tools.grading import assign
from course_tools.grading.otter_format import load_questions
from grading_helpers import answer, grade, insert_after, solution, student, total, write

EXERCISE = "ex1_concepts"
#: The private copy's hidden q6 test differs from the public one: an answer the public
#: solution does not give, so that a grade shows which tests were used.
PUBLIC_HIDDEN, PRIVATE_HIDDEN = "assert q6_params == 2080", "assert q6_params == 2081"


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    # Beside the repository, where an instructor clones a private repository of solutions.
    folder = Path(tempfile.mkdtemp(prefix="private-solutions-", dir=ROOT.parent))
    notebook = solution(EXERCISE)
    hidden = [cell for cell in notebook.cells if PUBLIC_HIDDEN in cell.source]
    assert len(hidden) == 1 and hidden[0].source.startswith("# HIDDEN")
    hidden[0].source = hidden[0].source.replace(PUBLIC_HIDDEN, PRIVATE_HIDDEN)
    nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")
    # readable by everyone, as a cloned repository is: only the grader's hiding protects it
    folder.chmod(0o755)
    (folder / f"{EXERCISE}.ipynb").chmod(0o644)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(assign.PRIVATE_ENV, str(folder))
        yield folder
    shutil.rmtree(folder)


def hidden_cases(name: str) -> list[str]:
    return [
        case["body"]
        for question in load_questions(*assign.grading_tests(name))
        for case in question["cases"]
        if case["hidden"]
    ]


def test_the_tests_come_from_the_private_folder(private):
    assert assign.exercise_names() == [EXERCISE]
    bodies = "\n".join(hidden_cases(EXERCISE))
    assert "2081" in bodies and "2080" not in bodies


def test_grading_uses_them_and_a_submission_cannot_read_them(private, tmp_path):
    thief = student(EXERCISE)
    answer(
        thief,
        "q1",
        'q1_kinds = ["seq2seq", "seq2vec", "vec2seq", "encoder-decoder"] * 2',
    )
    path = private / f"{EXERCISE}.ipynb"
    insert_after(  # after the last answer cell, which would undo what it copies
        thief,
        "q6",
        "import json\n\n"
        "try:\n"
        f"    cells = json.load(open({str(path)!r}))['cells']\n"
        "    for cell in cells:\n"
        "        source = ''.join(cell['source'])\n"
        "        if 'BEGIN SOLUTION' in source and ('q2_ndim' in source or 'q6_' in source):\n"
        "            exec(source)\n"
        "except OSError as error:\n"
        "    print(error)",
    )
    public = nbformat.read(ROOT / "solutions" / f"{EXERCISE}.ipynb", as_version=4)
    folder = write(tmp_path / "in", {"solution.ipynb": public, "thief.ipynb": thief})
    _, results = grade(EXERCISE, folder, tmp_path / "out")
    honest = results["solution.ipynb"]
    # the public solution fails exactly the one hidden case the private copy changed
    assert total(honest) < sum(honest["possible"].values())
    assert [case["passed"] for case in honest["tests"]["q6"] if case["hidden"]] == [
        False
    ]
    thief = results["thief.ipynb"]
    assert (
        total(thief) == thief["scores"]["q1"] == 2
    )  # q1, answered honestly; nothing read


def test_check_public_finds_a_hidden_test_where_students_see_it(private, tmp_path):
    command = [sys.executable, "-m", "course_tools.grading", "check-public"]
    clean = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # the private hidden test of q6, pasted by mistake into what students see
    cells = nbformat.read(private / f"{EXERCISE}.ipynb", as_version=4).cells
    pasted = next(cell.source for cell in cells if PRIVATE_HIDDEN in cell.source)
    leaked = student(EXERCISE)
    insert_after(leaked, "q6", pasted.removeprefix("# HIDDEN\n"))
    nbformat.write(leaked, tmp_path / "leaked.ipynb")
    line = next(line for line in pasted.splitlines() if PRIVATE_HIDDEN in line)
    page = tmp_path / "site" / "page.html"
    page.parent.mkdir()
    page.write_text(  # as the site shows code: highlighted, quotes escaped
        "<pre>"
        + line.replace('"', "&quot;").replace(" == ", " <span>==</span> ")
        + "</pre>",
        encoding="utf-8",
    )
    # both places in one run (each run generates every exercise's tests afresh, ~10 s apiece)
    places = [tmp_path / "leaked.ipynb", page.parent]
    found = subprocess.run(
        [*command, *map(str, places)], cwd=ROOT, capture_output=True, text=True
    )
    assert found.returncode == 1, found.stdout + found.stderr
    assert "q6_params" in found.stdout
    assert all(str(place) in found.stdout for place in places), found.stdout
    assert json.loads(json.dumps(assign.leaks(EXERCISE, [assign.EXERCISES]))) == []
