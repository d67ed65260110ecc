"""Benchmark: the trainer's training time per epoch ÷ (steps × the same model's plain step).

The trainer adds per-step duties to Keras' ``fit`` (non-finite-loss stop, stop signals,
heartbeats, step checkpoints), calls ``fit`` once per epoch and feeds batches by index
gathering. This measures what that costs, in one run: for each case and each
``--steps_per_execution``, a real run of the trainer (``masktrainer.run.trainer.Trainer``)
whose ``fit`` calls are timed from call to return (epochs after the first, which traces),
against the same compiled model's plain ``fit`` over a repeated in-memory batch
(``steps_per_execution`` 1, Keras' default), timed right after each epoch of the trainer
(interleaved, so a change of the machine's load hits both alike). Evaluation is not part of
either figure; the ratio is the median of the epochs' ratios.

    python -m experiments.benchmark_trainer --data_dir DIR            # LeNet and Conv4
    python -m experiments.benchmark_trainer --cases lenet --steps_per_execution 1,32
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from experiments.timing import json_output_problem, seconds_per_step  # noqa: E402
from masktrainer.config import RunConfig  # noqa: E402
from masktrainer.data.preprocessing import Splits  # noqa: E402
from masktrainer.run.hardware import describe_cpu  # noqa: E402
from masktrainer.run.loading import load_data  # noqa: E402
from masktrainer.run.trainer import Trainer  # noqa: E402
from masktrainer.safe_io import atomic_write_json, given_paths_problem  # noqa: E402

#: case -> (settings, training images used). LeNet: self-pruning's net, batch and data;
#: Conv4: edge-popup (hidden-networks' Conv4, batch 128) on a CIFAR-10 slice.
CASES = {
    "lenet": ({"traintype": "FreePruning", "nettype": "LeNet"}, 20_000),
    "conv4": ({"traintype": "EdgePopup", "nettype": "Conv4", "dataset": "cifar10",
               "augment": "none"}, 6_400),
}
TARGET = 1.10  # issue 23: the trainer's epoch <= 1.10 x (steps x plain step)


class LastStep(keras.callbacks.Callback):
    """When the last training execution of a ``fit`` call ended."""

    def __init__(self) -> None:
        super().__init__()
        self.at = 0.0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.at = time.perf_counter()


@contextmanager
def timed_fits(last: LastStep) -> Iterator[tuple[list[float], list[float]]]:
    """Record the wall time of every ``keras.Model.fit`` call made inside the block, and
    the time from its last training step to its return (the wait at the end of ``fit``)."""
    seconds: list[float] = []
    tails: list[float] = []
    original = keras.Model.fit

    def fit(self, *args, **kwargs):
        if not any(c is last for c in kwargs.get("callbacks") or ()):
            return original(self, *args, **kwargs)  # not the trainer's (the reference's)
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            end = time.perf_counter()
            seconds.append(end - start)
            tails.append(end - last.at)

    keras.Model.fit = fit
    try:
        yield seconds, tails
    finally:
        keras.Model.fit = original


def _slice(data: Splits, images: int) -> Splits:
    return Splits(data.x_train[:images], data.y_train[:images], data.x_val[:500],
                  data.y_val[:500], data.x_test[:500], data.y_test[:500], data.num_classes,
                  data.source)


def measure(case: str, spe: int, epochs: int, repeats: int, data_dir: str | None,
            precision: str) -> dict:
    settings, images = CASES[case]
    with tempfile.TemporaryDirectory() as out:
        cfg = RunConfig(**settings, maxepochs=epochs, seed=1, progress="none",
                        tensorboard=False, outputpath=out, steps_per_execution=spe,
                        precision=precision, heartbeat_minutes=0,
                        data_dir=data_dir if settings.get("dataset") == "cifar10" else None)
        data = _slice(load_data(cfg), images)
        steps = -(-images // cfg.batchsize)
        # The plain reference: the same model, compiled the same, one step per call.
        reference = Trainer(cfg.replace(steps_per_execution=1), data=data, echo=None).build()
        x, y = data.x_train[: cfg.batchsize], data.y_train[: cfg.batchsize]
        batch = tf.data.Dataset.from_tensors((x, y)).repeat()
        seconds_per_step(reference, batch, max(5, steps // 10))  # trace and warm up
        plain: list[float] = []

        def after_epoch(line: str) -> None:  # the trainer's epoch lines: time the reference
            if line.startswith("epoch ") and not line.startswith("epoch   0"):
                plain.append(statistics.median(seconds_per_step(reference, batch, steps)
                                               for _ in range(repeats)))

        last = LastStep()
        trainer = Trainer(cfg, data=data, echo=after_epoch, callbacks=(last,))
        with timed_fits(last) as (fits, tails):
            trainer.run()
    ratios = [fit / (steps * step) for fit, step in zip(fits[1:], plain[1:])]
    return {"case": case, "steps_per_execution": spe, "precision": precision,
            "batch": cfg.batchsize, "steps": steps,
            "trainer_epoch_s": statistics.median(fits[1:]),
            "plain_step_ms": 1e3 * statistics.median(plain[1:]),
            "ratio": statistics.median(ratios), "end_of_fit_wait_ms": 1e3 * max(tails)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="lenet,conv4")
    parser.add_argument("--steps_per_execution", default="1,32",
                        help="comma list of the trainer's --steps_per_execution")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--epochs", type=int, default=3, help="trainer epochs (>= 3)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="plain-fit repeats after each trainer epoch")
    parser.add_argument("--data_dir", default=os.environ.get("MASKTRAINER_DATA_DIR"),
                        help="CIFAR-10 .bin folder (conv4)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if problem := json_output_problem(args.json) or given_paths_problem(
            {"--data_dir": args.data_dir}):
        parser.error(problem)
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown or args.epochs < 3:
        parser.error(f"unknown case(s) {unknown}" if unknown
                     else "--epochs must be >= 3 (the first epoch traces)")
    if "conv4" in cases and not args.data_dir:
        parser.error("conv4 reads CIFAR-10: give --data_dir (or MASKTRAINER_DATA_DIR)")
    spes = [int(n) for n in args.steps_per_execution.split(",")]
    cpu = describe_cpu()
    print(f"# {cpu['model']}, {cpu['cores']} cores, bfloat16 flags "
          f"{','.join(cpu['bfloat16_flags']) or 'none'}; TF {tf.__version__}, Keras "
          f"{keras.__version__}; load average {os.getloadavg()[0]:.2f}")
    print("| case | steps/execution | precision | batch | steps | trainer s/epoch | "
          f"plain ms/step | ratio (target <= {TARGET}) | longest end-of-fit wait |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for case in cases:
        for spe in spes:
            row = measure(case, spe, args.epochs, args.repeats, args.data_dir, args.precision)
            rows.append(row)
            print(f"| {case} | {spe} | {row['precision']} | {row['batch']} | {row['steps']} | "
                  f"{row['trainer_epoch_s']:.2f} | {row['plain_step_ms']:.2f} | "
                  f"{row['ratio']:.3f} | {row['end_of_fit_wait_ms']:.0f} ms |", flush=True)
    print(f"# load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        atomic_write_json(args.json, {"cpu": cpu, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
