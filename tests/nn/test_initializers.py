"""Initializer statistics, seeding, serialization and the binary input scale."""

import math

import keras
import numpy as np
import pytest

from masktrainer.nn.initializers import (
    KaimingWeights,
    ScoreUniform,
    ShiftedNormal,
    SignedConstant,
    TruncatedVarianceScaling,
    compute_fans,
    kernel_initializer,
)


@pytest.mark.parametrize("p1", [0.5, 0.8, 0.2])
def test_signed_he_constant_magnitude_exact_and_sign_balance(p1):
    shape = (784, 300)
    w = SignedConstant(p1, "he", seed=7)(shape).numpy()
    expected = np.float32(math.sqrt(2.0 / 784))
    np.testing.assert_array_equal(np.abs(w), np.full(shape, expected))
    assert abs(np.mean(w > 0) - p1) < 0.005  # 235,200 draws: 4+ sigma margin


def test_signed_constant_conv_uses_kh_kw_cin_fan_in():
    w = kernel_initializer("heconstant", seed=1, p1=0.5, dense=False)((3, 3, 64, 128)).numpy()
    np.testing.assert_array_equal(np.unique(np.abs(w)), [np.float32(math.sqrt(2 / 576))])


def test_binary_is_plus_minus_one():
    w = kernel_initializer("binary", seed=3, p1=0.3)((300, 100)).numpy()
    assert set(np.unique(w)) == {-1.0, 1.0}
    assert abs(np.mean(w > 0) - 0.3) < 0.01


@pytest.mark.parametrize("p1,value", [(1.0, 1.0), (0.0, -1.0)])
def test_signed_constant_extreme_p1(p1, value):
    w = SignedConstant(p1, "unit", seed=0)((50, 50)).numpy()
    assert np.all(w == value)


def test_he_truncated_normal_statistics():
    shape = (1000, 500)
    w = kernel_initializer("he", seed=11)(shape).numpy()
    target = math.sqrt(2.0 / 1000)
    assert abs(w.std() / target - 1) < 0.01
    assert abs(w.mean()) < 0.01 * target
    assert np.abs(w).max() <= 2 * target / 0.87962566103423978 + 1e-7  # truncated at 2 sigma


def test_glorot_truncated_normal_statistics():
    shape = (3, 3, 64, 128)
    fan_in, fan_out = compute_fans(shape)
    assert (fan_in, fan_out) == (576, 1152)
    w = kernel_initializer("glorot", seed=5, dense=False)(shape).numpy()
    assert abs(w.std() / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.01


def test_normal_is_asymmetric_for_dense_only():
    dense = kernel_initializer("normal", seed=2, dense=True)((500, 400)).numpy()
    conv = kernel_initializer("normal", seed=2, dense=False)((3, 3, 100, 200)).numpy()
    assert abs(dense.mean() - 0.1) < 0.001 and abs(dense.std() - 0.05) < 0.001
    assert abs(conv.mean()) < 0.001 and abs(conv.std() - 0.05) < 0.001


def test_score_uniform_range():
    s = ScoreUniform(seed=4)((300, 100)).numpy()
    assert s.min() >= 0.01 and s.max() < 0.1
    assert abs(s.mean() - 0.055) < 0.001


@pytest.mark.parametrize(
    "init",
    [TruncatedVarianceScaling(2.0, "fan_in", seed=9), ShiftedNormal(0.1, 0.05, seed=9),
     SignedConstant(0.6, "he", seed=9), ScoreUniform(seed=9)],
)
def test_seeded_initializers_are_deterministic_and_serializable(init):
    a = init((20, 30)).numpy()
    np.testing.assert_array_equal(a, init((20, 30)).numpy())
    clone = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    np.testing.assert_array_equal(a, clone((20, 30)).numpy())
    other = type(init).from_config({**init.get_config(), "seed": 10})
    assert not np.array_equal(a, other((20, 30)).numpy())


def test_kernel_and_score_from_one_seed_are_independent():
    """heconstant with one seed for kernel and score (--seeding original): the original drew
    this kernel with numpy, independent of its TF score, so the draws must not correlate."""
    kernel = SignedConstant(0.5, "he", seed=1234)((300, 100)).numpy()
    score = ScoreUniform(seed=1234)((300, 100)).numpy()
    assert abs(np.corrcoef(kernel.ravel(), score.ravel())[0, 1]) < 0.02


def test_hidden_networks_xavier_and_standard_weight_statistics():
    shape = (3, 3, 64, 128)  # fan_in 576, fan_out 1152
    xavier = math.sqrt(2.0 / (576 + 1152))
    normal = KaimingWeights("xavier_normal", fan_scale=0.5, seed=4)(shape).numpy()
    assert abs(normal.std() / xavier - 1) < 0.01 and abs(normal.mean()) < 1e-3  # no fan scaling
    signed = KaimingWeights("xavier_constant", p1=0.5, seed=5)(shape).numpy()
    np.testing.assert_allclose(np.abs(signed), xavier, rtol=1e-6)
    assert abs(float(np.mean(signed > 0)) - 0.5) < 0.01
    standard = KaimingWeights("standard", seed=6)(shape).numpy()
    bound = 1 / math.sqrt(576)
    assert standard.min() >= -bound and standard.max() <= bound
    assert abs(standard.std() / (bound / math.sqrt(3)) - 1) < 0.01
    again = KaimingWeights("xavier_normal", seed=4)(shape).numpy()
    np.testing.assert_array_equal(again, normal)  # seeded, and fan_scale ignored


def _box_muller(u: np.ndarray) -> np.ndarray:
    """TF's float Box-Muller (BoxMullerFloat) of consecutive uniforms u[2k], u[2k+1]."""
    radius = np.sqrt(-2.0 * np.log(np.maximum(u[0::2], 1e-7)))
    angle = 2.0 * np.pi * u[1::2]
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).ravel()


def test_tf1_graph_mode_feeds_ops_with_one_op_seed_from_the_same_bits():
    """What the self-pruning original did (TF 1.14 graph mode, no graph seed): the kernel's
    normal and the score's uniform share the op seed, so the normal is Box-Muller of the
    very uniforms the score is made of (checked on the installed TF's stateful kernels)."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    shape = (300, 100)
    graph = tf.Graph()
    with graph.as_default():
        kernel = tf1.random_normal_initializer(0.1, 0.05, seed=1234)(shape)
        score = tf1.random_uniform_initializer(0.01, 0.1, seed=1234)(shape)
        seeds = {(op.get_attr("seed"), op.get_attr("seed2")) for op in graph.get_operations()
                 if op.type in ("RandomStandardNormal", "RandomUniform")}
    with tf1.Session(graph=graph) as session:
        kernel, score = session.run([kernel, score])
    assert seeds == {(87654321, 1234)}  # DEFAULT_GRAPH_SEED, op seed: one key for both ops
    uniform = ((score - 0.01) / 0.09).ravel()
    np.testing.assert_allclose(kernel.ravel(), 0.1 + 0.05 * _box_muller(uniform), atol=2e-3)


@pytest.mark.parametrize("stream,coupled", [(0, True), (1, False)])
def test_score_on_the_kernel_stream_is_drawn_from_the_kernels_bits(stream, coupled):
    """``--seeding original`` (stream 0) reproduces that coupling; the default stream does not."""
    shape = (300, 100)
    kernel = ShiftedNormal(0.1, 0.05, seed=77)(shape).numpy().ravel()
    score = ScoreUniform(0.01, 0.1, seed=77, stream=stream)(shape).numpy()
    predicted = 0.1 + 0.05 * _box_muller(((score - 0.01) / 0.09).ravel())
    close = np.isclose(kernel, predicted, atol=2e-3)
    assert close.all() if coupled else close.mean() < 0.1  # chance: about 2 %
    # he kernels (truncated normal): output group k of 4 starts at Philox block 256k, i.e. at
    # the bits of uniform 1024k; group 0 is the first accepted values of the first pairs.
    he = TruncatedVarianceScaling(2.0, "fan_in", seed=77)(shape).numpy().ravel()
    std = math.sqrt(2.0 / 300) / 0.87962566103423978
    first = _box_muller(((score - 0.01) / 0.09).ravel()[:16])
    first = first[np.abs(first) < 2.0][:4]
    assert np.allclose(he[:4] / std, first, atol=2e-3) == coupled


def test_unseeded_initializers_honour_keras_global_seed():
    """Like ``keras.layers.Dense``: ``keras.utils.set_random_seed`` fixes unseeded draws."""
    draws = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        draws.append([init((20, 10)).numpy() for init in (
            TruncatedVarianceScaling(), ScoreUniform(), SignedConstant(), KaimingWeights())])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(draws[0][0], TruncatedVarianceScaling()((20, 10)).numpy())


def test_score_stream_round_trips_and_is_validated():
    init = ScoreUniform(seed=3, stream=0)
    assert ScoreUniform.from_config(init.get_config()).stream == 0
    assert ScoreUniform.from_config({"seed": 3, "minval": 0.01, "maxval": 0.1}).stream == 1
    with pytest.raises(ValueError, match="stream"):
        ScoreUniform(stream=2)


def test_keras_global_seed_makes_every_methods_default_layers_reproducible():
    import masktrainer

    classes = [keras.layers.Dense, masktrainer.MaskedDense, masktrainer.EdgePopupDense,
               masktrainer.SlotDense, masktrainer.SupermaskDense]
    builds = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        layers = [cls(8) for cls in classes]
        for layer in layers:
            layer.build((None, 12))
        builds.append([[w.numpy() for w in layer.weights] for layer in layers])
    for cls, first, second in zip(classes, *builds):
        assert first, cls.__name__
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b, err_msg=cls.__name__)
