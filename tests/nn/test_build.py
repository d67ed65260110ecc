"""Architectures: exact kernel counts, shapes, layer kinds and seeding structure."""

import keras
import numpy as np
import pytest

from masktrainer.config import RunConfig
from masktrainer.methods import build_model
from masktrainer.methods.counts import masked_layers
from masktrainer.methods.self_pruning.layers import (
    MaskedConv2D,
    MaskedDense,
    SelfPruningLayers,
)
from masktrainer.nn.architectures import kernel_fan_ins
from masktrainer.nn.build import build_network, kernel_parameter_count
from masktrainer.nn.layer_factory import DenseReferenceLayers
from masktrainer.nn.seeds import layer_seeds

EXPECTED = {
    # name: (input shape, kernel weights, masked layers, flatten width)
    "LeNet": ((28, 28, 1), 266_200, 3, 784),
    "Conv2": ((32, 32, 3), 4_300_992, 5, 16_384),
    "Conv4": ((32, 32, 3), 2_425_024, 7, 8_192),
    "Conv6": ((32, 32, 3), 2_261_184, 9, 4_096),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kernel_parameter_counts_match_the_original(name):
    shape, count, n_masked, flat = EXPECTED[name]
    model = build_network(name, shape, 10, SelfPruningLayers())
    assert kernel_parameter_count(model) == count
    assert len(masked_layers(model)) == n_masked
    assert model.get_layer("flatten").output.shape[-1] == flat
    assert model.output.shape[-1] == 10
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == count  # scores only
    assert sum(np.prod(k.shape) for k in model.non_trainable_weights) == count  # frozen kernels
    fans = kernel_fan_ins(name, shape, 10)
    assert fans == [int(np.prod(l.kernel.shape[:-1])) for l in masked_layers(model)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dense_reference_has_same_shapes_with_plain_layers(name):
    shape, count, n_masked, _ = EXPECTED[name]
    model = build_network(name, shape, 10, DenseReferenceLayers())
    kinds = {type(l) for l in model.layers}
    assert MaskedDense not in kinds and MaskedConv2D not in kinds
    assert keras.layers.Dense in kinds
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == count


def test_original_seeding_shares_last_hidden_and_output_seed_for_cnn():
    seeds = layer_seeds(1234, 3, [0, 1], 3, "original")  # Conv2: conv, conv, pool | 256, 256, 10
    assert len(seeds) == 5
    assert seeds[3] == seeds[4]  # second hidden dense == output (the original's quirk)
    assert all(s.kernel == s.score for s in seeds)
    assert len({s.kernel for s in seeds}) == 4


def test_original_seeding_mlp_uses_draws_0_1_and_last():
    seeds = layer_seeds(99, 0, [], 3, "original")
    draws = np.random.RandomState(99).randint(1, 2**31 - 1, size=4)
    assert [s.kernel for s in seeds] == [draws[0], draws[1], draws[3]]


def test_independent_seeding_gives_every_layer_and_variable_its_own_seed():
    seeds = layer_seeds(1234, 3, [0, 1], 3, "independent")
    values = [v for s in seeds for v in (s.kernel, s.score)]
    assert len(set(values)) == len(values)


def test_same_seed_same_model_different_seed_different_model():
    cfg = RunConfig(initializer="heconstant")
    a = build_model(cfg, (28, 28, 1), 10, run_seed=5)
    b = build_model(cfg, (28, 28, 1), 10, run_seed=5)
    c = build_model(cfg, (28, 28, 1), 10, run_seed=6)
    for la, lb, lc in zip(masked_layers(a), masked_layers(b), masked_layers(c)):
        np.testing.assert_array_equal(la.kernel.numpy(), lb.kernel.numpy())
        np.testing.assert_array_equal(la.score.numpy(), lb.score.numpy())
        assert not np.array_equal(la.kernel.numpy(), lc.kernel.numpy())


@pytest.mark.parametrize("net,shape", [("LeNet", (28, 28, 1)), ("Conv2", (32, 32, 3))])
def test_binary_with_scaled_input_equals_signed_he_constant(net, shape):
    """The input scale makes +-1 weights compute the heconstant network's logits."""
    from masktrainer.methods.self_pruning.binary_scale import binary_scale_formula

    he = build_model(RunConfig(nettype=net, initializer="heconstant"), shape, 10, run_seed=8)
    unit = build_model(RunConfig(nettype=net, initializer="binary"), shape, 10, run_seed=8)
    scale = binary_scale_formula(kernel_fan_ins(net, shape, 10))
    x = np.random.RandomState(0).randn(4, *shape).astype(np.float32)
    np.testing.assert_allclose(unit.predict(x * scale, verbose=0), he.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def test_original_seeding_model_has_uncorrelated_kernel_and_score():
    cfg = RunConfig(initializer="heconstant", seeding="original")
    model = build_model(cfg, (28, 28, 1), 10, run_seed=1234)
    for layer in masked_layers(model):
        corr = np.corrcoef(layer.kernel.numpy().ravel(), layer.score.numpy().ravel())[0, 1]
        assert abs(corr) < 0.1, layer.name


@pytest.mark.parametrize("net", ["Conv2", "Conv4", "Conv6"])
def test_conv_nets_take_a_training_step(net):
    model = build_model(RunConfig(nettype=net, traintype="MinPruning"), (32, 32, 3), 10, 3)
    model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=False)
    before = [l.score.numpy().copy() for l in masked_layers(model)]
    x = np.random.RandomState(1).randn(8, 32, 32, 3).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(8)]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = [l.score.numpy() for l in masked_layers(model)]
    assert all(not np.array_equal(a, b) for a, b in zip(after, before))


@pytest.mark.parametrize("initializer,coupled", [("he", True), ("glorot", True),
                                                 ("heconstant", False), ("binary", False)])
def test_original_seeding_couples_score_to_kernel_bits_only_for_tf_drawn_kernels(
    initializer, coupled
):
    """TF1 fed kernel and score from one op seed's bits; heconstant/binary used numpy."""
    from masktrainer.nn.initializers import KERNEL_STREAM, SCORE_STREAM

    for seeding in ("original", "independent"):
        model = build_model(RunConfig(initializer=initializer, seeding=seeding),
                            (28, 28, 1), 10, run_seed=1234)
        for layer in masked_layers(model):
            expected = KERNEL_STREAM if coupled and seeding == "original" else SCORE_STREAM
            assert layer.score_initializer.stream == expected, (seeding, layer.name)
            if expected == KERNEL_STREAM:
                assert layer.score_initializer.seed == layer.kernel_initializer.seed


def test_resnet_quirks_with_original_seeding_couple_score_and_kernel():
    from masktrainer.nn.resnet20 import resnet_seeds

    quirky = next(resnet_seeds(5, quirks=True, shared_stream=True))
    assert (quirky.kernel, quirky.score, quirky.shared_stream) == (5, 5, True)
    assert not next(resnet_seeds(5, quirks=False, shared_stream=True)).shared_stream
