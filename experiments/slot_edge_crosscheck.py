"""Acceptance cross-checks of Slot Machines (CROSSCHECK.md C4-C6) and edge-popup (C11).

Suite ``slots`` (default; real MNIST, the original's 50k/10k index split, code
recipe: SGD momentum 0.9, batch 128, constant lr 0.1 greedy / 50 probabilistic):

* C4: LeNet K=2 greedy, test accuracy at the best-validation epoch >= 96.3 %;
* C5: LeNet K=8 greedy >= 97.6 %, and K=8 beats K=2;
* C6: greedy >= probabilistic at K=8 (same epochs).

Suite ``edge_cifar`` (needs ``--data_dir`` with CIFAR-10): C11, edge-popup Conv2,
signed constant, keep_ratio 0.5, SGD 0.1 cosine over the run, wd 1e-4, batch 128,
4 epochs, floor 60 % (note: this port has no crop/flip augmentation).

    python -m experiments.slot_edge_crosscheck                       # slots, 30 epochs
    python -m experiments.slot_edge_crosscheck --epochs 3            # quick sanity run
    python -m experiments.slot_edge_crosscheck --suite edge_cifar --data_dir ../shared/data

Prints a pass/fail table and writes it to ``crosscheck_<suite>.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from masktrainer import RunConfig, train  # noqa: E402


def _best(metrics: dict) -> tuple[float, float, int]:
    """(test accuracy at the best-validation epoch, best validation accuracy, that epoch)."""
    val = metrics["valAccuracy"]
    trained = range(1, len(val)) if len(val) > 1 else range(1)
    epoch = max(trained, key=lambda e: val[e])
    return metrics["testAccuracy"][epoch], metrics["valAccuracy"][epoch], epoch


def _run(name: str, cfg: RunConfig, results: dict) -> None:
    start = time.perf_counter()
    metrics = train(cfg, echo=None).metrics
    test, val, epoch = _best(metrics)
    results[name] = test
    print(f"{name}: test {100 * test:.2f} % at best-val epoch {epoch} (val {100 * val:.2f} %), "
          f"final test {100 * metrics['testAccuracy'][-1]:.2f} %, "
          f"{time.perf_counter() - start:.0f} s", flush=True)


def suite_slots(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    common = dict(traintype="SlotMachine", nettype="LeNet", maxepochs=args.epochs,
                  seed=args.seed, outputpath=args.outputpath, progress="none",
                  jit_compile=args.jit_compile)
    acc: dict[str, float] = {}
    _run("K2 greedy", RunConfig(slots=2, selection="greedy", **common), acc)
    _run("K8 greedy", RunConfig(slots=8, selection="greedy", **common), acc)
    _run("K8 probabilistic", RunConfig(slots=8, selection="probabilistic", **common), acc)
    pct = {k: 100 * v for k, v in acc.items()}
    return [
        ("C4 LeNet K=2 greedy >= 96.3 %", f"{pct['K2 greedy']:.2f} %", pct["K2 greedy"] >= 96.3),
        ("C5 LeNet K=8 greedy >= 97.6 %", f"{pct['K8 greedy']:.2f} %", pct["K8 greedy"] >= 97.6),
        ("C5 K=8 > K=2 (greedy)", f"{pct['K8 greedy'] - pct['K2 greedy']:+.2f} pp",
         pct["K8 greedy"] > pct["K2 greedy"]),
        ("C6 greedy >= probabilistic at K=8",
         f"{pct['K8 greedy'] - pct['K8 probabilistic']:+.2f} pp",
         pct["K8 greedy"] >= pct["K8 probabilistic"]),
    ]


def suite_edge_cifar(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    if not args.data_dir:
        raise SystemExit("--suite edge_cifar needs --data_dir (CIFAR-10 binary batches)")
    cfg = RunConfig(traintype="EdgePopup", nettype="Conv2", keep_ratio=0.5,
                    initializer="signed_constant", maxepochs=args.epochs or 4, seed=args.seed,
                    data_dir=args.data_dir, outputpath=args.outputpath, progress="none",
                    jit_compile=args.jit_compile)
    acc: dict[str, float] = {}
    _run("Conv2 edge-popup SC k=0.5", cfg, acc)
    value = 100 * acc["Conv2 edge-popup SC k=0.5"]
    return [("C11 Conv2 edge-popup SC k=0.5 >= 60 %", f"{value:.2f} %", value >= 60.0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("slots", "edge_cifar"), default="slots")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: 30 for slots, 4 for edge_cifar)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--jit_compile", choices=("auto", "on", "off"), default="on")
    parser.add_argument("--outputpath", default="Outputs/crosscheck")
    parser.add_argument("--out", default=None, help="markdown table (default crosscheck_<suite>.md)")
    args = parser.parse_args(argv)
    if args.suite == "slots" and args.epochs is None:
        args.epochs = 30
    rows = suite_slots(args) if args.suite == "slots" else suite_edge_cifar(args)
    lines = ["| check | measured | result |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, value, ok in rows]
    table = "\n".join(lines)
    print(table)
    out = Path(args.out or f"crosscheck_{args.suite}.md")
    out.write_text(f"# {args.suite} cross-check ({args.epochs} epochs, seed {args.seed})\n\n"
                   f"{table}\n", encoding="utf-8")
    return 0 if all(ok for _, _, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
