"""Target C12: exact structure and initialiser checks, no training. The architectures are
built by the library with plain layers and their kernel weights counted; the signed He
constant and edge-popup's kept count are checked on large tensors."""

from __future__ import annotations

import math

import numpy as np

from experiments.crosscheck.checks import Verdict

# published.json key -> (architecture, input shape)
COUNTED = {
    "P2-koster:params_LeNet": ("LeNet", (28, 28, 1)),
    "P2-koster:params_Conv2": ("Conv2", (32, 32, 3)),
    "P2-koster:params_Conv4": ("Conv4", (32, 32, 3)),
    "P2-koster:params_Conv6": ("Conv6", (32, 32, 3)),
    "P2-cfg:params_Conv8": ("Conv8", (32, 32, 3)),
    "P3-code:params_SlotConv2": ("SlotConv2", (32, 32, 3)),
    "P3-code:params_SlotConv4": ("SlotConv4", (32, 32, 3)),
    "P3-code:params_SlotConv6": ("SlotConv6", (32, 32, 3)),
    "P3-code:params_VGG19": ("VGG19", (32, 32, 3)),
}


def _counts(published: dict) -> list[tuple[bool, str]]:
    from masktrainer.nn.build import build_network, kernel_parameter_count
    from masktrainer.nn.layer_factory import DenseReferenceLayers

    parts = []
    for key, (name, shape) in COUNTED.items():
        count = kernel_parameter_count(build_network(name, shape, 10, DenseReferenceLayers()))
        expected = int(published[key]["value"])
        parts.append((count == expected, f"{name} {count:,} vs {expected:,}"))
    return parts


def _initialiser() -> list[tuple[bool, str]]:
    from masktrainer.nn.initializers import SignedConstant

    shape, p1 = (1024, 1024), 0.7
    values = np.asarray(SignedConstant(p1, "he", seed=3)(shape))
    magnitude = math.sqrt(2.0 / shape[0])
    exact = bool(np.all(np.abs(values) == np.float32(magnitude)))
    positive = float(np.mean(values > 0))
    std = float(np.sqrt(np.mean(values ** 2)))
    return [(exact, f"|w| = √(2/fan_in) exactly: {exact}"),
            (abs(positive - p1) < 0.01, f"P(+) {positive:.4f} vs p1 {p1}"),
            (abs(std / magnitude - 1) < 0.01, f"rms {std:.6f} vs {magnitude:.6f}")]


def _kept() -> list[tuple[bool, str]]:
    import tensorflow as tf

    from masktrainer.methods.edge_popup.layers import edge_popup_mask, kept_count

    parts = []
    for size, keep in ((266_200, 0.5), (16_384 * 256, 0.3), (1_000, 0.07)):
        scores = tf.random.stateless_normal((size,), seed=(1, size))
        kept = int(tf.reduce_sum(edge_popup_mask(scores, keep)))
        expected = size - int((1 - keep) * size)
        parts.append((kept == expected == kept_count(size, keep),
                      f"kept {kept:,} of {size:,} at k {keep} (n − int((1−k)·n) = {expected:,})"))
    return parts


def structure_verdict(published: dict) -> Verdict:
    parts = [*_counts(published), *_initialiser(), *_kept()]
    failing = [text for ok, text in parts if not ok]
    ours = f"{sum(ok for ok, _ in parts)}/{len(parts)} checks exact"
    reason = "; ".join(f"FAILS: {text}" for text in failing) or "; ".join(t for _, t in parts)
    return Verdict("fail" if failing else "pass", ours, reason)
