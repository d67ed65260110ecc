"""The binary initialiser's scale (masktrainer.methods.self_pruning.binary_scale): the formula,
the original's literals and when they apply."""

import pytest

from masktrainer.methods.self_pruning.binary_scale import (
    ORIGINAL_BINARY_SCALES,
    binary_input_scale,
    binary_scale_formula,
)
from masktrainer.nn.architectures import kernel_fan_ins


def test_binary_scale_formula_reproduces_conv_literals():
    shapes = {"Conv2": (32, 32, 3), "Conv4": (32, 32, 3), "Conv6": (32, 32, 3)}
    for net, shape in shapes.items():
        formula = binary_scale_formula(kernel_fan_ins(net, shape, 10))
        assert formula == pytest.approx(ORIGINAL_BINARY_SCALES[net], rel=1e-7)


def test_binary_scale_lenet_literal_deviation_is_fan_in_289():
    fans = kernel_fan_ins("LeNet", (28, 28, 1), 10)
    assert fans == [784, 300, 100]
    formula = binary_scale_formula(fans)
    literal = ORIGINAL_BINARY_SCALES["LeNet"]
    assert literal / formula == pytest.approx(1.01885, abs=1e-5)  # 1.9 % larger
    assert binary_scale_formula([784, 289, 100]) == pytest.approx(literal, rel=1e-15)
    assert binary_input_scale("LeNet", fans, "original") == literal
    assert binary_input_scale("LeNet", fans, "formula") == formula


def test_binary_literal_only_for_the_original_input_shape():
    mnist_fans = kernel_fan_ins("Conv2", (28, 28, 1), 10)
    assert binary_input_scale("Conv2", mnist_fans, "original") == binary_scale_formula(mnist_fans)
    cifar_fans = kernel_fan_ins("LeNet", (32, 32, 3), 10)
    assert binary_input_scale("LeNet", cifar_fans, "original") == binary_scale_formula(cifar_fans)
