"""laperm.models: the LaPerm notebooks' models (parameter counts, shapes, seeding)."""

import keras
import numpy as np
import pytest

from laperm.models import MODEL_NAMES, build_laperm_model, default_input_shape, resnet_v1

PARAMETER_COUNTS = {
    "F1": 7_840,
    "F2": 109_184,
    "Conv7": 325_578,
    "Conv2": 4_304_202,
    "Conv4": 2_429_514,
    "Conv13": 15_001_418,
    "ResNet50": 763_882,
}


def _weights_equal(a: keras.Model, b: keras.Model) -> list[bool]:
    return [np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights())]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_counts_and_output_shape(name):
    model = build_laperm_model(name, default_input_shape(name), seed=0)
    assert model.count_params() == PARAMETER_COUNTS[name]
    assert model.output.shape == (None, 10)


def test_default_input_shapes_and_unknown_name():
    assert default_input_shape("Conv7") == (28, 28, 1)
    assert default_input_shape("ResNet50") == (32, 32, 3)
    with pytest.raises(ValueError, match="Conv13"):
        build_laperm_model("VGG", (32, 32, 3))


def test_resnet_v1_depth():
    assert resnet_v1((32, 32, 3), 50).count_params() == PARAMETER_COUNTS["ResNet50"]
    assert resnet_v1((32, 32, 3), 20, num_classes=5).output.shape == (None, 5)
    with pytest.raises(ValueError):
        resnet_v1((32, 32, 3), 21)


@pytest.mark.parametrize("name", ["F2", "Conv7", "Conv4", "ResNet50"])
def test_seed_determines_every_weight(name):
    shape = default_input_shape(name)
    first = build_laperm_model(name, shape, seed=3)
    assert all(_weights_equal(first, build_laperm_model(name, shape, seed=3)))
    other = build_laperm_model(name, shape, seed=4)
    for variable, same in zip(first.weights, _weights_equal(first, other)):
        randomly_initialised = np.std(variable.numpy()) > 0
        assert same != randomly_initialised, variable.path  # random ones differ, constants match


def test_layers_get_distinct_seeds_and_unseeded_builds_differ():
    model = build_laperm_model("ResNet50", (32, 32, 3), seed=1)
    kernels = [v.numpy() for v in model.trainable_variables if v.shape == (3, 3, 16, 16)]
    assert len(kernels) == 16  # stack 0: 8 blocks x 2 convs
    assert all(not np.array_equal(kernels[0], k) for k in kernels[1:])
    a, b = (build_laperm_model("Conv7", (28, 28, 1)) for _ in range(2))
    assert not any(_weights_equal(a, b))
