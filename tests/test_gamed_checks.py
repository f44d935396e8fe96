"""Checks that cannot be gamed: a submission that games a check scores nothing on it, and the
hidden tests' samples follow the grader's secret (COURSE_GRADING_SECRET), never a seed that
public code shows."""

import re

import numpy
import pytest

from course_tools.grading import assign
from course_tools.grading.batch import load_questions
from course_tools.grading.judge import Judge
from grading_helpers import answer, feedback, grade, student, write

SECRET = "COURSE_GRADING_SECRET"
NAMES = assign.exercise_names()


def _questions(name: str) -> dict[str, dict]:
    return {q["name"]: q for q in load_questions(*assign.grading_tests(name))}


def _case(name: str, question: str, hidden: bool) -> str:
    cases = _questions(name)[question]["cases"]
    return next(case["body"] for case in cases if case["hidden"] == hidden)


class _Values(Judge):
    """The grader's own test runner, with the notebook's values given here instead of fetched
    from a sandbox."""

    def __init__(self, **values):
        super().__init__(session=None, private_dir=None)
        self._given = values

    def fetch(self, name):
        if name not in self._given:
            raise KeyError(name)
        return self._given[name]


class _Recorder:
    """A stand-in model that answers 0 and remembers what the test asked it."""

    def __init__(self):
        import keras

        self.layers, self.inputs = [keras.layers.GRU(1)], []

    def predict(self, x, verbose=0):
        self.inputs.append(numpy.array(x, copy=True))
        return numpy.zeros((len(x), 1), "float32")


def _asked(
    name: str, question: str, hidden: bool, model: str, **values
) -> numpy.ndarray:
    recorder = _Recorder()
    _Values(**{model: recorder}, **values).run_case(
        _case(name, question, hidden), hidden
    )
    assert recorder.inputs, "the test never asked the model"
    return recorder.inputs[0]


# --- hidden samples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_no_hidden_test_draws_from_a_seed_of_public_code(name):
    """A seeded draw in a hidden test (`default_rng(2718)`) can be replayed by anyone who reads
    the public solution; hidden draws come from `_hidden_rng` only."""
    for question in _questions(name).values():
        public = {
            line
            for case in question["cases"]
            if not case["hidden"]
            for line in case["body"].splitlines()
        }
        for case in (case for case in question["cases"] if case["hidden"]):
            hidden_only = [
                line for line in case["body"].splitlines() if line not in public
            ]
            seeded = [
                line for line in hidden_only if re.search(r"default_rng\(\s*\d", line)
            ]
            assert not seeded, f"{name} {question['name']}: {seeded}"
            if any(re.search(r"\brng\b|_rng\b|random", line) for line in hidden_only):
                assert "_hidden_rng(" in case["body"], f"{name} {question['name']}"


REBER_HIDDEN = ("ex5_reber", "q5", True, "reber_model")


def _imdb(hidden: bool, vocabulary: list[str]):
    return ("ex6_imdb", "q3", hidden, "sentiment_model"), {"vocabulary": vocabulary}


#: Enough common words that two different reviews never encode alike.
WORDS = (
    "the a and of to is in it i this that was as for with movie but film on not you are "
    "his have he be one all at by an they who so from like her just about or if has out "
    "what some good there more when very even she my no up would which only really their "
    "see had can were me than much bad well been story get do also will great time people"
).split()
assert len(set(WORDS)) == len(WORDS)


@pytest.mark.parametrize("exercise", ["ex5_reber", "ex6_imdb"])
def test_a_hidden_sample_follows_the_secret_and_nothing_else(exercise, monkeypatch):
    """The same secret draws the same sample at every run (fair, reproducible regrades);
    another secret, or none (fresh randomness), draws another: no public seed gives it."""
    if exercise == "ex5_reber":
        case, values = REBER_HIDDEN, {}
    else:
        case, values = _imdb(True, ["", "[UNK]", *WORDS])

    def sample(secret):
        if secret is None:
            monkeypatch.delenv(SECRET, raising=False)
        else:
            monkeypatch.setenv(SECRET, secret)
        return _asked(*case, **values)

    first = sample("instructor's secret")
    assert numpy.array_equal(first, sample("instructor's secret"))
    assert not numpy.array_equal(first, sample("another secret"))
    assert not numpy.array_equal(sample(None), sample(None))
    if exercise == "ex6_imdb":  # and none of the public check's reviews
        public_case, values = _imdb(False, ["", "[UNK]", *WORDS])
        public = {row.tobytes() for row in _asked(*public_case, **values)}
        shared = [row for row in first if row.tobytes() in public]
        assert len(shared) <= 3, (
            f"{len(shared)} of the public reviews in the hidden sample"
        )


# --- arrays and models that game a check ----------------------------------------------------

#: ex3: steps that return empty (0, batch, units) arrays, which `allclose` broadcasts to a
#: pass; models that ignore their input (zero input kernels); an encoder-decoder whose outputs
#: are NaN, which `not allclose(y, y_other)` took for "depends on the source".
EX3_GAMED = {
    "q1": "def lstm_step(x, h, c, kernel, recurrent_kernel, bias):\n"
    "    empty = np.zeros((0, len(x), kernel.shape[1] // 4), 'float32')\n"
    "    return empty, empty",
    "q2": "def gru_step(x, h, kernel, recurrent_kernel, bias):\n"
    "    return np.zeros((0, len(x), recurrent_kernel.shape[0]), 'float32')",
    "q3": "def lstm_params(features, units):\n"
    "    return 4 * units * (features + units + 1)\n\n\n"
    "def gru_params(features, units):\n"
    "    return 3 * units * (features + units + 2)",
    "q4": "def build_seq2seq(features, units, outputs):\n"
    "    return keras.Sequential([\n"
    "        keras.Input(shape=(None, features)),\n"
    "        keras.layers.GRU(units, return_sequences=True, kernel_initializer='zeros'),\n"
    "        keras.layers.GRU(units, return_sequences=True),\n"
    "        keras.layers.Dense(outputs),\n"
    "    ])\n\n\n"
    "def build_seq2vec(features, units, outputs):\n"
    "    return keras.Sequential([\n"
    "        keras.Input(shape=(None, features)),\n"
    "        keras.layers.LSTM(units, return_sequences=True, kernel_initializer='zeros'),\n"
    "        keras.layers.LSTM(units),\n"
    "        keras.layers.Dense(outputs),\n"
    "    ])",
    "q5": "def build_encoder_decoder(source_features, target_features, units):\n"
    "    source = keras.Input(shape=(None, source_features))\n"
    "    target = keras.Input(shape=(None, target_features))\n"
    "    _, h, c = keras.layers.LSTM(units, return_state=True)(source)\n"
    "    decoded = keras.layers.LSTM(units, return_sequences=True)(\n"
    "        target, initial_state=[h, c]\n"
    "    )\n"
    "    nan = keras.initializers.Constant(float('nan'))\n"
    "    outputs = keras.layers.Dense(\n"
    "        target_features, kernel_initializer='zeros', bias_initializer=nan\n"
    "    )(decoded)\n"
    "    return keras.Model([source, target], outputs)",
}

#: ex4: a good forecast, handed back as (batch, 2): `_p[:, 0]` took the first column.
EX4_GAMED = {
    "q1": "def make_windows(data, targets, sequence_length, sampling_rate=1):\n"
    "    span = (sequence_length - 1) * sampling_rate\n"
    "    count = min(len(data) - span, len(targets))\n"
    "    starts = np.arange(count)[:, None] + np.arange(0, span + 1, sampling_rate)\n"
    "    return data[starts], np.asarray(targets[:count])",
    "q3": "linear = keras.Sequential([\n"
    "    keras.Input(shape=(SEQUENCE_LENGTH, normalized.shape[1])),\n"
    "    keras.layers.Flatten(),\n"
    "    keras.layers.Dense(1),\n"
    "    keras.layers.Rescaling(float(std[TEMPERATURE]), float(mean[TEMPERATURE])),\n"
    "])\n"
    "linear.compile(loss='mae', optimizer=keras.optimizers.Adam(learning_rate=0.003))\n"
    "linear.fit(X_train, y_train, epochs=8, verbose=0)\n"
    "windows = keras.Input(shape=(SEQUENCE_LENGTH, normalized.shape[1]))\n"
    "forecast = linear(windows)\n"
    "forecast_model = keras.Model(windows, keras.layers.Concatenate()([forecast, forecast]))",
}

GAMED = {
    "ex3_lstm_gru": (EX3_GAMED, ["q3"]),  # (answers, the questions answered honestly)
    "ex4_time_series": (EX4_GAMED, ["q1"]),
}


@pytest.mark.parametrize("name", sorted(GAMED))
def test_gamed_answers_score_nothing(name, tmp_path):
    answers, honest = GAMED[name]
    notebook = student(name)
    for question, source in answers.items():
        answer(notebook, question, source)
    _, results = grade(
        name, write(tmp_path / "in", {"gamed.ipynb": notebook}), tmp_path / "out"
    )
    result = results["gamed.ipynb"]
    scores = {q: s for q, s in result["scores"].items() if q in answers}
    expected = {q: (result["possible"][q] if q in honest else 0.0) for q in answers}
    assert scores == expected, feedback(tmp_path / "out", "gamed.ipynb")
