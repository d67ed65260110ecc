"""The first thing to run on a new accelerator: throughput per method and precision, then the
first chunk of a GPU cross-check target, within a time budget, as one JSON + Markdown report.

For every method (its Conv4 on CIFAR-10-shaped input, batch 128, compiled as the trainer
compiles it: ``Trainer.build``) and every precision the device supports (float32,
mixed_bfloat16, mixed_float16 on GPUs), with XLA off and on, it times training steps on a
repeated synthetic batch and reports images per second. With several GPUs the models are
mirrored across all of them (``--distribute mirrored``: the global batch is split). Then it
starts the cross-check target ``--target`` (a GPU target, G4 by default) with
``--stop_after`` set to the minutes left, so the same command of the cross-check continues it.

    python -m experiments.device_check --data_dir DIR --minutes 8 --out device_check
    python -m experiments.device_check --smoke --out /tmp/dc     # seconds, on any CPU

A measurement that would not fit the budget is skipped and listed as such.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from masktrainer import methods
from masktrainer.safe_io import given_paths_problem

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
#: method key -> settings of its Conv4 run (LaPerm: the notebook's Conv4): its first train
#: type, except where another is the one its paper is known by (self-pruning's FreePruning),
#: plus what its default needs on CIFAR-10 (Slot Machines: K and the split).
_SPECIAL = {"self_pruning": {"traintype": "FreePruning"},
            "slot_machines": {"slots": 8, "split": "head"}}
METHOD_SETTINGS = {m.key: {"traintype": m.train_types[0], "nettype": "Conv4",
                           **_SPECIAL.get(m.key, {})} for m in methods.METHODS}
SMOKE = {"batch": 8, "steps": 2, "image": 32}
FULL = {"batch": 128, "steps": 20, "image": 32}


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=8.0, help="the whole check's budget")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one method, float32 without XLA, no cross-check "
                        "(seconds, on any CPU)")
    parser.add_argument("--out", required=True, help="folder for device_check.{json,md}")
    parser.add_argument("--data_dir", default=os.environ.get("MASKTRAINER_DATA_DIR"),
                        help="CIFAR-10 .bin folder, for the cross-check target")
    parser.add_argument("--target", default="G4", help="the cross-check target to start")
    parser.add_argument("--methods", default=",".join(METHOD_SETTINGS))
    args = parser.parse_args(argv)
    if unusable := given_paths_problem({"--out": args.out, "--data_dir": args.data_dir}):
        parser.error(unusable)
    if not 0 < args.minutes <= 600:
        parser.error("--minutes must be in (0, 600]")
    unknown = sorted(set(args.methods.split(",")) - set(METHOD_SETTINGS))
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; "
                     f"known: {', '.join(METHOD_SETTINGS)}")
    out = Path(args.out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        parser.error(f"--out {out} is not a folder")
    return args


def _devices() -> dict:
    import tensorflow as tf

    from masktrainer.run.hardware import describe_cpu

    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        gpus.append({"name": details.get("device_name", gpu.name),
                     "compute_capability": list(details.get("compute_capability") or [])})
    return {"cpu": describe_cpu(), "gpus": gpus, "platform": platform.platform(),
            "tensorflow": tf.__version__}


def _precisions(devices: dict, smoke: bool) -> list[str]:
    if smoke:
        return ["float32"]
    if devices["gpus"]:
        return list(PRECISIONS)
    native = bool(devices["cpu"]["bfloat16_flags"])
    return ["float32", "mixed_bfloat16"] if native else ["float32"]


def images_per_second(method: str, precision: str, xla: bool, size: dict,
                      replicated: bool) -> float:
    """Training throughput of one method's Conv4, compiled as the trainer compiles it."""
    import numpy as np
    import tensorflow as tf

    from masktrainer.config import RunConfig
    from masktrainer.data.preprocessing import Splits
    from masktrainer.run.trainer import Trainer

    batch, steps, side = size["batch"], size["steps"], size["image"]
    cfg = RunConfig(**METHOD_SETTINGS[method], dataset="cifar10", data_source="auto",
                    batchsize=batch, precision=precision, jit_compile="on" if xla else "off",
                    distribute="mirrored" if replicated else "none", seed=1,
                    progress="none", tensorboard=False, outputpath="unused")
    rng = np.random.RandomState(0)
    x = rng.rand(batch, side, side, 3).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, batch)]
    data = Splits(x, y, x, y, x, y, 10, "synthetic")
    model = Trainer(cfg, data=data, echo=None).build()
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # trace, warm up
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return batch * steps / (time.perf_counter() - start)


def _crosscheck(args: argparse.Namespace, minutes: float, out: Path) -> dict:
    """Start the cross-check target in a child process with --stop_after ``minutes``."""
    command = [sys.executable, "-m", "experiments.crosscheck", "--full", "--targets",
               args.target, "--stop_after", f"{minutes:.2f}",
               "--outputpath", str(out / "crosscheck")]
    if args.data_dir:
        command += ["--data_dir", args.data_dir]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=60 * minutes + 300)
        code, tail = done.returncode, (done.stdout + done.stderr)[-2000:]
    except subprocess.TimeoutExpired:
        code, tail = None, "did not stop in time"
    return {"command": " ".join(command), "exit_code": code, "seconds": round(
        time.perf_counter() - start, 1), "output_tail": tail}


def run(args: argparse.Namespace) -> dict:
    from masktrainer.quiet import import_tensorflow

    import_tensorflow()
    began = time.perf_counter()
    budget = 60.0 * args.minutes
    devices = _devices()
    size = SMOKE if args.smoke else FULL
    methods = args.methods.split(",")[:1] if args.smoke else args.methods.split(",")
    replicated = len(devices["gpus"]) > 1
    rows, skipped = [], []
    # Leave a third of the budget to the cross-check chunk on a GPU.
    measuring = budget if args.smoke or not devices["gpus"] else budget * 2 / 3
    longest = 0.0
    for method in methods:
        for precision in _precisions(devices, args.smoke):
            for xla in (False,) if args.smoke else (False, True):
                left = measuring - (time.perf_counter() - began)
                if left < 1.5 * longest:
                    skipped.append(f"{method} {precision} xla={'on' if xla else 'off'}: "
                                   "over the budget")
                    continue
                start = time.perf_counter()
                try:
                    rate = images_per_second(method, precision, xla, size, replicated)
                    rows.append({"method": method, "precision": precision,
                                 "xla": xla, "images_per_s": round(rate, 1)})
                except Exception as err:  # a failure is a finding: keep it, go on
                    reason = str(err).strip().splitlines()
                    rows.append({"method": method, "precision": precision, "xla": xla,
                                 "error": f"{type(err).__name__}: {reason[-1] if reason else ''}"})
                longest = max(longest, time.perf_counter() - start)
    report = {"devices": devices, "batch": size["batch"], "steps": size["steps"],
              "replicas": max(1, len(devices["gpus"])), "rows": rows, "skipped": skipped}
    left = budget - (time.perf_counter() - began)
    if args.smoke or not devices["gpus"]:
        report["crosscheck"] = {"skipped": "no GPU" if not args.smoke else "--smoke"}
    elif left < 120:
        report["crosscheck"] = {"skipped": f"{left:.0f} s left of the budget"}
    else:
        report["crosscheck"] = _crosscheck(args, (left - 60) / 60.0, Path(args.out))
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report


def markdown(report: dict) -> str:
    devices = report["devices"]
    gpus = ", ".join(f"{g['name']} (cc {'.'.join(map(str, g['compute_capability']))})"
                     for g in devices["gpus"]) or "none"
    cpu = devices["cpu"]
    lines = [f"# Device check ({report['seconds']} s)", "",
             f"GPUs: {gpus}; CPU: {cpu['model']}, {cpu['cores']} cores, bfloat16 flags "
             f"{', '.join(cpu['bfloat16_flags']) or 'none'}; TensorFlow "
             f"{devices['tensorflow']}; batch {report['batch']} over {report['replicas']} "
             f"replica(s), {report['steps']} timed steps.", "",
             "| method | precision | XLA | images/s |", "|---|---|---|---|"]
    for row in report["rows"]:
        value = row.get("images_per_s", row.get("error"))
        lines.append(f"| {row['method']} | {row['precision']} | {'on' if row['xla'] else 'off'}"
                     f" | {value} |")
    for item in report["skipped"]:
        lines.append(f"\nskipped: {item}")
    check = report["crosscheck"]
    lines += ["", "## Cross-check chunk", "",
              check.get("skipped") and f"skipped: {check['skipped']}" or
              f"`{check['command']}` → exit {check['exit_code']} after {check['seconds']} s "
              "(the same command continues it)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _options(argv)
    from masktrainer import safe_io

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args)
    except KeyboardInterrupt:
        print("device_check: interrupted; nothing written", file=sys.stderr)
        return 130
    safe_io.atomic_write_json(out / "device_check.json", report)
    safe_io.atomic_write_text(out / "device_check.md", markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
