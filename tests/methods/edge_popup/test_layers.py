"""Edge-popup layers: exact top-k count (ties too), straight-through gradient, inits, round trip."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.counts import connectivity_stats, kept_fractions
from masktrainer.methods.edge_popup.layers import (
    EdgePopupConv2D,
    EdgePopupDense,
    EdgePopupLayers,
    edge_popup_mask,
    fan_scale,
    kept_count,
    validate_keep_ratio,
)
from masktrainer.nn.initializers import FanInUniformScores, KaimingWeights


@pytest.mark.parametrize("keep_ratio", [0.05, 0.1, 0.3, 0.5, 0.7, 0.999, 1.0])
@pytest.mark.parametrize("shape", [(7, 5), (3, 3, 4, 6), (1, 1)])
def test_kept_count_is_exact_for_random_and_tied_scores(keep_ratio, shape):
    n = math.prod(shape)
    expected = n - int((1 - keep_ratio) * n)
    assert kept_count(n, keep_ratio) == expected
    rng = np.random.RandomState(0)
    random = rng.randn(*shape).astype(np.float32)
    tied = rng.randint(-2, 3, size=shape).astype(np.float32)  # many ties, zeros, +-equal
    constant = np.full(shape, 0.25, np.float32)
    for scores in (random, tied, constant):
        mask = edge_popup_mask(tf.constant(scores), keep_ratio).numpy()
        assert set(np.unique(mask)) <= {0.0, 1.0}
        assert int(mask.sum()) == expected


def test_mask_keeps_the_largest_magnitudes_and_lower_index_on_ties():
    scores = np.array([0.1, -0.9, 0.5, -0.5, 0.5, 0.2], np.float32)
    # keep 3 of 6: |s| = .1 .9 .5 .5 .5 .2 -> .9 and the first two of the tied .5
    mask = edge_popup_mask(tf.constant(scores), 0.5).numpy()
    np.testing.assert_array_equal(mask, [0, 1, 1, 1, 0, 0])
    again = tf.function(lambda s: edge_popup_mask(s, 0.5), jit_compile=True)(scores).numpy()
    np.testing.assert_array_equal(again, mask)  # same rule under XLA


def test_large_layer_matches_a_sort():
    scores = np.random.RandomState(3).randn(300, 400).astype(np.float32)
    mask = edge_popup_mask(tf.constant(scores), 0.3).numpy().ravel()
    order = np.argsort(-np.abs(scores).ravel(), kind="stable")
    expected = np.zeros(scores.size)
    expected[order[: kept_count(scores.size, 0.3)]] = 1
    np.testing.assert_array_equal(mask, expected)


def test_score_gradient_is_straight_through_then_through_abs():
    layer = EdgePopupDense(4, keep_ratio=0.5, activation="linear",
                           kernel_initializer=KaimingWeights("kaiming_normal", seed=1),
                           score_initializer=FanInUniformScores(seed=2))
    layer.build((None, 3))
    scores = layer.score.numpy()
    scores[0, 0] = 0.0  # |.| has gradient 0 at 0 (as PyTorch)
    layer.score.assign(scores)
    x = tf.constant(np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.score).numpy()
    d_effective = x.numpy().sum(axis=0)[:, None] * np.ones((1, 4))
    expected = np.sign(scores) * d_effective * layer.kernel.numpy()
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
    assert grad[0, 0] == 0.0
    mask = layer.get_mask().numpy()
    assert np.all(grad[mask == 0][np.sign(scores[mask == 0]) != 0] != 0)  # dropped ones too


def test_edge_popup_init_statistics():
    shape = (3, 3, 64, 128)
    fan_in = 3 * 3 * 64
    sigma = math.sqrt(2 / fan_in)
    signed = KaimingWeights("signed_constant", seed=1)(shape).numpy()
    np.testing.assert_allclose(np.abs(signed), sigma, rtol=1e-6)
    assert abs(np.mean(signed > 0) - 0.5) < 0.01
    np.testing.assert_allclose(KaimingWeights("unsigned_constant")(shape).numpy(), sigma, rtol=1e-6)
    normal = KaimingWeights("kaiming_normal", seed=2)(shape).numpy()
    assert abs(normal.std() / sigma - 1) < 0.01
    uniform = KaimingWeights("kaiming_uniform", seed=3)(shape).numpy()
    assert np.abs(uniform).max() <= math.sqrt(6 / fan_in) + 1e-7
    assert abs(uniform.std() / sigma - 1) < 0.01
    # scale_fan: the original multiplies the fan by (1 - prune_rate), prune_rate = keep_ratio.
    scaled = KaimingWeights("signed_constant", fan_scale(0.3, True), seed=1)(shape).numpy()
    np.testing.assert_allclose(np.abs(scaled), math.sqrt(2 / (fan_in * 0.7)), rtol=1e-6)
    assert fan_scale(0.3, True, "kept") == 0.3 and fan_scale(0.3, False) == 1.0
    scores = FanInUniformScores(seed=4)(shape).numpy()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(scores).max() <= bound and np.abs(scores).max() > 0.99 * bound
    assert abs(scores.mean()) < 0.01 * bound


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, "0.5", None, True])
def test_bad_keep_ratio_is_rejected(bad):
    with pytest.raises(ValueError, match="keep_ratio"):
        validate_keep_ratio(bad)
    with pytest.raises(ValueError, match="keep_ratio"):
        EdgePopupDense(3, keep_ratio=bad)


def test_fit_trains_scores_only_and_keeps_the_count(tmp_path):
    factory = EdgePopupLayers(keep_ratio=0.3, initializer="signed_constant")
    inputs = keras.Input((8, 8, 2))
    x = factory.conv(4, 3, "same", "relu", None, "conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = factory.dense(3, "softmax", None, "out")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy",
                  jit_compile=False)
    conv = model.get_layer("conv")
    kernel, score, mask = conv.kernel.numpy(), conv.score.numpy(), conv.get_mask().numpy()
    rng = np.random.RandomState(0)
    x_data = rng.randn(32, 8, 8, 2).astype(np.float32)
    y_data = np.eye(3, dtype=np.float32)[np.arange(32) % 3]
    model.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0)
    np.testing.assert_array_equal(conv.kernel.numpy(), kernel)
    assert not np.array_equal(conv.score.numpy(), score)
    assert not np.array_equal(conv.get_mask().numpy(), mask)
    sizes = [3 * 3 * 2 * 4, 8 * 8 * 4 * 3]
    assert kept_fractions(model) == [kept_count(n, 0.3) / n for n in sizes]
    stats = connectivity_stats(model)
    assert [c[2] for c in stats.per_layer] == [kept_count(n, 0.3) for n in sizes]
    path = tmp_path / "ep.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x_data, verbose=0),
                                  model.predict(x_data, verbose=0))
    assert isinstance(loaded.get_layer("conv"), EdgePopupConv2D)
    assert loaded.get_layer("out").keep_ratio == 0.3
