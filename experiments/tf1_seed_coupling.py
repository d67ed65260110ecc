"""What TF1 graph mode does with a kernel and a score initialiser that share one op seed.

The self-pruning original builds both initialisers of a layer with ``seed=layer_seed``
(TF 1.14, graph mode, no graph seed). This script builds the same v1 initialisers in a
``tf.compat.v1`` graph of the installed TensorFlow (its stateful Philox kernels are the
ones TF1 ran), prints the (seed, seed2) attributes of the random ops, and checks which
kernel values are functions of the random bits the score is made of; then it runs the
same checks on the library's initialisers, with ``--seeding original`` (the score on
the kernel's stream) and with the default (independent streams).

    python -m experiments.tf1_seed_coupling [--seed 1234] [--shape 784,300]
"""

from __future__ import annotations

import argparse
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

_TRUNCATED_STD = 0.87962566103423978
_ATOL = 2e-3  # the uniforms are recovered from float32 scores


def box_muller(u0: float, u1: float) -> tuple[float, float]:
    """TF's float Box-Muller of two uniforms (random_distributions_utils.h, BoxMullerFloat)."""
    radius = math.sqrt(-2.0 * math.log(max(u0, 1e-7)))
    return radius * math.sin(2 * math.pi * u1), radius * math.cos(2 * math.pi * u1)


def truncated_from_uniforms(uniform: np.ndarray, n_values: int) -> tuple[np.ndarray, int]:
    """The truncated normals TF derives from ``uniform``'s bits: output group k (4 values)
    starts at Philox block 256k (uniform 1024k) and keeps Box-Muller values with |z| < 2
    (random_op_cpu.h, FillPhiloxRandomTask<..., true>). Returns the values and how many
    uniforms they consumed."""
    values, used = [], 0
    for group in range(n_values // 4):
        index, kept = 1024 * group, []
        if index + 64 > uniform.size:
            break
        while len(kept) < 4:
            for z in box_muller(uniform[index], uniform[index + 1]):
                if abs(z) < 2.0 and len(kept) < 4:
                    kept.append(z)
            index += 2
        used += index - 1024 * group
        values += kept
    return np.array(values), used


def report(name: str, kernel: np.ndarray, score: np.ndarray, kind: str, fan_in: int) -> None:
    uniform = ((score.ravel() - 0.01) / 0.09).astype(np.float64)
    kernel = kernel.ravel()
    if kind == "normal":
        pairs = [box_muller(a, b) for a, b in zip(uniform[0::2], uniform[1::2])]
        predicted = 0.1 + 0.05 * np.array(pairs).ravel()
        match = np.isclose(kernel, predicted, atol=_ATOL)
        print(f"{name}: normal kernel = Box-Muller of the score's uniforms for "
              f"{match.mean():.2%} of {kernel.size} entries")
        return
    std = math.sqrt(2.0 / fan_in) / _TRUNCATED_STD
    predicted, used = truncated_from_uniforms(uniform, kernel.size)
    match = np.isclose(kernel[: predicted.size] / std, predicted, atol=_ATOL)
    print(f"{name}: he kernel entries 4k..4k+3 (k < {predicted.size // 4}) predicted from the "
          f"score's uniforms 1024k..: {match.mean():.2%} of {predicted.size} "
          f"({predicted.size / kernel.size:.2%} of the kernel; they use {used} score entries, "
          f"{used / score.size:.2%} of the score)")


def tf1_graph(seed: int, shape: tuple[int, int]) -> None:
    import tensorflow as tf

    tf1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():  # TF 1.14's tf.compat.v1.keras.initializers are these init_ops
        he = tf1.initializers.he_normal(seed=seed)(shape)
        normal = tf1.random_normal_initializer(0.1, 0.05, seed=seed)(shape)
        score = tf1.random_uniform_initializer(0.01, 0.1, seed=seed)(shape)
        other = tf1.random_uniform_initializer(0.01, 0.1, seed=seed + 1)(shape)
        for op in graph.get_operations():
            if op.type.startswith(("Random", "Truncated")):
                print(f"  {op.type:22s} seed={op.get_attr('seed')} seed2={op.get_attr('seed2')}")
    with tf1.Session(graph=graph) as session:
        he, normal, score, other = session.run([he, normal, score, other])
    report("TF1 graph, same op seed", he, score, "he", shape[0])
    report("TF1 graph, same op seed", normal, score, "normal", shape[0])
    report("TF1 graph, op seed + 1 ", he, other, "he", shape[0])


def library(seed: int, shape: tuple[int, int]) -> None:
    from masktrainer.nn.initializers import (
        KERNEL_STREAM,
        SCORE_STREAM,
        ScoreUniform,
        ShiftedNormal,
        TruncatedVarianceScaling,
    )

    he = TruncatedVarianceScaling(2.0, "fan_in", seed=seed)(shape).numpy()
    normal = ShiftedNormal(0.1, 0.05, seed=seed)(shape).numpy()
    for label, stream in (("--seeding original   ", KERNEL_STREAM),
                          ("--seeding independent", SCORE_STREAM)):
        score = ScoreUniform(0.01, 0.1, seed=seed, stream=stream)(shape).numpy()
        report(f"library {label}", he, score, "he", shape[0])
        report(f"library {label}", normal, score, "normal", shape[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--shape", default="784,300")
    args = parser.parse_args()
    shape = tuple(int(d) for d in args.shape.split(","))
    tf1_graph(args.seed, shape)
    library(args.seed, shape)


if __name__ == "__main__":
    main()
