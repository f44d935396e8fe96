"""The Gradescope autograder zip grades like `make grade`: built by `make autograder`, unpacked in
a temporary folder laid out like Gradescope's `/autograder` and run there offline with this
environment's Python (setup.sh, which installs that environment, is only checked)."""

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_tools import ROOT
from course_tools.grading import assign, gradescope
from grading_helpers import insert_after, solution, student, write

NAME = "ex1_concepts"
#: The cell that made otter's stock autograder give the untouched notebook full marks.
SUMMARIZE_PATCH = (
    "import doctest\n\n"
    "doctest.DocTestRunner.summarize = lambda self, verbose=None: doctest.TestResults(0, 1)"
)
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def autograder_zip() -> Path:
    return assign.autograder(NAME) / f"{NAME}-autograder.zip"


@pytest.fixture(scope="module")
def questions(autograder_zip) -> list[str]:
    return json.loads((autograder_zip.parent / "questions.json").read_text())


def run_autograder(zip_path: Path, tmp_path: Path, files: dict, **env) -> dict:
    """Unpack the zip into tmp/source, put `files` in tmp/submission, run run_autograder as
    Gradescope does; return results/results.json, checked against Gradescope's format."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    write(root / "submission", files)
    environment = {
        **os.environ,
        gradescope.ROOT_ENV: str(root),
        gradescope.PYTHON_ENV: sys.executable,
        **env,
    }
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.monotonic() - started
    print(f"run_autograder: {seconds:.1f} s")  # the run time, in pytest's report (-rA)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert isinstance(results["score"], int | float) and isinstance(
        results["output"], str
    )
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert (
            test["visibility"] in VISIBILITY and 0 <= test["score"] <= test["max_score"]
        )
    assert results["score"] == sum(test["score"] for test in results["tests"])
    results["seconds"] = seconds
    return results


def scores(results: dict) -> dict[str, tuple[float, float]]:
    return {t["name"]: (t["score"], t["max_score"]) for t in results["tests"]}


def test_the_solution_scores_full_marks(autograder_zip, questions, tmp_path):
    results = run_autograder(
        autograder_zip, tmp_path, {f"{NAME}.ipynb": solution(NAME)}
    )
    assert [test["name"] for test in results["tests"]] == questions
    assert results["score"] == 13 == sum(t["max_score"] for t in results["tests"])
    assert "Isolation:" in results["output"]


def test_the_untouched_student_notebook_scores_zero(
    autograder_zip, questions, tmp_path
):
    results = run_autograder(autograder_zip, tmp_path, {f"{NAME}.ipynb": student(NAME)})
    assert [test["name"] for test in results["tests"]] == questions
    assert results["score"] == 0
    assert all("failed:" in test["output"] for test in results["tests"])


def test_a_patched_doctest_in_the_notebook_scores_zero(autograder_zip, tmp_path):
    notebook = student(NAME)
    insert_after(notebook, "q1", SUMMARIZE_PATCH)
    results = run_autograder(autograder_zip, tmp_path, {f"{NAME}.ipynb": notebook})
    assert results["score"] == 0, scores(results)


@pytest.mark.parametrize("otter", [None, {"assignment_name": "ex9_other"}])
def test_a_notebook_without_its_otter_metadata_is_graded(
    autograder_zip, tmp_path, otter
):
    notebook = solution(NAME)
    notebook.metadata.pop("otter", None)
    if otter is not None:
        notebook.metadata["otter"] = otter
    results = run_autograder(autograder_zip, tmp_path, {"my work.ipynb": notebook})
    assert results["score"] == 13, scores(results)
    assert "my work.ipynb" in results["output"]


def test_a_file_that_is_no_notebook_gets_a_message_and_zero(
    autograder_zip, questions, tmp_path
):
    results = run_autograder(
        autograder_zip, tmp_path, {"answers.pdf": b"%PDF-1.4 not a notebook"}
    )
    assert results["score"] == 0
    assert "no Jupyter notebook (.ipynb file)" in results["output"]
    assert "answers.pdf" in results["output"]
    assert [test["name"] for test in results["tests"]] == questions  # points listed


def test_a_broken_notebook_file_is_named_with_its_problem(autograder_zip, tmp_path):
    results = run_autograder(autograder_zip, tmp_path, {f"{NAME}.ipynb": "{ not json"})
    assert results["score"] == 0
    assert f"{NAME}.ipynb is not a valid notebook (not JSON" in results["output"]


def test_several_notebooks_are_refused_and_weak_isolation_is_reported(
    autograder_zip, tmp_path
):
    files = {"a.ipynb": solution(NAME), "b.ipynb": student(NAME)}
    results = run_autograder(
        autograder_zip, tmp_path, files, COURSE_GRADING_ISOLATION="none"
    )
    assert results["score"] == 0
    assert "2 notebooks (a.ipynb, b.ipynb): submit one" in results["output"]
    assert "WARNING: NO SANDBOX ISOLATION" in results["output"]


def test_the_zip_installs_only_what_grading_needs(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        pins = archive.read("requirements-gradescope.txt").decode().splitlines()[1:]
        shipped = nbformat.reads(
            archive.read(f"solutions/{NAME}.ipynb").decode(), as_version=4
        )
        grader = archive.read("course_tools/grading/worker.py")
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert all(re.fullmatch(r"[\w.-]+==[\w.+!-]+", pin) for pin in pins), pins
    names = {pin.split("==")[0] for pin in pins}
    assert {"tensorflow", "keras", "otter-grader", "ruff", "ipython"} <= names
    assert not names & {"playwright", "jupyter-book", "sphinx-book-theme", "pytest"}
    # no installer or browser from the web: pip from the pinned list, and get_file's data
    assert not re.search(r"curl|wget|github|playwright|chromium", setup, re.I)
    assert "--no-deps" in setup and "requirements-gradescope.txt" in setup
    subprocess.run(["bash", "-n"], input=setup, text=True, check=True)
    assert not any(c.get("outputs") for c in shipped.cells)
    assert grader == (ROOT / "course_tools/grading/worker.py").read_bytes()


def test_the_zip_is_built_from_the_private_solutions_folder(tmp_path, monkeypatch):
    notebook = solution(NAME)
    notebook.cells.append(nbformat.v4.new_code_cell("# a private marker"))
    nbformat.write(notebook, tmp_path / f"{NAME}.ipynb")
    monkeypatch.setenv(assign.PRIVATE_ENV, str(tmp_path))
    files = gradescope.contents(NAME)
    assert b"# a private marker" in files[f"solutions/{NAME}.ipynb"]


def test_the_zip_lists_the_datasets_the_solution_loads():
    assert gradescope.datasets("ex4_time_series") == {
        "jena_climate_2009_2016.csv.zip": "https://storage.googleapis.com/tensorflow/"
        "tf-keras-datasets/jena_climate_2009_2016.csv.zip"
    }


def test_setup_fetches_the_datasets_with_get_file(tmp_path):
    from course_tools.datasets import OFFLINE_DATASETS
    from course_tools.grading import gradescope_grade

    offline = OFFLINE_DATASETS / "airline-passengers.csv"
    if not offline.is_file():
        pytest.skip(f"no offline copy of {offline.name} to fetch from")
    # get_file from a file:// address stands in for the canonical one (no network here)
    problems = gradescope_grade.fetch({offline.name: offline.as_uri()}, tmp_path)
    assert problems == []
    assert (tmp_path / "datasets" / offline.name).read_bytes() == offline.read_bytes()
    missing = {"nothing.csv": (tmp_path / "absent.csv").as_uri()}
    assert (
        "could not download nothing.csv" in gradescope_grade.fetch(missing, tmp_path)[0]
    )
