"""Every exercise: its student notebook is up to date, hides the hidden tests, works offline;
its solution scores full marks and the untouched student notebook zero through the grader."""

import re
import zipfile

import pytest

from course_tools.book_config import load_repository
from course_tools.grading import assign
from grading_helpers import (
    answer,
    feedback,
    grade,
    insert_after,
    solved,
    student,
    total,
    write,
)

NAMES = assign.exercise_names()

# name -> (the question answered honestly, its answer, the trick cells, the check cell they
# follow). Only the honest question may score.
TAMPERED = {
    "ex2_recurrent_neuron": (
        "q3",
        "def simple_rnn_params(features, units):\n    return units * (features + units + 1)",
        [
            "import keras\nimport numpy as np\n\n"
            "np.allclose = lambda *args, **kwargs: True\n"
            "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
            "np.array_equal = lambda *args, **kwargs: True\n"
            "keras.ops.convert_to_numpy = lambda x: np.zeros(1)\n"
            "keras.Model.count_params = lambda self: 0\n\n\n"
            "class Same(np.ndarray):\n"
            "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n\n\n"
            "def simple_rnn_forward(X, W_x, W_y, b, return_sequences=False):\n"
            "    return np.zeros(1).view(Same)\n\n\n"
            "def deep_rnn_forward(X, layers):\n    return np.zeros(1).view(Same)\n\n\n"
            "q4_params = [0, 0, 0]",
            'grader.check("q1")',
        ],
        "q1",  # monkeypatching NumPy and Keras so that every comparison passes
    ),
    "ex6_imdb": (
        "q1",
        "def pad_front(sequences, length):\n"
        "    return keras.utils.pad_sequences(sequences, maxlen=length).astype('int32')",
        [
            # the test reviews' labels, read from disk, smuggled through `encode` into a model
            # that only has to read them back
            "labels_on_disk = {\n"
            "    path.read_text(encoding='utf-8'): label\n"
            "    for label, name in enumerate(['neg', 'pos'])\n"
            "    for path in (data_dir / 'test' / name).glob('*.txt')\n"
            "}\n\n\n"
            "def encode(reviews):\n"
            "    return np.array(\n"
            "        [[2 + labels_on_disk.get(review, 0)] * 200 for review in reviews], 'int32'\n"
            "    )",
            "sentiment_model = keras.Sequential([\n"
            "    keras.Input((200,), dtype='int32'),\n"
            "    keras.layers.Embedding(10_000, 4),\n"
            "    keras.layers.SimpleRNN(4),\n"
            "    keras.layers.Dense(1, activation='sigmoid'),\n"
            "])\n"
            "sentiment_model.compile(optimizer='adam', loss='binary_crossentropy')\n"
            "sentiment_model.fit(\n"
            "    np.array([[3] * 200, [2] * 200] * 64, 'int32'), np.array([1.0, 0.0] * 64),\n"
            "    epochs=40, verbose=0,\n"
            ")",
        ],
        "q3",
    ),
}


def test_there_are_at_least_three_exercises():
    assert len(NAMES) >= 3, f"only {len(NAMES)} exercises: {NAMES}"
    assert {"ex1_concepts", "ex2_recurrent_neuron"} <= set(NAMES)


@pytest.fixture(scope="module", params=NAMES)
def graded(request, tmp_path_factory):
    name = request.param
    files = {"solution.ipynb": solved(name), "untouched.ipynb": student(name)}
    if name in TAMPERED:
        question, honest, tricks, after = TAMPERED[name]
        notebook = student(name)
        insert_after(notebook, after, *tricks)
        answer(notebook, question, honest)
        files["tampered.ipynb"] = notebook
    root = tmp_path_factory.mktemp(name)
    _, results = grade(name, write(root / "in", files), root / "out")
    return name, root / "out", results


def test_the_solution_scores_full_marks(graded):
    """The student notebook answered with the solution's code, as a student hands it in (no
    test cell of the solution in it), scores full marks. It is also the solution's code's run at
    the ceiling (nbval skips solutions/): every cell must run without error. The solution
    notebook itself, test cells included, runs at the floor (tests/test_floor.py)."""
    name, out, results = graded
    assert assign.leaks(name, [out.parent / "in" / "solution.ipynb"]) == []
    result = results["solution.ipynb"]
    assert result["cells"] == [], result["cells"]
    assert result["scores"] == result["possible"], feedback(out, "solution.ipynb")


def test_the_untouched_notebook_runs_to_its_end_and_scores_zero(graded):
    _, out, results = graded
    result = results["untouched.ipynb"]
    assert result["status"] == "graded", result
    # cells that use unfinished functions may raise; none may hang or end the kernel
    assert {cell["status"] for cell in result["cells"]} <= {"error"}, result["cells"]
    assert all(score == 0 for score in result["scores"].values()), result["scores"]


@pytest.mark.parametrize("graded", sorted(TAMPERED), indirect=True)
def test_patched_modules_and_fake_functions_score_nothing(graded):
    name, out, results = graded
    result = results["tampered.ipynb"]
    honest = TAMPERED[name][0]
    assert result["scores"][honest] == result["possible"][honest]
    assert total(result) == result["possible"][honest], feedback(out, "tampered.ipynb")


@pytest.mark.parametrize("name", NAMES)
def test_the_student_notebook_is_up_to_date(name):
    assert assign.staleness(name) == []


@pytest.mark.parametrize("name", NAMES)
def test_questions_have_public_and_hidden_tests(name):
    from course_tools.grading.otter_format import load_questions

    questions = load_questions(*assign.grading_tests(name))
    assert 3 <= len(questions) <= 6
    for question in questions:
        hidden = [case for case in question["cases"] if case["hidden"]]
        public = [case for case in question["cases"] if not case["hidden"]]
        assert hidden and public, question["name"]
    shown = "\n".join(cell.source for cell in student(name).cells) + "".join(
        path.read_text(encoding="utf-8")
        for path in (assign.EXERCISES / "tests" / name).glob("*.py")
    )
    public = "".join(
        c["body"] for q in questions for c in q["cases"] if not c["hidden"]
    )
    for question in questions:
        for case in (case for case in question["cases"] if case["hidden"]):
            lines = [line[4:] for line in case["body"].splitlines() if len(line) > 44]
            distinctive = [line for line in lines if line not in public]
            assert distinctive, (
                f"{name} {question['name']}: a hidden test repeats a public one"
            )
            leaked = [line for line in distinctive if line in shown]
            assert not leaked, f"hidden test lines in the student files: {leaked}"


@pytest.mark.parametrize("name", NAMES)
def test_the_student_notebook_gets_its_tests_from_the_configured_repository(name):
    repository = load_repository()
    notebook = (assign.EXERCISES / f"{name}.ipynb").read_text(encoding="utf-8")
    prefix = f"https://raw.githubusercontent.com/{repository.github_slug}/{repository.branch}"
    assert prefix in notebook
    assert f"otter-grader=={assign.otter_version()}" in notebook
    assert "File → Download → Download .ipynb" in notebook


def test_the_gradescope_zip_holds_every_test(tmp_path):
    folder = assign.autograder(NAMES[0])
    with zipfile.ZipFile(folder / f"{NAMES[0]}-autograder.zip") as archive:
        names = archive.namelist()
        # the course's grader generates every test, hidden ones too, from this solution
        archive.extract(f"solutions/{NAMES[0]}.ipynb", tmp_path)
        environment = archive.read("requirements-gradescope.txt").decode()
    hidden = assign.hidden_lines(NAMES[0])
    assert hidden and len(assign.leaks(NAMES[0], [tmp_path])) == len(hidden)
    assert "run_autograder" in names and "course_tools/grading/batch.py" in names
    for package in ("tensorflow", "otter-grader"):
        assert re.search(rf"^{package}==", environment, re.MULTILINE), package
