"""Benchmark: our training step ÷ the PyTorch original's, float32 and bfloat16, one run.

Three peers (``experiments/peers``): edge-popup's Conv4 (hidden-networks' ``SubnetConv``),
Slot Machines' Conv4 with K = 8, and self-pruning's straight-through masked
LeNet-300-100 (batch 25). Theirs are PyTorch re-implementations of the originals' layers,
nets, optimizers and per-step bookkeeping (``experiments/peers/torch_nets.py``); ours are
the library's models built and compiled as the trainer does and trained by ``model.fit``.
A step is forward, backward and optimizer update on one batch of the original's size and
input shape, repeated. bfloat16 is Keras' ``mixed_bfloat16`` policy on ours and
``torch.autocast("cpu", dtype=torch.bfloat16)`` on theirs. Both sides run on ``--threads``
threads; every repeat times each variant once, alternating the order (ours/theirs), and
the ratios ours ÷ theirs (of the medians, and the median of the per-repeat ratios), plus
ours in bfloat16 ÷ theirs in float32.
Needs PyTorch: ``pip install ".[bench]"``.

    python -m experiments.benchmark_peers --out bench/peers
    python -m experiments.benchmark_peers --smoke --out /tmp/peers      # seconds, a check
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from experiments.peers import PEERS  # noqa: E402
from masktrainer.errors import USAGE_EXIT  # noqa: E402
from masktrainer.safe_io import folder_problem, given_paths_problem  # noqa: E402

PRECISIONS = ("float32", "bfloat16")
SMOKE = {"batch": 8, "steps": 2, "repeats": 1, "warmup_steps": 1}
NO_TORCH = ('benchmark_peers needs PyTorch, which is not installed: pip install ".[bench]" '
            "(from the repository's folder)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default=",".join(PEERS), help=f"from {', '.join(PEERS)}")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--steps", type=int, default=0,
                        help="timed steps per repeat (0: per net, 20 for Conv4, 300 for LeNet)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup_steps", type=int, default=0, help="0: a fifth of --steps")
    parser.add_argument("--batch", type=int, default=0, help="0: the original's (128, 25)")
    parser.add_argument("--threads", type=int, default=2,
                        help="TF intra/inter-op and torch threads; 0: each library's default")
    parser.add_argument("--steps_per_execution", type=int, default=1,
                        help="ours: Keras' steps_per_execution (the trainer's flag)")
    parser.add_argument("--omp_wait_policy", choices=("unset", "passive", "active"),
                        default="unset",
                        help="OMP_WAIT_POLICY for PyTorch's OpenMP threads (unset: as shipped); "
                        "passive keeps them from spinning on a machine loaded by other work")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write benchmark_peers.json and .md into this folder")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes (batch 8, 2 steps, 1 repeat): checks that it runs")
    return parser


def _check(args: argparse.Namespace) -> str | None:
    """Why the arguments cannot run, or None."""
    if unusable := given_paths_problem({"--out": args.out}):
        return unusable
    unknown = [n for n in args.nets.split(",") if n not in PEERS]
    if unknown:
        return f"--nets: unknown {unknown[0]!r}; choose from {', '.join(PEERS)}"
    wrong = [p for p in args.precisions.split(",") if p not in PRECISIONS]
    if wrong:
        return f"--precisions: unknown {wrong[0]!r}; choose from {', '.join(PRECISIONS)}"
    for name in ("steps", "warmup_steps", "batch", "threads"):
        if getattr(args, name) < 0:
            return f"--{name} must be >= 0"
    if args.repeats < 1 or args.steps_per_execution < 1:
        return "--repeats and --steps_per_execution must be >= 1"
    if args.out and (problem := folder_problem(args.out)):
        return f"--out {args.out}: {problem}"
    return None


def _set_threads(threads: int) -> dict[str, Any]:
    """Both libraries on ``threads`` threads (before either runs anything)."""
    import tensorflow as tf
    import torch

    applied: dict[str, Any] = {"requested": threads}
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran something in this process
            applied["note"] = "TensorFlow was already initialised: its threads are unchanged"
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass  # only settable once per process
    applied.update(tensorflow=[tf.config.threading.get_intra_op_parallelism_threads(),
                               tf.config.threading.get_inter_op_parallelism_threads()],
                   torch=[torch.get_num_threads(), torch.get_num_interop_threads()])
    return applied


def measure(key: str, sizes: dict[str, int], precisions: list[str], steps_per_execution: int,
            seed: int) -> dict[tuple[str, str], list[float]]:
    """Seconds per step of every (side, precision) of one net, interleaved repeats."""
    import numpy as np

    from experiments.peers import ours, torch_nets

    peer = PEERS[key]
    rng = np.random.RandomState(seed)
    x = rng.randn(sizes["batch"], *peer.input_shape).astype(np.float32)
    labels = rng.randint(0, 10, sizes["batch"])
    timers: dict[tuple[str, str], Callable[[int], float]] = {}
    for precision in precisions:
        timers["ours", precision] = ours.step_timer(peer, x, labels, precision,
                                                    steps_per_execution, seed)
        timers["theirs", precision] = torch_nets.step_timer(key, x, labels,
                                                            precision == "bfloat16", seed)
    for timer in timers.values():
        timer(sizes["warmup_steps"])
    times: dict[tuple[str, str], list[float]] = {variant: [] for variant in timers}
    order = list(timers)
    for repeat in range(sizes["repeats"]):
        for variant in order if repeat % 2 == 0 else order[::-1]:
            times[variant].append(timers[variant](sizes["steps"]))
    return times


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = _check(args)
    if problem:
        print(f"benchmark_peers: {problem}", file=sys.stderr)
        return USAGE_EXIT
    if args.omp_wait_policy != "unset":  # read when torch loads its OpenMP runtime
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    try:
        import torch  # noqa: F401  (the optional extra)
    except ImportError:
        print(NO_TORCH, file=sys.stderr)
        return USAGE_EXIT
    from experiments.peers import report

    load_before = report.load_average()
    threads = _set_threads(args.threads)
    import keras
    import tensorflow as tf

    nets, precisions = args.nets.split(","), args.precisions.split(",")
    spe = args.steps_per_execution
    settings: dict[str, Any] = {"threads": args.threads, "thread_settings": threads,
                                "steps_per_execution": spe, "smoke": args.smoke,
                                "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "unset"),
                                "batch": {}, "steps": {}, "repeats": args.repeats}
    times_of: dict[tuple[str, str, str], list[float]] = {}
    raw: dict[str, Any] = {}
    for key in nets:
        peer = PEERS[key]
        sizes = dict(SMOKE) if args.smoke else {
            "batch": args.batch or peer.batch, "steps": args.steps or peer.steps,
            "repeats": args.repeats}
        sizes["steps"] = -(-sizes["steps"] // spe) * spe  # whole executions
        sizes.setdefault("warmup_steps", max(args.warmup_steps or sizes["steps"] // 5, spe))
        settings["batch"][key], settings["steps"][key] = sizes["batch"], sizes["steps"]
        settings["repeats"] = sizes["repeats"]
        print(f"{peer.title}: batch {sizes['batch']}, {sizes['steps']} steps x "
              f"{sizes['repeats']} repeats, {', '.join(precisions)} ...", flush=True)
        times = measure(key, sizes, precisions, spe, args.seed)
        raw[key] = {f"{side}/{precision}": [round(1e3 * t, 3) for t in values]
                    for (side, precision), values in times.items()}
        for (side, precision), values in times.items():
            times_of[key, side, precision] = values
    result = {
        "machine": {"cpu": report.cpu_info(), "python": sys.version.split()[0],
                    "tensorflow": tf.__version__, "keras": keras.__version__,
                    "torch": torch.__version__,
                    "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "settings": settings,
        "load_before": load_before, "load_after": report.load_average(),
        "rows": report.ratio_rows(times_of, nets, precisions),
        "step_ms": raw,
    }
    print(report.markdown(result), end="")
    if args.out:
        for path in report.write(args.out, result):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
