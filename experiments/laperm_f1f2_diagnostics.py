"""Diagnostics for the LaPerm F1/F2 cross-checks, which miss the published numbers.

Two independent measurements that do not go through the masktrainer trainer:

``--mode notebook``: the notebooks' own loop around :class:`laperm.LaPerm`:
GradientTape on the batch-*summed* loss (+ batch x regularisers), all 60k
training images reshuffled every epoch, lr 1e-3 * 0.95^epoch set every step,
sync every k steps, evaluation on the test set every 250 steps (right after
each sync) and the best accuracy kept. If this matches the trainer, the gap
to the published numbers is in the recipe, not in the port.

``--mode ceiling`` (F1 only): how well the F1 model class can do at all under
cross-entropy: the same {0, 0.08} kernel with the same number of 0.08s per
output unit, but the positions chosen by a real-valued score per weight
(top-n per unit, straight-through gradient, Adam). Both optimise the same
objective over the same set of networks.

    python -m experiments.laperm_f1f2_diagnostics --mode notebook --net F1 --seeds 1,2,3
    python -m experiments.laperm_f1f2_diagnostics --mode ceiling --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from laperm import LaPerm  # noqa: E402
from masktrainer import RunConfig, build_model, load_data  # noqa: E402

PUBLISHED = {"F1": 85.46, "F2": 78.14}
EVAL_EVERY = 250  # the notebooks' validation_freq


def _mnist(net: str):
    splits = load_data(RunConfig(traintype="LaPerm", nettype=net, protocol="original"))
    labels = lambda one_hot: np.argmax(one_hot, axis=-1)  # noqa: E731
    return splits.x_train, labels(splits.y_train), splits.x_test, labels(splits.y_test)


def _accuracy(predict, x, y) -> float:
    hits = sum(int(np.sum(predict(x[i:i + 2000]).numpy() == y[i:i + 2000]))
               for i in range(0, len(x), 2000))
    return 100.0 * hits / len(x)


@dataclasses.dataclass
class LoopResult:
    best: float  # best test accuracy over the evaluations (%)
    trace: list[tuple[int, float]]  # (global step, test accuracy %) per evaluation, step 0 first
    best_weights: list[np.ndarray]  # the model's weights at the best evaluation


def notebook_loop(net: str, seed: int, epochs: int | None) -> float:
    """Best test accuracy of the notebook loop (evaluated every 250 steps)."""
    return run_notebook_loop(net, seed, epochs).best


def run_notebook_loop(net: str, seed: int, epochs: int | None, model: keras.Model | None = None,
                      first_epoch: int = 0) -> LoopResult:
    """The notebook loop from ``model`` (default: a fresh notebook model of ``seed``); the lr of
    epoch e is 1e-3 * 0.95^(first_epoch + e). Step 0 is evaluated too."""
    cfg = RunConfig(traintype="LaPerm", nettype=net, seed=seed, protocol="original")
    x, y, x_test, y_test = _mnist(net)
    keras.utils.set_random_seed(seed)
    if model is None:
        model = build_model(cfg, x.shape[1:], 10, seed)
    inner = keras.optimizers.Adam(1e-3)
    optimizer = LaPerm(inner, sync_period=cfg.sync_period, skip_bias=False, seed=seed)
    per_sample = keras.losses.SparseCategoricalCrossentropy(reduction=None)

    @tf.function
    def step(xb, yb, lr):
        inner.learning_rate.assign(lr)
        with tf.GradientTape() as tape:
            losses = per_sample(yb, model(xb, training=True))
            if model.losses:
                losses = losses + tf.add_n(model.losses)
            total = tf.reduce_sum(losses)  # the notebooks differentiate the batch sum
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)

    predict = tf.function(lambda xb: tf.argmax(model(xb, training=False), axis=-1))
    rng = np.random.RandomState(seed)
    step_count = 0
    trace = [(0, _accuracy(predict, x_test, y_test))]
    best, best_weights = trace[0][1], model.get_weights()
    for epoch in range(epochs or cfg.maxepochs):
        order = rng.permutation(len(x))
        lr = tf.constant(1e-3 * 0.95 ** (first_epoch + epoch), tf.float32)
        for start in range(0, len(x), cfg.batchsize):
            batch = order[start:start + cfg.batchsize]
            step(x[batch], y[batch], lr)
            step_count += 1
            if step_count % EVAL_EVERY == 0:
                trace.append((step_count, _accuracy(predict, x_test, y_test)))
                if trace[-1][1] > best:
                    best, best_weights = trace[-1][1], model.get_weights()
    optimizer.synchronize()  # the last step need not be a sync step
    if not optimizer.check_permutations(model.trainable_variables):
        raise AssertionError("LaPerm left a unit that is not a permutation of its initial values")
    return LoopResult(best, trace, best_weights)


def ceiling(seed: int, epochs: int, lr: float = 1e-2) -> float:
    """Best test accuracy of F1's model class trained by top-n scores (straight-through)."""
    x, y, x_test, y_test = _mnist("F1")
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    rng = np.random.RandomState(seed)
    # As agnosticize((4, 7)): each weight kept with p = 4/7 -> count of 0.08s per unit.
    counts = tf.constant((rng.randint(1, 8, (784, 10)) <= 4).sum(axis=0), tf.int32)
    scores = tf.Variable(rng.randn(784, 10).astype(np.float32) * 0.01)

    def kernel(s):
        rank = tf.argsort(tf.argsort(-tf.transpose(s), axis=-1), axis=-1)  # 0 = largest
        return tf.transpose(tf.cast(rank < counts[:, None], tf.float32)) * 0.08

    optimizer = keras.optimizers.Adam(lr)

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            w = scores + tf.stop_gradient(kernel(scores) - scores)  # straight-through
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                yb, tf.nn.softmax(xb @ w)))
        optimizer.apply([tape.gradient(loss, scores)], [scores])

    predict = tf.function(lambda xb: tf.argmax(xb @ kernel(scores), axis=-1))
    best = 0.0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 128):
            batch = order[start:start + 128]
            step(x[batch], y[batch])
        best = max(best, _accuracy(predict, x_test, y_test))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["notebook", "ceiling"], default="notebook")
    parser.add_argument("--net", choices=sorted(PUBLISHED), default="F1")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: the notebook's (F1 10, F2 25); ceiling: 10")
    args = parser.parse_args(argv)
    try:
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    if args.mode == "ceiling" and args.net != "F1":
        parser.error("--mode ceiling exists for F1 only")
    results = []
    for seed in seeds:
        if args.mode == "notebook":
            accuracy = notebook_loop(args.net, seed, args.epochs)
        else:
            accuracy = ceiling(seed, args.epochs or 10)
        results.append(accuracy)
        print(f"{args.mode} {args.net} seed {seed}: best test accuracy {accuracy:.2f}%",
              flush=True)
    print(f"{args.mode} {args.net}: mean {statistics.mean(results):.2f}% over seeds {seeds} "
          f"(published {PUBLISHED[args.net]}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
