"""Controlled comparisons for cross-check fails: the original's method in PyTorch, same data.

``--target C1`` / ``C2`` (LaPerm F1 / F2 on MNIST) run :mod:`experiments.peers.torch_laperm`,
``--target C10`` runs :mod:`experiments.peers.controlled_c10`; ``--target C4`` is below.

``python -m experiments.peers.controlled --target C4 --epochs 10 --seeds 1,2 --data_dir DIR``
trains the PyTorch re-implementation of Slot Machines' LeNet-300-100 (K candidates per
connection, greedy selection; :mod:`experiments.peers.torch_nets`, written from the
specification, not copied) exactly as the original's ``main.py`` does: the 50,000 / 10,000
split of its shipped permutation, pixels in [0, 1] with no normalisation, batch 128,
SGD lr 0.1 momentum 0.9, no weight decay, no schedule. It reports validation and test accuracy
after every epoch and the test accuracy at the best-validation epoch — what the cross-check
reads from this library's run of the same settings, so the report can say whether a fail is
the port's or the target's. Needs PyTorch (``pip install .[bench]``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from experiments.peers import controlled_c10
from masktrainer.data.sources import load_from_files
from masktrainer.data.splits import slot_machines_split
from masktrainer.safe_io import atomic_write_json, folder_problem, given_paths_problem

TARGETS = ("C1", "C2", "C4", "C10")
C10_VARIANTS = tuple(controlled_c10.VARIANTS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.peers.controlled",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="C4", help=f"one of {', '.join(TARGETS)}")
    parser.add_argument("--slots", type=int, default=2, help="C4: K candidates per connection")
    parser.add_argument("--variants", help="C10: comma list of "
                        f"{', '.join(C10_VARIANTS)} (default: all)")
    parser.add_argument("--adam", help="C1, C2, C10: keras (default; the original's tf.keras "
                        "Adam update) or torch (torch.optim.Adam: epsilon after the bias "
                        "correction)")
    parser.add_argument("--objective", choices=("sum", "mean"), default="sum",
                        help="C1/C2: the notebook's batch-sum objective, or it divided by the "
                        "batch size (Keras' fit; only Adam's epsilon sees the difference)")
    parser.add_argument("--init_from", help="C1/C2: start from the initial kernels of this "
                        "masktrainer run directory (its masks; the seeds then only shuffle)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="1", help="comma list of seeds")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--data_dir", required=True, help="folder with the MNIST IDX files "
                        "(C1, C2, C4) "
                        "or the CIFAR-10 binary batches (C10)")
    parser.add_argument("--out", help="write controlled_<target>.json into this folder")
    return parser


def _check(args: argparse.Namespace) -> str | None:
    if unusable := given_paths_problem({"--data_dir": args.data_dir, "--out": args.out,
                                        "--init_from": args.init_from}):
        return unusable
    if args.target not in TARGETS:
        return f"--target: unknown {args.target!r}; choose from {', '.join(TARGETS)}"
    if not 2 <= args.slots <= 64 or not 1 <= args.epochs <= 1000 or args.threads < 1:
        return "--slots must be in 2..64, --epochs in 1..1000, --threads >= 1"
    if (args.objective != "sum" or args.init_from) and args.target not in ("C1", "C2"):
        return "--objective, --init_from: only with --target C1 or C2"
    if args.variants and args.target != "C10":
        return "--variants: only with --target C10"
    if args.adam is not None and args.target not in ("C1", "C2", "C10"):
        return "--adam: only with --target C1, C2 or C10"
    if args.adam not in (None, *controlled_c10.ADAMS):
        return f"--adam: unknown {args.adam!r}; choose from {', '.join(controlled_c10.ADAMS)}"
    if bad := controlled_c10.unknown_variants(args.variants):
        return f"--variants: unknown {', '.join(bad)}; choose from {', '.join(C10_VARIANTS)}"
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        return f"--seeds: a comma list of integers (got {args.seeds!r})"
    if not seeds or any(not 0 <= s < 2**31 for s in seeds):
        return "--seeds: integers in 0..2^31-1"
    if args.out and (problem := folder_problem(args.out)):
        return f"--out {args.out}: {problem}"
    if args.init_from:
        return _init_from_problem(args)
    return None


def _init_from_problem(args: argparse.Namespace) -> str | None:
    """Loads and shape-checks ``--init_from``'s kernels (kept as ``args.init_kernels``) before
    any data is read; why they cannot be used, one line, or None."""
    try:
        from experiments.peers import torch_laperm
    except ImportError:
        return "--init_from: PyTorch is not installed (pip install .[bench])"
    try:
        args.init_kernels = torch_laperm.init_from_kernels(torch_laperm.TARGET_NETS[args.target],
                                                           args.init_from)
    except ValueError as err:
        return str(err)
    return None


def mnist_slot_split(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The original's MNIST sets as float32 [0, 1] (N, 784) and int64 labels."""
    raw = load_from_files("mnist", data_dir)
    train, val = slot_machines_split("mnist", len(raw.x_train))

    def flat(x: np.ndarray) -> np.ndarray:
        return (x.reshape(len(x), -1).astype(np.float32) / 255.0)

    return {"train": (flat(raw.x_train[train]), raw.y_train[train].astype(np.int64)),
            "val": (flat(raw.x_train[val]), raw.y_train[val].astype(np.int64)),
            "test": (flat(raw.x_test), raw.y_test.astype(np.int64))}


def slot_lenet(slots: int):
    """LeNet-300-100 of slot layers (no bias, no dropout), logits out."""
    from torch import nn

    from experiments.peers.torch_nets import SlotLinear

    return nn.Sequential(SlotLinear(784, 300, slots), nn.ReLU(), SlotLinear(300, 100, slots),
                         nn.ReLU(), SlotLinear(100, 10, slots))


def train_seed(sets: dict[str, tuple[np.ndarray, np.ndarray]], slots: int, epochs: int,
               seed: int, echo=print) -> dict[str, Any]:
    """One run of the original's loop; per-epoch val and test accuracy (%) and seconds."""
    import torch

    from experiments.peers.torch_nets import accuracy, train_epoch

    torch.manual_seed(seed)
    model = slot_lenet(slots)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = sets["train"]
    order = np.random.RandomState(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        train_epoch(model, optimizer, x, y, order, 128)
        row = {"epoch": epoch, "val": accuracy(model, *sets["val"]),
               "test": accuracy(model, *sets["test"]),
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        echo(f"seed {seed} epoch {epoch:3d}: val {row['val']:.2f}%  test {row['test']:.2f}%  "
             f"({row['seconds']} s)")
    best = max(rows, key=lambda r: r["val"])  # the first best, as the cross-check reads
    return {"seed": seed, "epochs": rows, "best_val_epoch": best["epoch"],
            "test_at_best_val": best["test"]}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if problem := _check(args):
        parser.error(problem)
    try:
        import torch
    except ImportError:
        parser.error("PyTorch is not installed (pip install .[bench])")
    torch.set_num_threads(args.threads)
    if args.target == "C10":
        return controlled_c10.run(args, torch.__version__)
    if args.target in ("C1", "C2"):
        from experiments.peers import torch_laperm

        return torch_laperm.run(args, torch.__version__)
    sets = mnist_slot_split(args.data_dir)
    runs = [train_seed(sets, args.slots, args.epochs, int(s)) for s in args.seeds.split(",")]
    mean = float(np.mean([r["test_at_best_val"] for r in runs]))
    each = ", ".join(f"{r['test_at_best_val']:.2f}" for r in runs)
    print(f"{args.target}: PyTorch Slot Machines LeNet K={args.slots}, {args.epochs} epochs: "
          f"test at best val {each} % "
          f"(mean {mean:.2f} %), torch {torch.__version__}")
    if args.out:
        report = {"target": args.target, "slots": args.slots, "epochs": args.epochs,
                  "torch": torch.__version__, "runs": runs, "mean_test_at_best_val": mean}
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / f"controlled_{args.target}.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
