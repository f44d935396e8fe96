"""Every notebook as a student meets it: at the floor of the supported range (Colab's oldest
libraries we support, requirements-floor.txt), copied alone into an empty folder, in quick mode,
with nothing of this repository importable. The exercise notebooks, untouched, fetch their public
tests from a local stand-in for the repository's raw-file address and install their checking
tools the way Colab does."""

import nbformat
import pytest

from conftest import executed_notebook_paths, student_notebook_paths
from course_tools import ROOT, floor
from course_tools.grading import assign

LECTURE_AND_SOLUTIONS = executed_notebook_paths()
STUDENT = student_notebook_paths()


def rel(path):
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def raw_url():
    with floor.raw_file_server() as url:
        yield url


@pytest.fixture(scope="module")
def floor_packages():
    return floor.installed_names(floor._site_packages(floor.floor_python()))


def errors(notebook) -> list[tuple[int, str]]:
    return [
        (index, f"{output.ename}: {output.evalue}"[:300])
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def text_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize(
    "path", LECTURE_AND_SOLUTIONS, ids=map(rel, LECTURE_AND_SOLUTIONS)
)
def test_runs_alone_at_the_floor(path, tmp_path):
    run = floor.run_alone(path, tmp_path, allow_errors=True)
    assert errors(run.notebook) == [], f"{rel(path)} fails at the floor"
    assert run.installed == set(), "an install cell installed something Colab has"


@pytest.mark.parametrize("path", STUDENT, ids=map(rel, STUDENT))
def test_the_untouched_exercise_runs_alone_at_the_floor(
    path, tmp_path, raw_url, floor_packages
):
    run = floor.run_alone(path, tmp_path, raw_url=raw_url, allow_errors=True)
    cells = run.notebook.cells
    setup = next(c for c in cells if "def tests_folder()" in c.source)
    checks = [c for c in cells if c.source.lstrip().startswith("grader.check")]
    # Unfinished answers may raise in their own cells; the set-up, every check and the
    # isolation check (the last cell) must not.
    assert not errors(nbformat.v4.new_notebook(cells=[setup, *checks, cells[-1]]))
    assert "Could not" not in text_of(setup), text_of(setup)
    name = path.stem
    questions = assign.question_names(assign._read(ROOT / "solutions" / path.name))
    for question in questions:
        assert (run.folder / "tests" / name / f"{question}.py").is_file()
    for check in checks[:-1]:  # each question's check reports its failed tests
        assert "results" in text_of(check) and "set-up cell" not in text_of(check)
    # Checking needs only otter and what it imports that Colab lacks: nothing Colab ships
    # is replaced, and nothing big (Sphinx, Playwright) comes along.
    assert run.installed == {name.lower() for name in assign.CHECK_PACKAGES}
    assert not run.installed & floor_packages


def setup_and_checks(tmp_path):
    """The first exercise cut down to its set-up cell and two check cells, alone in a folder."""
    path = STUDENT[0]
    notebook = nbformat.read(path, as_version=4)
    setup = next(c for c in notebook.cells if "def tests_folder()" in c.source)
    checks = [c for c in notebook.cells if c.source.lstrip().startswith("grader.check")]
    notebook.cells = [setup, checks[0], checks[-1]]
    lone = tmp_path / "in" / path.name
    lone.parent.mkdir()
    nbformat.write(notebook, lone)
    return path, lone


def test_a_failed_download_says_what_to_do(tmp_path, raw_url):
    """An address that serves nothing (an instructor's fork not yet published): one short
    message, then every check cell asks for the set-up cell instead of raising NameError."""
    path, lone = setup_and_checks(tmp_path)
    run = floor.run_alone(lone, tmp_path / "out", raw_url=f"{raw_url}/no-such-fork")
    message = text_of(run.notebook.cells[0])
    assert message.startswith("Could not download the public tests"), message
    assert f"{raw_url}/no-such-fork/exercises/tests/{path.stem}/q1.py" in message
    assert "HTTP Error 404" in message or "Not Found" in message, message
    assert "ask your instructor" in message and len(message.splitlines()) <= 4, message
    for check in run.notebook.cells[1:3]:
        assert "run the set-up cell first" in text_of(check)
    assert not (run.folder / "tests" / path.stem / "q1.py").exists()


def test_a_failed_install_says_what_to_do(tmp_path, raw_url):
    """No package index (a session offline): one short message instead of pip's, and the
    check cells ask for the set-up cell."""
    _, lone = setup_and_checks(tmp_path)
    offline = {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "",
        "PIP_CONFIG_FILE": "/dev/null",
    }
    run = floor.run_alone(lone, tmp_path / "out", raw_url=raw_url, env=offline)
    output = text_of(run.notebook.cells[0])
    assert output.startswith("Could not install otter-grader"), output
    assert "Reason: " in output and "online" in output and len(output.splitlines()) <= 3
    assert run.installed == set()
    for check in run.notebook.cells[1:3]:
        assert "run the set-up cell first" in text_of(check)
