"""The input scale of ``--initializer binary`` (+-1 weights): the original's literals or the formula.

No TensorFlow here: data loading asks for the factor before any model exists.
"""

from __future__ import annotations

import math
from typing import Sequence

BINARY_SCALES = ("original", "formula")  # --binary_input_scale

# The original's fan-ins (MNIST 28x28x1 for LeNet, CIFAR 32x32x3 for ConvN).
ORIGINAL_FAN_INS = {
    "LeNet": (784, 300, 100),
    "Conv2": (27, 576, 16384, 256, 256),
    "Conv4": (27, 576, 576, 1152, 8192, 256, 256),
    "Conv6": (27, 576, 576, 1152, 1152, 2304, 4096, 256, 256),
}
# The input-scaling literals of the original for --initializer binary.
ORIGINAL_BINARY_SCALES = {
    "LeNet": 0.0005942073791483592,
    "Conv2": 1.384305440187043e-06,
    "Conv4": 4.806616356300754e-09,
    "Conv6": 8.344820201940066e-12,
}


def binary_scale_formula(fan_ins: Sequence[int]) -> float:
    """Product over masked layers of sqrt(2 / fan_in).

    Multiplying the input of a bias-free, positively homogeneous (ReLU) network
    with +-1 weights by this number gives the logits of the same network with
    signed He-constant weights.
    """
    return math.prod(math.sqrt(2.0 / f) for f in fan_ins)


def binary_input_scale(nettype: str, fan_ins: Sequence[int], mode: str = "original") -> float:
    """The input multiplier used with ``binary`` weights.

    ``mode="original"`` returns the original's literal where it has one, i.e.
    for the original architecture on its original input shape (the LeNet
    literal equals the formula with a fan-in of 289 instead of 300 for the
    second layer, i.e. 1.9 % larger); ``"formula"`` always uses the formula,
    and so does any other architecture/input combination.
    """
    if mode not in BINARY_SCALES:
        raise ValueError(f"mode must be 'original' or 'formula', got {mode!r}")
    if mode == "original" and tuple(fan_ins) == ORIGINAL_FAN_INS.get(nettype):
        return ORIGINAL_BINARY_SCALES[nettype]
    return binary_scale_formula(fan_ins)
