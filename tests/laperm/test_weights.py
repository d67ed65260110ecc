"""laperm.weights: random pruning and weight-agnostic rules for initial weights."""

import keras
import numpy as np
import pytest

from laperm.weights import agnosticize, random_prune


def _weights_equal(a: keras.Model, b: keras.Model) -> list[bool]:
    return [np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights())]


def _wide_model(seed: int = 0) -> keras.Model:
    init = keras.initializers.RandomUniform(0.5, 1.0, seed=seed)
    inputs = keras.Input((100,))
    x = keras.layers.Dense(1000, kernel_initializer=init, bias_initializer=init)(inputs)
    x = keras.layers.Dense(500, kernel_initializer=init, bias_initializer="ones")(x)
    return keras.Model(inputs, x)


def _kept(variable) -> float:
    return float(np.mean(variable.numpy() != 0))


def test_random_prune_kept_fractions():
    model = _wide_model()
    stats = random_prune(model, keep_ratio=0.3, seed=0)
    kernel0, bias0, kernel1, bias1 = model.trainable_variables
    assert abs(_kept(kernel0) - 0.8) < 0.01  # the input layer keeps input_keep_ratio
    assert abs(_kept(kernel1) - 0.3) < 0.01
    assert _kept(bias0) == 1.0 and _kept(bias1) == 1.0
    assert stats[bias0.path]["skipped"] and not stats[kernel1.path]["skipped"]
    assert stats[kernel1.path]["nonzero"] == np.count_nonzero(kernel1.numpy())
    assert stats[kernel1.path]["total"] == 500_000
    assert 0.3 < stats["kept_fraction"] < 0.8


def test_random_prune_options_and_validation():
    model = _wide_model()
    random_prune(model, keep_ratio=0.9, skip_1d=False, seed=1)
    assert abs(_kept(model.trainable_variables[0]) - 0.9) < 0.01  # max(keep, input keep)
    assert abs(_kept(model.trainable_variables[1]) - 0.9) < 0.05  # biases pruned too
    a, b = _wide_model(), _wide_model()
    random_prune(a, 0.5, seed=7)
    random_prune(b, 0.5, seed=7)
    assert all(_weights_equal(a, b))
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError):
            random_prune(a, bad)


def test_agnosticize_single_fraction():
    model = _wide_model()
    stats = agnosticize(model, 0.03, 0.25, seed=0)
    for variable in model.trainable_variables:
        values = variable.numpy()
        assert set(np.unique(values)) <= {np.float32(0.0), np.float32(0.03)}
        assert stats[variable.path]["nonzero"] == np.count_nonzero(values)
        assert stats[variable.path]["total"] == values.size
    assert abs(_kept(model.trainable_variables[2]) - 0.25) < 0.01
    assert abs(stats["kept_fraction"] - 0.25) < 0.01


def test_agnosticize_per_variable_rules_and_tuple_draw():
    model = _wide_model()
    agnosticize(model, 0.08, [(1, 4), 0.5, (4, 7), 1.0], seed=11)
    kernel0, _, kernel1, bias1 = model.trainable_variables
    expected = np.random.RandomState(11).randint(1, 5, size=(100, 1000)) <= 1
    np.testing.assert_array_equal(kernel0.numpy() != 0, expected)
    assert abs(_kept(kernel1) - 4 / 7) < 0.01
    assert _kept(bias1) == 1.0
    single = _wide_model()
    agnosticize(single, 0.08, (4, 7), seed=2)  # one (keep, total) rule for all
    assert abs(_kept(single.trainable_variables[2]) - 4 / 7) < 0.01


def test_agnosticize_rejects_bad_rules_without_touching_weights():
    model = _wide_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="4 trainable variables"):
        agnosticize(model, 0.1, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError):
        agnosticize(model, 0.1, [0.5, 0.5, 0.5, (5, 4)])
    with pytest.raises(ValueError):
        agnosticize(model, 0.1, 0.0)
    assert all(np.array_equal(x, y) for x, y in zip(before, model.get_weights()))
