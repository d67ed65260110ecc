"""Slot layers: values come from the K candidates, selection rules, gradients, inits, round trip."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.slot_machines.layers import (
    SlotConv2D,
    SlotDense,
    SlotMachineLayers,
    SlotScores,
    SlotValues,
    glorot_bound,
    select_slot,
    validate_slots,
)
from masktrainer.methods.slot_machines.recorder import (
    changed_fractions,
    slot_histograms,
    slot_selections,
)


def _dense(selection="greedy", eval_selection="argmax", slots=4, seed=1):
    layer = SlotDense(5, slots=slots, selection=selection, eval_selection=eval_selection,
                      activation="linear", values_initializer=SlotValues(seed=seed),
                      score_initializer=SlotScores(seed=seed), sample_seed=seed)
    layer.build((None, 3))
    return layer


def _effective(layer, training):
    """The kernel the layer applied: recovered from an identity input."""
    return layer(tf.eye(3), training=training).numpy()


@pytest.mark.parametrize("selection", ["greedy", "probabilistic"])
def test_every_effective_weight_is_one_of_its_k_values(selection):
    layer = _dense(selection)
    values = layer.values.numpy()
    for training in (True, False):
        kernel = _effective(layer, training)
        matches = np.isclose(values, kernel[..., None], rtol=0, atol=1e-7)
        assert np.all(matches.any(axis=-1))


def test_greedy_is_deterministic_argmax():
    layer = _dense("greedy")
    index = np.argmax(layer.score.numpy(), axis=-1)
    expected = np.take_along_axis(layer.values.numpy(), index[..., None], -1)[..., 0]
    for training in (True, False, True):
        np.testing.assert_allclose(_effective(layer, training), expected, atol=1e-7)
    np.testing.assert_allclose(layer.get_effective_kernel().numpy(), expected, atol=1e-7)


def test_probabilistic_samples_follow_the_softmax_and_eval_mode_is_explicit():
    layer = _dense("probabilistic", slots=3)
    logits = np.array([0.0, 1.0, 2.0], np.float32)
    layer.score.assign(np.broadcast_to(logits, layer.score.shape).copy())
    values = layer.values.numpy()
    counts = np.zeros(3)
    for _ in range(40):
        kernel = _effective(layer, True)
        picked = np.argmin(np.abs(values - kernel[..., None]), axis=-1)
        counts += np.bincount(picked.ravel(), minlength=3)
    freq = counts / counts.sum()  # 600 draws
    np.testing.assert_allclose(freq, np.exp(logits) / np.exp(logits).sum(), atol=0.06)
    argmax_kernel = values[..., 2]
    np.testing.assert_allclose(_effective(layer, False), argmax_kernel, atol=1e-7)
    faithful = _dense("probabilistic", "sample", slots=3)
    faithful.score.assign(layer.score.numpy())
    draws = [_effective(faithful, False) for _ in range(5)]
    assert any(not np.allclose(d, faithful.values.numpy()[..., 2]) for d in draws)


@pytest.mark.parametrize("selection", ["greedy", "probabilistic"])
def test_straight_through_gradient_reaches_all_k_scores(selection):
    layer = _dense(selection, slots=4)
    x = tf.constant(np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True))
    grad = tape.gradient(loss, layer.score).numpy()
    d_effective = x.numpy().sum(axis=0)[:, None] * np.ones((1, 5))  # dL/dW_eff
    np.testing.assert_allclose(grad, d_effective[..., None] * layer.values.numpy(), rtol=1e-6)
    assert np.all(grad != 0)


def test_select_slot_is_one_hot_with_identity_gradient():
    scores = tf.constant([[0.1, 0.7, 0.2], [0.5, 0.4, 0.3]])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        onehot = select_slot(scores, tf.constant([1, 0]))
        loss = tf.reduce_sum(onehot * tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(onehot.numpy(), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(tape.gradient(loss, scores).numpy(), [[1, 2, 3], [4, 5, 6]])


def test_slot_init_uses_the_glorot_uniform_bound():
    shape = (3, 3, 16, 32, 8)
    bound = math.sqrt(6 / (3 * 3 * 16 + 3 * 3 * 32))
    assert glorot_bound(shape[:-1]) == pytest.approx(bound)
    values = SlotValues(seed=1)(shape).numpy()
    scores = SlotScores(seed=1)(shape).numpy()
    assert values.min() >= -bound and values.max() <= bound and values.min() < -0.99 * bound
    assert scores.min() >= 0 and scores.max() <= bound and scores.max() > 0.99 * bound
    assert abs(values.mean()) < 0.01 * bound
    assert abs(np.corrcoef(values.ravel(), scores.ravel())[0, 1]) < 0.02


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, "8", True])
def test_bad_slot_count_is_rejected(bad):
    with pytest.raises(ValueError, match="slots"):
        validate_slots(bad)
    with pytest.raises(ValueError, match="slots"):
        SlotDense(3, slots=bad)
    with pytest.raises(ValueError, match="selection"):
        SlotDense(3, selection="softmax")


def test_fit_trains_scores_only_and_round_trips(tmp_path):
    factory = SlotMachineLayers(slots=3, selection="probabilistic")
    inputs = keras.Input((8, 8, 2))
    x = factory.conv(4, 3, "valid", "relu", None, "conv")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, factory.dense(3, "softmax", None, "out")(x))
    model.compile(optimizer=keras.optimizers.SGD(5.0), loss="categorical_crossentropy",
                  jit_compile=True)
    conv = model.get_layer("conv")
    values, scores = conv.values.numpy(), conv.score.numpy()
    before = slot_selections(model)
    rng = np.random.RandomState(0)
    x_data = rng.randn(32, 8, 8, 2).astype(np.float32)
    y_data = np.eye(3, dtype=np.float32)[np.arange(32) % 3]
    model.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0)
    np.testing.assert_array_equal(conv.values.numpy(), values)
    assert not np.array_equal(conv.score.numpy(), scores)
    after = slot_selections(model)
    changed = changed_fractions(before, after)
    assert len(changed) == 2 and all(0 <= c <= 1 for c in changed) and max(changed) > 0
    histograms = slot_histograms(after, 3)
    assert [sum(h) for h in histograms] == [3 * 3 * 2 * 4, 6 * 6 * 4 * 3]
    path = tmp_path / "slots.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x_data, verbose=0),
                                  model.predict(x_data, verbose=0))  # eval = argmax
    assert isinstance(loaded.get_layer("conv"), SlotConv2D)
    assert loaded.get_layer("conv").selection == "probabilistic"
    assert loaded.get_layer("conv").padding == "valid"
