"""The grading command on hostile submissions: the batch never stops, and no trick scores.

Every submission below answers q1 and q3 of the concepts exercise honestly (4 points) and then
tries something. None may score more than those 4 points, each gets a feedback file that says
what happened, and the batch grades them all.
"""

import base64
import csv
import io
import json

import nbformat
import numpy as np
import pytest

from course_tools.grading import protocol
from course_tools.grading.judge import Judge, Opaque
from grading_helpers import answer, feedback, grade, insert_after, student, total, write

EXERCISE = "ex1_concepts"
HONEST_POINTS = 4  # q1 and q3 below
Q1 = 'q1_kinds = ["seq2seq", "seq2vec", "vec2seq", "encoder-decoder"] * 2'
Q3 = "q3_seq2seq = [True, True, True]\nq3_seq2vec = [True, True, False]"

TRICKS = {
    "infinite_loop": ["while True:\n    pass"],
    "stubborn_loop": [
        "import time\n\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except BaseException:\n        pass"
    ],
    "memory_hog": ["hog = bytearray(64 * 1024**3)"],
    "memory_creep": ["hog = [bytearray(256 * 1024**2) for _ in range(200)]"],
    # shared memory, which RLIMIT_DATA does not count: only the grader's watchdog sees it
    "memory_shared": [
        "import mmap\nimport time\n\n"
        "shared = mmap.mmap(-1, 3 * 1024**3, flags=mmap.MAP_SHARED)\n"
        "chunk = b'x' * 64 * 1024**2\n"
        "for start in range(0, len(shared), len(chunk)):\n"
        "    shared[start : start + len(chunk)] = chunk\n"
        "time.sleep(5)  # in this cell, the watchdog's next look (every 0.25 s) ends it"
    ],
    "sys_exit": ["import sys\n\nsys.exit(0)"],
    "os_exit": ["import os\n\nos._exit(0)"],
    "crashed_kernel": ["import ctypes\n\nctypes.string_at(0)"],
    "redefines_checks": [
        # fake checks, answers that equal everything, builtins that agree with anything
        "import builtins\n\nimport otter\n\n"
        "grader.check = lambda *args, **kwargs: print('All tests passed')\n"
        "otter.Notebook.check = grader.check\n"
        "class Anything(tuple):\n"
        "    def __eq__(self, other):\n        return True\n\n"
        "    def __len__(self):\n        return 6\n\n"
        "    __hash__ = tuple.__hash__\n\n"
        "q2_ndim = q2_axes = q2_shapes = Anything()\n"
        "builtins.isinstance = lambda *args: True\n"
        "builtins.len = lambda obj: 6",
        'grader.check("q2")',
    ],
    "prints_pass": [
        "print('All tests passed!')\n"
        "for q in ['q1', 'q2', 'q3', 'q4', 'q5', 'q6']:\n"
        "    print(f'{q} results: All test cases passed! {q} - 1 result: ✅ Test case passed')"
    ],
    "reads_and_overwrites_tests": [
        "import pathlib\n\n"
        "for path in pathlib.Path('tests').rglob('*.py'):\n"
        "    print(path, path.read_text()[:100])\n"
        '    path.write_text(\'OK_FORMAT = True\\ntest = {"name": "x", "points": 2, \'\n'
        '                    \'"suites": [{"cases": [], "type": "doctest"}]}\')\n'
        "for guess in ['../tests', '../autograder/tests', '/autograder/source/tests']:\n"
        "    try:\n        print(guess, list(pathlib.Path(guess).iterdir()))\n"
        "    except OSError as error:\n        print(guess, error)\n"
        "q2_ndim, q2_axes, q2_shapes = 4, ('time',), []",
        'grader.check("q2")',
    ],
}
MESSAGES = {
    "infinite_loop": "time limit",
    "stubborn_loop": "ignored the interrupt",
    "memory_hog": "memory limit",
    "memory_creep": "memory limit",
    "memory_shared": "it used more than the memory limit",  # the watchdog's words
    "sys_exit": "sys.exit()",
    "os_exit": "exited with status 0",
    "crashed_kernel": "SIGSEGV",
}


def hostile(tricks: list[str]) -> nbformat.NotebookNode:
    notebook = student(EXERCISE)
    answer(notebook, "q1", Q1)
    insert_after(notebook, "q1", *tricks)
    answer(notebook, "q3", Q3)
    return notebook


#: Tricks that fill memory: the watchdog ends them once they pass the limit, which can take longer
#: than the short cell time limit of the other tricks on a machine busy with other work (a CI run
#: once needed more than 10 s to fill 2.25 GiB). They get a batch with a generous cell limit.
MEMORY_TRICKS = ("memory_hog", "memory_creep", "memory_shared")


@pytest.fixture(scope="module")
def graded_memory(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-memory")
    files = {f"{name}.ipynb": hostile(TRICKS[name]) for name in MEMORY_TRICKS}
    folder = write(root / "submissions", files)
    batch, results = grade(EXERCISE, folder, root / "graded", cell_timeout=120)
    return root / "graded", batch, results


@pytest.fixture
def graded_for(request):
    """The batch that graded a trick: the memory batch or the main one."""

    def batch(name):
        return request.getfixturevalue(
            "graded_memory" if name in MEMORY_TRICKS else "graded"
        )

    return batch


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    files = {
        f"{name}.ipynb": hostile(tricks)
        for name, tricks in TRICKS.items()
        if name not in MEMORY_TRICKS
    }
    files["honest.ipynb"] = hostile([])
    files["not_json.ipynb"] = "{ this is not a notebook"
    files["essay.pdf"] = b"%PDF-1.4 not a notebook"
    files["answers.py"] = Q1 + "\n"
    folder = write(root / "submissions", files)
    batch, results = grade(EXERCISE, folder, root / "graded", cell_timeout=10)
    return root / "graded", batch, results


def test_every_file_is_graded_and_listed(graded):
    out, _, results = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(results)
    assert len(rows) == len(TRICKS) - len(MEMORY_TRICKS) + 4
    assert list(next(iter(rows.values())))[1:] == [
        *[f"q{i}" for i in range(1, 7)],
        "total",
        "status",
    ]
    for name, row in rows.items():
        assert float(row["total"]) == total(results[name])
        assert (out / "feedback" / f"{name}.md").exists()


def test_honest_work_scores_its_points(graded):
    _, _, results = graded
    assert results["honest.ipynb"]["scores"] == {
        "q1": 2,
        "q2": 0,
        "q3": 2,
        "q4": 0,
        "q5": 0,
        "q6": 0,
    }


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_no_trick_scores_more_than_the_honest_work(graded_for, name):
    _, _, results = graded_for(name)
    result = results[f"{name}.ipynb"]
    assert result["status"] == "graded", result["messages"]
    assert result["scores"]["q2"] == 0
    assert total(result) <= HONEST_POINTS
    # the honest cells around the trick still count, even after a killed kernel
    assert result["scores"]["q1"] == 2 and result["scores"]["q3"] == 2, result


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_feedback_says_what_happened(graded_for, name):
    out, _, _ = graded_for(name)
    text = feedback(out, f"{name}.ipynb")
    # on failure, show what the feedback said instead (pytest cuts the middle of long strings)
    assert MESSAGES[name] in text, text.partition("## Running your notebook")[2]


@pytest.mark.parametrize(
    "name, message",
    [
        ("not_json.ipynb", "not a valid notebook"),
        ("essay.pdf", "not a Jupyter notebook"),
        ("answers.py", "not a Jupyter notebook"),
    ],
)
def test_files_that_are_not_notebooks_score_zero_with_a_reason(graded, name, message):
    out, _, results = graded
    assert results[name]["status"] == "invalid" and total(results[name]) == 0
    assert message in feedback(out, name)


def test_overwritten_public_tests_do_not_change_the_grade(graded):
    out, batch, results = graded
    text = feedback(out, "reads_and_overwrites_tests.ipynb")
    assert "count the axes of X" in text  # the real q2 test ran, not the student's copy
    assert not batch.warnings


def test_a_rerun_grades_only_new_or_changed_submissions(graded, tmp_path):
    out, batch, _ = graded
    folder = batch.submissions
    again, _ = grade(EXERCISE, folder, out, cell_timeout=10)
    assert again.graded_now == []
    changed = hostile([])
    answer(changed, "q6", 'q6_erase = "forget"')
    nbformat.write(changed, folder / "honest.ipynb")
    again, results = grade(EXERCISE, folder, out, cell_timeout=10)
    assert again.graded_now == ["honest.ipynb"]
    assert (
        results["honest.ipynb"]["tests"]["q6"][0]["passed"] is False
    )  # a partial answer
    cached = json.loads(
        (out / ".cache" / "honest.ipynb.json").read_text(encoding="utf-8")
    )
    assert cached["result"] == results["honest.ipynb"]


# --- the pieces, without a sandbox ----------------------------------------------------------


class FakeSession:
    """Answers the judge's requests from a dict, as an honest sandbox would."""

    def __init__(self, values: dict):
        self.values = values

    def request(self, message, timeout=None):
        if message["op"] == "get":
            if message["name"] not in self.values:
                return {"missing": True}
            return {"value": protocol.encode(self.values[message["name"]])}
        raise AssertionError(message)


def test_plain_data_crosses_and_nothing_else():
    value = {
        "a": [1, 2.5, float("nan")],
        ("t", 1): {1, 2},
        "x": np.arange(3.0),
        "e": ...,
    }
    decoded = protocol.decode(json.loads(json.dumps(protocol.encode(value))))
    assert decoded.keys() == value.keys() and decoded[("t", 1)] == {1, 2}
    np.testing.assert_array_equal(decoded["x"], value["x"])
    with pytest.raises(TypeError):
        protocol.encode(np.array([object()], dtype=object))
    # a pickled object array forged by the sandbox is refused, not unpickled
    pickled = io.BytesIO()
    np.save(pickled, np.array([1, "x"], dtype=object), allow_pickle=True)
    forged = {"$": "ndarray", "v": base64.b64encode(pickled.getvalue()).decode()}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(forged)
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$": "pickle", "v": "gASVAAAA"})


def test_tests_read_the_notebook_values_lazily_and_hide_hidden_sources(tmp_path):
    judge = Judge(FakeSession({"answer": 3, "shapes": [(1, 2)]}), tmp_path)
    assert judge.run_case(
        ">>> assert answer == 3\n>>> assert shapes == [(1, 2)]\n", False
    ) == (
        True,
        "",
    )
    passed, message = judge.run_case(">>> assert answer == 4, 'wrong answer'\n", True)
    assert not passed and message == "AssertionError: wrong answer"
    passed, message = judge.run_case(">>> assert answer == 4, 'wrong answer'\n", False)
    assert "assert answer == 4" in message  # public tests show their source
    passed, message = judge.run_case(">>> assert missing == 1\n", False)
    assert not passed and "NameError" in message


def test_an_object_the_grader_cannot_read_equals_nothing():
    opaque = Opaque("Anything")
    assert opaque != opaque and opaque != 1
    with pytest.raises(TypeError):
        bool(opaque)
