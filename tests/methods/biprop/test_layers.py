"""Biprop layers: alpha against NumPy, exact kept counts, the original's gradient (to the
scores only), .keras round trip, the compact encoding (a keep bit, a sign bit, alpha)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.errors import ConfigError
from masktrainer.methods.biprop.layers import (
    BipropConv2D,
    BipropDense,
    BipropLayers,
    BipropRecorder,
    alpha_denominator,
    validate_alpha_rule,
)
from masktrainer.methods.edge_popup.layers import kept_count
from masktrainer.nn.bits import BitsError
from masktrainer.nn.initializers import FanInUniformScores, KaimingWeights


def _dense(units=4, keep_ratio=0.5, alpha_rule="original", init="kaiming_normal",
           activation="linear", inputs=6):
    layer = BipropDense(units, keep_ratio=keep_ratio, alpha_rule=alpha_rule,
                        activation=activation,
                        kernel_initializer=KaimingWeights(init, seed=1),
                        score_initializer=FanInUniformScores(seed=2))
    layer.build((None, inputs))
    return layer


def _numpy_effective(kernel, score, keep_ratio, alpha_rule):
    """The original's rule, recomputed: sort |score|, keep the top, alpha over the kept."""
    n = kernel.size
    order = np.argsort(-np.abs(score).ravel(), kind="stable")
    mask = np.zeros(n, np.float64)
    mask[order[: n - int((1 - keep_ratio) * n)]] = 1
    mask = mask.reshape(kernel.shape)
    denominator = int(keep_ratio * n) if alpha_rule == "original" else int(mask.sum())
    alpha = np.sum(np.abs(kernel.astype(np.float64)) * mask) / denominator
    return np.sign(kernel) * alpha * mask, alpha, mask


@pytest.mark.parametrize("alpha_rule", ["original", "kept"])
@pytest.mark.parametrize("keep_ratio", [0.1, 0.3, 0.5, 0.7, 1.0])
def test_effective_kernel_is_sign_times_alpha_over_the_kept_weights(keep_ratio, alpha_rule):
    layer = _dense(units=7, inputs=5, keep_ratio=keep_ratio, alpha_rule=alpha_rule)
    kernel, score = layer.kernel.numpy(), layer.score.numpy()
    want, alpha, mask = _numpy_effective(kernel, score, keep_ratio, alpha_rule)
    np.testing.assert_allclose(float(layer.get_alpha()), alpha, rtol=1e-6)
    np.testing.assert_array_equal(layer.get_mask().numpy(), mask)
    np.testing.assert_allclose(layer.get_effective_kernel().numpy(), want, rtol=1e-6)
    # the applied weights are exactly {-alpha, 0, +alpha}, one alpha per layer
    own = layer.get_alpha().numpy()
    values = set(np.unique(np.abs(layer.get_effective_kernel().numpy())).tolist())
    assert values == ({own} if keep_ratio == 1.0 else {0.0, own})


def test_alpha_denominator_is_the_originals_int_k_n_unless_asked_for_the_kept_count():
    assert alpha_denominator(35, 0.5) == 17 and kept_count(35, 0.5) == 18
    assert alpha_denominator(35, 0.5, "kept") == 18
    assert alpha_denominator(235_200, 0.3) == kept_count(235_200, 0.3) == 70_560
    layer = _dense(units=7, inputs=5, keep_ratio=0.5)  # 35 weights: 18 kept, alpha / 17
    kept = layer.get_mask().numpy().astype(bool)
    assert kept.sum() == 18
    np.testing.assert_allclose(float(layer.get_alpha()),
                               np.abs(layer.kernel.numpy())[kept].sum() / 17, rtol=1e-6)


@pytest.mark.parametrize("keep_ratio", [0.05, 0.3, 0.5, 0.999])
def test_kept_counts_are_exact_per_layer(keep_ratio):
    conv = BipropConv2D(6, 3, keep_ratio=keep_ratio, activation="relu")
    conv.build((None, 8, 8, 4))
    n = 3 * 3 * 4 * 6
    assert int(conv.get_mask().numpy().sum()) == kept_count(n, keep_ratio)
    assert np.count_nonzero(conv.get_effective_kernel().numpy()) == kept_count(n, keep_ratio)


def test_a_layer_whose_alpha_would_divide_by_zero_is_refused():
    with pytest.raises(ConfigError, match="divides alpha by 0"):
        _dense(units=2, inputs=2, keep_ratio=0.2)  # 4 weights: int(0.8) = 0
    with pytest.raises(ValueError, match="alpha_rule"):
        validate_alpha_rule("mean")


def test_the_gradient_goes_straight_through_to_the_scores_and_never_to_the_weights():
    layer = _dense(units=4, inputs=6, keep_ratio=0.5)
    x = tf.constant(np.random.RandomState(0).randn(3, 6).astype(np.float32))
    assert [w.name for w in layer.trainable_weights] == ["score"]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(layer.kernel.value)
        effective = layer.get_effective_kernel()
        loss = tf.reduce_sum(tf.sin(x @ effective))
    upstream = tape.gradient(loss, effective).numpy()  # dL/dW_eff
    grad_score = tape.gradient(loss, layer.score).numpy()
    kernel, score = layer.kernel.numpy(), layer.score.numpy()
    # the original: dL/d|s| = dL/d(alpha*mask) * |w| = dL/dW_eff * sign(w) * |w|, then |.|
    np.testing.assert_allclose(grad_score, np.sign(score) * upstream * kernel, rtol=1e-5,
                               atol=1e-7)
    assert np.count_nonzero(grad_score) == grad_score.size  # pruned scores get it too
    grad_kernel = tape.gradient(loss, layer.kernel.value)
    assert grad_kernel is None or not np.any(grad_kernel.numpy())  # sign(w): nothing flows


def test_keras_round_trip_keeps_the_config_and_the_output(tmp_path):
    inputs = keras.Input((8, 8, 3))
    hidden = BipropConv2D(4, 3, keep_ratio=0.3, alpha_rule="kept", activation="relu",
                          name="conv")(inputs)
    flat = keras.layers.Flatten()(hidden)
    outputs = BipropDense(10, keep_ratio=0.5, activation=None, name="out")(flat)
    model = keras.Model(inputs, outputs)
    x = np.random.RandomState(1).rand(2, 8, 8, 3).astype(np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_layer("conv").get_config() == model.get_layer("conv").get_config()
    assert loaded.get_layer("conv").alpha_rule == "kept"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _trained_like(layer):
    """Move the scores so the mask is not the initial one."""
    layer.score.assign(np.random.RandomState(5).randn(*layer.score.shape).astype(np.float32))
    return layer


@pytest.mark.parametrize("keep_ratio", [0.1, 0.5, 1.0])
def test_compact_encoding_decodes_to_the_applied_kernel_bit_for_bit(keep_ratio):
    layer = _trained_like(_dense(units=9, inputs=13, keep_ratio=keep_ratio))
    arrays = layer.compact_encode()
    n = 9 * 13
    assert arrays["keep"].dtype == arrays["sign"].dtype == np.uint8
    assert arrays["keep"].size == arrays["sign"].size == math.ceil(n / 8)  # 1 bit each
    assert arrays["alpha"].dtype == np.float32 and arrays["alpha"].shape == (1,)
    decoded = layer.compact_decode(layer.kernel.numpy(), arrays)
    applied = layer.get_effective_kernel().numpy()
    assert decoded.dtype == np.float32 and decoded.tobytes() == applied.tobytes()


def test_compact_decoding_refuses_arrays_that_do_not_fit():
    layer = _dense(units=4, inputs=6)
    arrays = layer.compact_encode()
    frozen = layer.kernel.numpy()
    with pytest.raises(BitsError):
        layer.compact_decode(frozen, {**arrays, "sign": arrays["sign"][:-1]})
    for bad in (np.float64([1.0]), np.float32([1.0, 2.0]), np.float32([np.nan])):
        with pytest.raises(ValueError, match="alpha"):
            layer.compact_decode(frozen, {**arrays, "alpha": bad})


def test_a_kept_zero_weight_decodes_to_the_zero_it_applies():
    layer = _dense(units=4, inputs=6, keep_ratio=1.0, init="signed_constant")
    kernel = layer.kernel.numpy()
    kernel[0, 0] = 0.0
    layer.kernel.assign(kernel)
    arrays = layer.compact_encode()
    decoded = layer.compact_decode(kernel, arrays)
    assert decoded[0, 0] == 0.0
    assert decoded.tobytes() == layer.get_effective_kernel().numpy().tobytes()


def test_factory_and_recorder_report_kept_fractions_and_alpha():
    factory = BipropLayers(keep_ratio=0.3, initializer="signed_constant", alpha_rule="kept")
    inputs = keras.Input((12,))
    hidden = factory.dense(10, "relu", None, "dense_1")(inputs)
    model = keras.Model(inputs, factory.dense(3, "linear", None, "output")(hidden))
    assert model.get_layer("dense_1").alpha_rule == "kept"
    recorder = BipropRecorder(model)
    values = recorder.measure(model)
    assert values["keptFractionPerLayer"] == [[kept_count(120, 0.3) / 120],
                                              [kept_count(30, 0.3) / 30]]
    assert values["remainingWeights"] == kept_count(120, 0.3) + kept_count(30, 0.3)
    alphas = [float(model.get_layer(n).get_alpha()) for n in ("dense_1", "output")]
    assert values["alphaPerLayer"] == [[a] for a in alphas]
    assert set(recorder.per_layer_fields()) == {"remainingWeightsPerLayer",
                                                "keptFractionPerLayer", "alphaPerLayer"}
    assert "alpha" in recorder.describe(values)


def test_mixed_precision_computes_in_float16_and_keeps_float32_variables():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = BipropDense(4, keep_ratio=0.5, activation="relu")
        out = layer(tf.ones([2, 6]))
        assert out.dtype == tf.float16
        assert layer.kernel.dtype == layer.score.dtype == "float32"
        assert layer.get_effective_kernel().dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_xla_computes_the_same_kernel_and_score_gradient():
    layer = _trained_like(_dense(units=5, inputs=8, keep_ratio=0.3))
    x = tf.constant(np.random.RandomState(2).randn(4, 8).astype(np.float32))

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x)))
        return layer.get_effective_kernel(), tape.gradient(loss, layer.score.value)

    eager = step()
    compiled = tf.function(step, jit_compile=True)()
    np.testing.assert_array_equal(compiled[0].numpy(), eager[0].numpy())
    np.testing.assert_allclose(compiled[1].numpy(), eager[1].numpy(), rtol=1e-5, atol=1e-7)
