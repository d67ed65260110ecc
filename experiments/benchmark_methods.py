"""Benchmark: edge-popup and slot-machine (K=8) train step / dense train step, Conv4, CIFAR shape.

All three models are the same-padding Conv4 on 32x32x3 inputs, batch 128, trained
with the same optimiser (``L2MomentumSGD``, momentum 0.9, L2 1e-4) through
``model.fit`` on a repeated in-memory batch; the reference has plain bias-free
``Dense``/``Conv2D`` layers with trainable kernels. Repeats are interleaved and
the median step time is reported, with XLA on and off, in one run.

    python -m experiments.benchmark_methods                   # both XLA modes
    python -m experiments.benchmark_methods --steps 10 --repeats 1 --xla off   # quick check
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from experiments.timing import json_output_problem, median_step_seconds  # noqa: E402
from masktrainer import (  # noqa: E402
    DenseReferenceLayers,
    EdgePopupLayers,
    L2MomentumSGD,
    SlotMachineLayers,
    build_network,
)
from masktrainer.safe_io import atomic_write_json  # noqa: E402

SHAPE = (32, 32, 3)
TARGETS = {"edge_popup": 1.05, "slots_k8": 1.5}
FACTORIES = {
    "dense": DenseReferenceLayers,
    "edge_popup": lambda: EdgePopupLayers(keep_ratio=0.5, initializer="signed_constant"),
    "slots_k8": lambda: SlotMachineLayers(slots=8, selection="greedy"),
}


def _model(kind: str, net: str, jit: bool) -> keras.Model:
    model = build_network(net, SHAPE, 10, FACTORIES[kind]())
    model.compile(optimizer=L2MomentumSGD(0.1, momentum=0.9, l2=1e-4),
                  loss="categorical_crossentropy", jit_compile=jit)
    return model


def measure(net: str, jit: bool, batch: int, steps: int, repeats: int) -> dict:
    rng = np.random.RandomState(0)
    x = rng.randn(batch, *SHAPE).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, batch)]
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    models = {kind: _model(kind, net, jit) for kind in FACTORIES}
    median = median_step_seconds(models, dataset, steps, repeats, max(2, steps // 5))
    return {
        "net": net,
        "xla": jit,
        "batch": batch,
        "step_ms": {kind: round(1000 * value, 2) for kind, value in median.items()},
        "ratios": {kind: round(median[kind] / median["dense"], 3) for kind in TARGETS},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="Conv4")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--xla", choices=("both", "on", "off"), default="both")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if problem := json_output_problem(args.json):
        parser.error(problem)
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.xla]
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"devices {[d.device_type for d in tf.config.list_physical_devices()]}")
    results = []
    for jit in modes:
        result = measure(args.net, jit, args.batch, args.steps, args.repeats)
        results.append(result)
        for kind, target in TARGETS.items():
            ratio = result["ratios"][kind]
            verdict = "ok" if ratio <= target else "above target"
            print(f"{args.net} XLA {'on ' if jit else 'off'} {kind:>10} / dense: {ratio:.3f} "
                  f"(target <= {target}; {result['step_ms'][kind]} ms vs "
                  f"{result['step_ms']['dense']} ms) {verdict}")
    if args.json:
        atomic_write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
