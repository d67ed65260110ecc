"""Benchmark: masked train step / dense train step, same architecture, one run.

The masked model is FreePruning (frozen kernel, trained score, ``mask``); the
reference is the same architecture from plain bias-free ``keras.layers.Dense``
/ ``Conv2D`` with trainable kernels. Both train with Adam through
``model.fit`` on a repeated in-memory batch, so the ratio isolates the cost of
the mask (compare, multiply, straight-through backward). Repeats are
interleaved and the median step time is reported.

    python -m experiments.benchmark_step_time            # LeNet + Conv6, XLA on and off
    python -m experiments.benchmark_step_time --nets LeNet --steps 500 --repeats 7
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
from masktrainer import DenseReferenceLayers, SelfPruningLayers, build_network  # noqa: E402
from masktrainer.safe_io import atomic_write_json  # noqa: E402

SHAPES = {"LeNet": (28, 28, 1), "Conv2": (32, 32, 3), "Conv4": (32, 32, 3), "Conv6": (32, 32, 3)}
TARGETS = {"LeNet": 1.10, "Conv6": 1.05}


def _model(net: str, masked: bool, jit: bool) -> keras.Model:
    factory = SelfPruningLayers() if masked else DenseReferenceLayers()
    model = build_network(net, SHAPES[net], 10, factory)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  jit_compile=jit)
    return model


def measure(net: str, jit: bool, batch: int, steps: int, repeats: int) -> dict:
    rng = np.random.RandomState(0)
    x = rng.randn(batch, *SHAPES[net]).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, batch)]
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    models = {"masked": _model(net, True, jit), "dense": _model(net, False, jit)}
    median = median_step_seconds(models, dataset, steps, repeats, max(5, steps // 10))
    masked, dense = median["masked"], median["dense"]
    return {"net": net, "jit": jit, "batch": batch, "steps": steps, "repeats": repeats,
            "masked_ms": 1e3 * masked, "dense_ms": 1e3 * dense, "ratio": masked / dense}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="LeNet,Conv6")
    parser.add_argument("--batch", type=int, default=25, help="the original's batch size")
    parser.add_argument("--steps", type=int, default=0, help="steps per repeat (0: per net)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if problem := json_output_problem(args.json):
        parser.error(problem)

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, devices "
          f"{[d.device_type for d in tf.config.list_logical_devices()]}, "
          f"{os.cpu_count()} CPU cores")
    rows = []
    for net in args.nets.split(","):
        if net not in SHAPES:
            parser.error(f"unknown net {net!r}; choose from {', '.join(SHAPES)}")
        steps = args.steps or (1000 if net == "LeNet" else 100)
        for jit in (False, True):
            row = measure(net, jit, args.batch, steps, args.repeats)
            rows.append(row)
            target = TARGETS.get(net)
            verdict = "" if target is None else (
                f"  (target <= {target:.2f}: {'met' if row['ratio'] <= target else 'NOT met'})")
            print(f"{net:6s} XLA {'on ' if jit else 'off'} batch {row['batch']}: masked "
                  f"{row['masked_ms']:.3f} ms/step, dense {row['dense_ms']:.3f} ms/step, "
                  f"ratio {row['ratio']:.3f}{verdict}", flush=True)
    if args.json:
        atomic_write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
