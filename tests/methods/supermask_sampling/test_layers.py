"""Supermask sampling's layers: Bernoulli masks, the straight-through gradient, evaluation masks,
the learned arrays, round trips and the pruned-fraction estimate."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.supermask_sampling.layers import (
    SupermaskConv2D,
    SupermaskDense,
    SupermaskLayers,
    bernoulli_sample,
)
from masktrainer.nn.build import build_network


def _dense(eval_mask="threshold", scores=None, units=40, inputs=30, seed=5):
    layer = SupermaskDense(units, activation=None, eval_mask=eval_mask, sample_seed=seed)
    layer.build((None, inputs))
    if scores is not None:
        layer.score.assign(np.broadcast_to(scores, (inputs, units)).astype(np.float32))
    return layer


def test_training_masks_are_fresh_bernoulli_samples_of_sigmoid_score():
    scores = np.linspace(-3, 3, 40, dtype=np.float32)  # one probability per output unit
    layer = _dense(scores=scores, inputs=500)
    eye = tf.eye(500)
    draws = [layer(eye, training=True).numpy() / layer.kernel.numpy() for _ in range(20)]
    masks = np.stack(draws)
    assert set(np.unique(np.round(masks, 5))) <= {0.0, 1.0}
    kept = masks.mean(axis=(0, 1))  # per unit: 10,000 draws
    np.testing.assert_allclose(kept, 1 / (1 + np.exp(-scores)), atol=0.025)
    assert not np.array_equal(draws[0], draws[1])


def test_the_gradient_is_straight_through_to_p_then_through_the_sigmoid():
    layer = _dense(inputs=6, units=4)
    eye = tf.eye(6)
    upstream = tf.constant(np.random.RandomState(0).randn(6, 4), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(layer(eye, training=True) * upstream)
    grad = tape.gradient(loss, layer.score).numpy()
    p = tf.sigmoid(layer.score).numpy()
    np.testing.assert_allclose(grad, upstream.numpy() * layer.kernel.numpy() * p * (1 - p),
                               rtol=1e-5, atol=1e-7)
    assert tape.gradient(loss, layer.kernel) is None  # the weights are frozen
    p_in = tf.constant([0.2, 0.9])
    with tf.GradientTape() as tape:
        tape.watch(p_in)
        sample = bernoulli_sample(p_in, tf.constant([0.5, 0.5]))
    np.testing.assert_array_equal(sample.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(tape.gradient(sample, p_in).numpy(), [1.0, 1.0])


@pytest.mark.parametrize("eval_mask", ["threshold", "expected", "sample"])
def test_evaluation_masks(eval_mask):
    scores = np.array([-1.0, 0.0, 2.0], np.float32)
    layer = _dense(eval_mask, scores=scores, inputs=3, units=3)
    out = np.stack([layer(tf.eye(3), training=False).numpy() for _ in range(30)])
    kernel = layer.kernel.numpy()
    if eval_mask == "threshold":  # sigmoid(score) > 0.5
        np.testing.assert_array_equal(out[0], kernel * (layer.score.numpy() > 0))
        assert (out == out[0]).all()
    elif eval_mask == "expected":
        np.testing.assert_allclose(out[0], kernel / (1 + np.exp(-layer.score.numpy())), rtol=1e-6)
    else:  # the original: a new sample at evaluation too
        assert len({o.tobytes() for o in out}) > 1
    assert layer.export_note() == ("the run samples masks at evaluation; the export uses "
                                   "sigmoid(score) > 0.5" if eval_mask == "sample" else None)


def test_learned_arrays_and_the_compact_encoding_decode_the_evaluation_kernel():
    for eval_mask in ("threshold", "expected"):
        layer = _dense(eval_mask)
        arrays = layer.learned_arrays()
        assert arrays[""].dtype == np.int8 and set(np.unique(arrays[""])) <= {0, 1}
        np.testing.assert_allclose(arrays["_probability"], tf.sigmoid(layer.score).numpy())
        encoded = layer.compact_encode()
        assert set(encoded) == ({"probability"} if eval_mask == "expected" else {"keep"})
        np.testing.assert_array_equal(layer.compact_decode(layer.kernel.numpy(), encoded),
                                      layer.get_effective_kernel().numpy())


def test_factory_initialisers_and_keras_round_trip(tmp_path):
    factory = SupermaskLayers("signed_constant", "threshold", score_init_constant=0.5)
    model = build_network("Conv2", (8, 8, 3), 10, factory)
    conv = model.get_layer("conv_1")
    assert isinstance(conv, SupermaskConv2D)
    np.testing.assert_array_equal(conv.score.numpy(), 0.5)
    sigma = np.sqrt(2.0 / (3 * 3 * 3))
    np.testing.assert_allclose(np.abs(conv.kernel.numpy()), sigma, rtol=1e-6)
    default = build_network("LeNet", (28, 28, 1), 10, SupermaskLayers())
    scores = default.get_layer("dense_1").score.numpy()
    assert np.abs(scores).max() <= np.float32(1 / np.sqrt(784)) and scores.std() > 0
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.RandomState(1).rand(4, 8, 8, 3).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_layer("conv_1").eval_mask == "threshold"


def test_pruned_fraction_estimate_is_ten_samples_of_u_ge_p():
    layer = _dense(scores=np.float32(1.0), inputs=200, units=200)
    estimate = layer.pruned_fraction_estimate(np.random.default_rng(0))
    assert estimate == pytest.approx(1 - 1 / (1 + np.exp(-1.0)), abs=0.005)
