"""Our side of ``benchmark_peers``: the library's model of a peer, built and compiled as the
trainer builds it (``Trainer.build``: the method's model, the method's optimizer and the
compile arguments every run uses), under a Keras dtype policy, timed by ``model.fit``.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from experiments.peers import Peer
from experiments.timing import seconds_per_step
from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.run.evaluation import evaluation_compile_args

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to ``name`` inside the block (layers keep the policy they
    were built under; the train function is traced under it too)."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def run_config(peer: Peer, batch: int, seed: int) -> RunConfig:
    """The peer's run configuration; no augmentation (the originals augment in their data
    loaders, outside the training step both sides time)."""
    return RunConfig(traintype=peer.traintype, nettype=peer.nettype, batchsize=batch,
                     augment="none", seed=seed, **peer.options)


def build(peer: Peer, batch: int, precision: str, steps_per_execution: int,
          seed: int = 1) -> keras.Model:
    cfg = run_config(peer, batch, seed)
    method = methods.method_of(cfg)
    methods.register_keras_objects()
    keras.utils.set_random_seed(seed)
    runtime = method.runtime
    model = runtime.build_model(cfg, peer.input_shape, 10, seed, runtime.prepare(cfg))
    model.compile(optimizer=runtime.make_optimizer(cfg, seed),
                  steps_per_execution=steps_per_execution,
                  **evaluation_compile_args(cfg, method, penalised=cfg.alpha != 0.0))
    return model


def repeated_batch(x: np.ndarray, one_hot: np.ndarray) -> tf.data.Dataset:
    """One batch, repeated. tf.data autotuning off: it has nothing to tune here, and its
    thread made some ``fit`` calls wait idle after the last step (1 s, up to 40 s under
    load, measured on the 2-core development machine) — time that is not a training step."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensors((x, one_hot)).repeat().with_options(options)


def step_timer(peer: Peer, x: np.ndarray, labels: np.ndarray, precision: str,
               steps_per_execution: int, seed: int = 1) -> Callable[[int], float]:
    """``timer(steps)``: seconds per step of one ``fit`` over ``steps`` steps of the batch.
    The first call traces the train function (under the model's policy)."""
    with dtype_policy(POLICIES[precision]):
        model = build(peer, len(x), precision, steps_per_execution, seed)
    dataset = repeated_batch(x, np.eye(10, dtype=np.float32)[labels])
    traced = False

    def timer(steps: int) -> float:
        nonlocal traced
        if not traced:
            traced = True
            with dtype_policy(POLICIES[precision]):
                return seconds_per_step(model, dataset, steps)
        return seconds_per_step(model, dataset, steps)

    return timer
