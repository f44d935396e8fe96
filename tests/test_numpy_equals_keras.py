"""The NumPy recurrent layers written in the notebooks compute exactly what Keras computes.

The functions are taken from the notebooks themselves and checked with random weights (not Keras's
initial ones, whose zero biases could hide a mistake) over several shapes.
"""

import keras
import numpy as np
import pytest

from course_tools import ROOT
from notebook_code import load_functions

SHAPES = [
    (1, 1, 1, 1),
    (3, 7, 4, 5),
    (2, 25, 1, 16),
    (6, 3, 10, 2),
]  # batch, steps, features, units


# The notebook's own helpers: unroll a step function over time, give a layer random weights.
_HELPERS = load_functions(
    ROOT / "notebooks/04_lstm_gru.ipynb", "unroll", "random_weights"
)
unroll, random_weights = _HELPERS["unroll"], _HELPERS["random_weights"]


def built(layer, X):
    """Build `layer` for inputs shaped like X, so its weights exist before we overwrite them."""
    layer.build((None, *X.shape[1:]))
    return layer


@pytest.fixture(scope="module")
def chapter2():
    return load_functions(
        ROOT / "notebooks/02_recurrent_neurons.ipynb", "simple_rnn_forward"
    )


@pytest.fixture(scope="module")
def chapter4():
    return load_functions(
        ROOT / "notebooks/04_lstm_gru.ipynb", "sigmoid", "lstm_step", "gru_step"
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_simple_rnn_forward(chapter2, shape, return_sequences):
    batch, steps, features, units = shape
    rng = np.random.default_rng(sum(shape))
    X = rng.normal(size=(batch, steps, features)).astype("float32")
    layer = built(keras.layers.SimpleRNN(units, return_sequences=return_sequences), X)
    W_x, W_y, b = random_weights(layer, rng)
    ours = chapter2["simple_rnn_forward"](
        X, W_x, W_y, b, return_sequences=return_sequences
    )
    expected = keras.ops.convert_to_numpy(layer(X))
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_step(chapter4, shape):
    batch, steps, features, units = shape
    rng = np.random.default_rng(sum(shape) + 1)
    X = rng.normal(size=(batch, steps, features)).astype("float32")
    layer = built(keras.layers.LSTM(units, return_sequences=True), X)
    weights = random_weights(layer, rng)
    ours = unroll(chapter4["lstm_step"], X, 2, units, *weights)
    np.testing.assert_allclose(
        ours, keras.ops.convert_to_numpy(layer(X)), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_step(chapter4, shape, reset_after):
    batch, steps, features, units = shape
    rng = np.random.default_rng(sum(shape) + 2)
    X = rng.normal(size=(batch, steps, features)).astype("float32")
    layer = built(
        keras.layers.GRU(units, return_sequences=True, reset_after=reset_after), X
    )
    weights = random_weights(layer, rng)
    ours = unroll(chapter4["gru_step"], X, 1, units, *weights, reset_after=reset_after)
    np.testing.assert_allclose(
        ours, keras.ops.convert_to_numpy(layer(X)), rtol=1e-4, atol=1e-5
    )


def test_a_wrong_gate_order_is_caught(chapter4):
    """The comparison is sharp enough to notice swapped gates (i and f exchanged)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 6, 3)).astype("float32")
    layer = built(keras.layers.LSTM(4, return_sequences=True), X)
    kernel, recurrent, bias = random_weights(layer, rng)

    def swap(w):
        i, f, g, o = np.split(w, 4, axis=-1)
        return np.concatenate([f, i, g, o], axis=-1)

    ours = unroll(
        chapter4["lstm_step"], X, 2, 4, swap(kernel), swap(recurrent), swap(bias)
    )
    assert not np.allclose(ours, keras.ops.convert_to_numpy(layer(X)), atol=1e-3)
