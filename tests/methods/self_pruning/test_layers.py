"""Masked layers: trainability, score gradient, Min* penalty, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.counts import connectivity_stats
from masktrainer.methods.self_pruning.layers import (
    MaskedConv2D,
    MaskedDense,
    SelfPruningLayers,
)
from masktrainer.nn.initializers import ScoreUniform, SignedConstant


def _dense(**kwargs):
    layer = MaskedDense(4, activation="linear", **kwargs)
    layer.build((None, 3))
    return layer


def test_score_gradient_is_upstream_times_kernel():
    layer = _dense(kernel_initializer=SignedConstant(0.5, "unit", seed=1))
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.score).numpy()
    d_effective = x.numpy().sum(axis=0)[:, None] * np.ones((1, 4))
    np.testing.assert_allclose(grad, d_effective * layer.kernel.numpy(), rtol=1e-6)


@pytest.mark.parametrize("masktype", ["mask", "mask_rs", "flip"])
def test_min_penalty_adds_alpha_over_n_to_every_score_gradient(masktype):
    x = tf.random.stateless_normal((5, 3), seed=(1, 2))
    grads = {}
    for alpha in (0.0, -1.0):
        layer = _dense(masktype=masktype, alpha=alpha,
                       kernel_initializer=SignedConstant(0.5, "he", seed=3),
                       score_initializer=ScoreUniform(seed=4))
        with tf.GradientTape() as tape:
            out = layer(x)
            loss = tf.reduce_sum(out) + tf.add_n(layer.losses or [tf.constant(0.0)])
        grads[alpha] = tape.gradient(loss, layer.score).numpy()
        assert len(layer.losses) == (1 if alpha else 0)
    np.testing.assert_allclose(grads[-1.0] - grads[0.0], np.full((3, 4), -1.0 / 12), atol=1e-6)


def test_penalty_reaches_training_through_fit():
    """A loss added in build() would be ignored by Keras 3; ours is added in call()."""
    inputs = keras.Input((3,))
    layer = MaskedDense(2, activation="linear", alpha=-100.0)
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse", jit_compile=False)
    before = layer.score.numpy().copy()
    zeros = np.zeros((4, 3), np.float32)  # data gradient is zero: only the penalty moves scores
    model.fit(zeros, np.zeros((4, 2), np.float32), epochs=1, batch_size=4, verbose=0)
    np.testing.assert_allclose(layer.score.numpy() - before, np.full((3, 2), 100.0 / 6), rtol=1e-5)


@pytest.mark.parametrize(
    "train_weights,train_scores", [(False, True), (True, False)], ids=["free", "baseline"]
)
@pytest.mark.parametrize("jit", [False, True])
def test_only_the_right_variable_changes_during_fit(train_weights, train_scores, jit):
    inputs = keras.Input((8, 8, 1))
    conv = MaskedConv2D(4, 3, train_weights=train_weights, train_scores=train_scores)
    x = keras.layers.Flatten()(conv(inputs))
    dense = MaskedDense(3, activation="softmax", train_weights=train_weights,
                        train_scores=train_scores)
    model = keras.Model(inputs, dense(x))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="categorical_crossentropy",
                  jit_compile=jit)
    before = [v.numpy().copy() for v in (conv.kernel, conv.score, dense.kernel, dense.score)]
    x_data = np.random.RandomState(0).randn(16, 8, 8, 1).astype(np.float32)
    y_data = np.eye(3, dtype=np.float32)[np.arange(16) % 3]
    model.fit(x_data, y_data, epochs=2, batch_size=8, verbose=0)
    after = [v.numpy() for v in (conv.kernel, conv.score, dense.kernel, dense.score)]
    for i, (b, a) in enumerate(zip(before, after)):
        trains = train_weights if i % 2 == 0 else train_scores
        assert (not np.array_equal(a, b)) == trains, f"variable {i}"


@pytest.mark.parametrize("jit", [False, True])
def test_training_takes_the_cross_entropy_from_the_logits(jit):
    """TF 1.14's Keras (the original's) read the logits behind a Softmax output: a sample whose
    true class has probability below Keras' 1e-7 clip still has a gradient. Computed from the
    clipped probabilities it would have none and the scores would not move."""
    inputs = keras.Input((2,))
    layer = MaskedDense(2, activation="softmax", kernel_initializer="identity",
                        score_initializer="ones")
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy",
                  jit_compile=jit)
    x, y = np.array([[40.0, -40.0]], np.float32), np.array([[0.0, 1.0]], np.float32)
    assert float(model.predict(x, verbose=0)[0, 1]) < 1e-30
    model.train_on_batch(x, y)
    # dL/dlogits = softmax - y = (1, -1); dL/dW_eff = x^T (1, -1); dL/ds = that times the kernel
    np.testing.assert_allclose(layer.score.numpy(), [[1 - 0.1 * 40, 1.0], [1.0, 1 - 0.1 * 40]],
                               rtol=1e-5)


@pytest.mark.parametrize("masktype", ["mask", "mask_rs", "flip"])
def test_keras_round_trip_predicts_identically(tmp_path, masktype):
    factory = SelfPruningLayers(initializer="heconstant", masktype=masktype, p1=0.7)
    inputs = keras.Input((10, 10, 2))
    x = factory.conv(5, 3, "same", "swish", None, "conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = factory.dense(4, "softmax", None, "out")(x)
    model = keras.Model(inputs, outputs)
    # Push some scores below zero so the mask is not trivially all ones.
    for layer in model.layers[1::2]:
        s = layer.score.numpy()
        layer.score.assign(s - np.median(s))
    x_data = np.random.RandomState(1).randn(6, 10, 10, 2).astype(np.float32)
    expected = model.predict(x_data, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x_data, verbose=0), expected)
    assert isinstance(loaded.get_layer("conv"), MaskedConv2D)
    assert loaded.get_layer("out").masktype == masktype
    assert connectivity_stats(loaded).per_layer == connectivity_stats(model).per_layer


def test_selu_is_real_selu_unless_quirk_requested():
    x = tf.constant([[-1.0, 2.0]])
    plain = MaskedDense(2, activation="selu", kernel_initializer="identity",
                        score_initializer="ones")
    quirk = MaskedDense(2, activation="selu", selu_is_elu=True, kernel_initializer="identity",
                        score_initializer="ones")
    np.testing.assert_allclose(plain(x).numpy(), tf.nn.selu(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(quirk(x).numpy(), tf.nn.elu(x).numpy(), rtol=1e-6)


def test_bad_layer_arguments_are_rejected():
    with pytest.raises(ValueError, match="masktype"):
        MaskedDense(3, masktype="topk")
    with pytest.raises(ValueError, match="activation"):
        MaskedDense(3, activation="gelu")
    with pytest.raises(ValueError, match="padding"):
        MaskedConv2D(3, padding="causal")
