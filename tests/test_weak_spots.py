"""Checks that guard other checks, and the command lines.

The hidden-test leak check fires on the files where hidden tests are and stays quiet on the
student files; the commands of the README answer `--help` and refuse bad arguments with a
message, not a traceback; each exercise's set-up cell downloads its public tests from the
repository named in `_config.yml`, where those files are. Nothing here grades or builds the site.
"""

import ast
import os
import subprocess
import sys
import urllib.error
import urllib.request

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from conftest import student_notebook_paths
from course_tools import RAW_URL_ENV, ROOT
from course_tools.book_config import load_repository
from course_tools.grading import assign
from grading_helpers import solution, student

NAMES = assign.exercise_names()
READY = (
    ".venv/.requirements-installed"  # make's stamp: `-o` keeps make from reinstalling
)


# --- the hidden-test leak check can fire ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_leak_check_finds_the_hidden_tests_in_the_solution(name):
    found = assign.leaks(name, [assign.solutions_dir() / f"{name}.ipynb"])
    assert found, (
        f"{name}: no hidden-test line found in the solution, which holds them all"
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_student_files_hold_no_hidden_test_line(name):
    # its own files: another exercise's public test may share a plain line with this one's
    # hidden tests (ex6's `assert numpy.isfinite(_p).all(), ...` is in ex5's hidden q)
    exercises = ROOT / "exercises"
    own = [exercises / f"{name}.ipynb", exercises / "tests" / name]
    assert assign.leaks(name, own) == []


def hidden_cell(notebook) -> str:
    """The source of the first hidden test cell of a solution notebook."""
    return next(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.source.lstrip().startswith("# HIDDEN")
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_hidden_test_copied_into_a_student_notebook_is_found(name, tmp_path):
    notebook = student(name)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(hidden_cell(solution(name))))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    found = assign.leaks(name, [tmp_path])
    assert found, (
        f"{name}: a hidden test cell copied into the student notebook went unseen"
    )
    assert all(line.startswith(f"{path}: ") for line in found), found


# --- the command lines ----------------------------------------------------------------------


def run(*command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )


def python(*args: str) -> subprocess.CompletedProcess:
    return run(sys.executable, *args)


@pytest.mark.parametrize(
    "module, commands",
    [
        ("course_tools", ["execute", "links", "book", "seed-cache"]),
        ("course_tools.grading", ["assign", "autograder", "grade"]),
    ],
)
def test_the_commands_answer_help_and_refuse_no_command(module, commands):
    helped = python("-m", module, "--help")
    assert helped.returncode == 0, helped.stderr
    assert f"python -m {module}" in helped.stdout
    assert all(command in helped.stdout for command in commands), helped.stdout
    bare = python("-m", module)
    assert bare.returncode == 2 and "usage:" in bare.stderr, bare.stderr
    assert "Traceback" not in bare.stderr


def test_grade_help_lists_its_options():
    helped = python("-m", "course_tools.grading", "grade", "--help")
    assert helped.returncode == 0, helped.stderr
    for option in ("--exercise", "--out", "--jobs", "--memory", "--timeout"):
        assert option in helped.stdout, option


def test_grading_an_unknown_exercise_lists_the_exercises(tmp_path):
    graded = python(
        "-m", "course_tools.grading", "grade", str(tmp_path), "--exercise", "ex9_nope"
    )
    assert graded.returncode == 2, graded.stderr
    assert "unknown exercise 'ex9_nope'" in graded.stderr
    assert all(name in graded.stderr for name in NAMES), graded.stderr
    assert "Traceback" not in graded.stderr
    assert list(tmp_path.iterdir()) == []  # nothing graded, nothing written


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_grading_a_missing_folder_says_so(tmp_path, kind):
    submissions = tmp_path / "submissions"
    if kind == "a file":
        submissions.write_text("not a folder", encoding="utf-8")
    graded = python(
        "-m", "course_tools.grading", "grade", str(submissions), "--exercise", NAMES[0]
    )
    assert graded.returncode == 2, graded.stderr
    assert "Traceback" not in graded.stderr, graded.stderr[-2000:]
    assert f"{submissions} is not a folder" in graded.stderr, graded.stderr
    assert not (tmp_path / "graded").exists()


def make(*args: str) -> subprocess.CompletedProcess:
    # the caller's EXERCISE, SOLUTIONS, ... would become make's variables
    ours = ("EXERCISE", "SUBMISSIONS", "OUT", "JOBS", "SOLUTIONS", "MAKEFLAGS")
    env = {key: value for key, value in os.environ.items() if key not in ours}
    return run("make", "--no-print-directory", "-o", READY, *args, env=env)


def test_make_grade_without_arguments_prints_its_usage():
    made = make("grade")
    assert made.returncode == 2, made.stdout + made.stderr
    assert (
        "usage: make grade EXERCISE=name SUBMISSIONS=folder [OUT=folder] [JOBS=n]"
        in made.stdout
    ), made.stdout
    assert "course_tools.grading" not in made.stdout  # the grader never started


def test_make_grade_passes_its_arguments_on():
    made = make("-n", "grade", "EXERCISE=ex1_concepts", "SUBMISSIONS=in", "OUT=out")
    assert made.returncode == 0, made.stderr
    assert (
        '-m course_tools.grading grade "in" --exercise ex1_concepts --out "out"'
        in made.stdout
    ), made.stdout


@pytest.mark.parametrize(
    "args, flag", [((), False), (("SOLUTIONS=1",), False), (("SOLUTIONS=0",), True)]
)
def test_make_book_solutions_0_builds_without_solutions(args, flag):
    """The build itself without solutions: tests/test_site.py."""
    made = make("-n", "book", *args)
    assert made.returncode == 0, made.stderr
    assert "-m course_tools book" in made.stdout, made.stdout
    assert ("--without-solutions" in made.stdout) == flag, made.stdout


# --- where an exercise downloads its public tests from ---------------------------------------


def setup_cell(notebook) -> str:
    return next(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and "# @title Set-up" in cell.source
    )


def checked_questions(notebook) -> list[str]:
    """The questions of the notebook's `grader.check("qN")` cells, in order."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "grader.check(" not in cell.source:
            continue
        for node in ast.walk(
            ast.parse(TransformerManager().transform_cell(cell.source))
        ):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "grader.check"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(node.args[0].value)
    return found


class Response:
    def __init__(self, content: bytes):
        self.content = content

    def read(self) -> bytes:
        return self.content

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "path", student_notebook_paths(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_the_set_up_cell_downloads_the_public_tests_from_the_repository(
    path, tmp_path, monkeypatch
):
    """Run the set-up cell as Colab does (no tests beside it, no COURSE_RAW_URL), with a stand-in
    for GitHub that answers from this checkout: every address it asks for is the raw file of
    exercises/tests/NAME/qN.py in the repository and branch of _config.yml, a file git tracks."""
    repository = load_repository()
    raw = f"https://raw.githubusercontent.com/{repository.github_slug}/{repository.branch}/"
    name = path.stem
    notebook = nbformat.read(path, as_version=4)
    asked = []

    def urlopen(url, timeout=None):
        asked.append(url)
        local = ROOT / url[len(raw) :]
        if not url.startswith(raw) or not local.is_file():
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return Response(local.read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.delenv(RAW_URL_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(setup_cell(notebook), str(path), "exec"), namespace)

    questions = checked_questions(notebook)
    assert questions and namespace["QUESTIONS"] == questions
    expected = [f"{raw}exercises/tests/{name}/{q}.py" for q in questions]
    assert asked == expected
    assert namespace["found"] is True, "the set-up cell did not find every test"
    files = [f"exercises/tests/{name}/{q}.py" for q in questions]
    tracked = run("git", "ls-files", "--error-unmatch", *files)
    assert tracked.returncode == 0, tracked.stderr
    for q, file in zip(questions, files, strict=True):
        downloaded = tmp_path / "tests" / name / f"{q}.py"
        assert downloaded.read_bytes() == (ROOT / file).read_bytes()
