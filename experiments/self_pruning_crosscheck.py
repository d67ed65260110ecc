"""Cross-check presets for self-pruning / sign flipping (Ivan & Florian 2020).

Runs the acceptance configurations of the masktrainer issue (and CROSSCHECK.md
C7-C10) and compares the final test accuracy and the changed fraction with
their floors. Usage::

    python -m experiments.self_pruning_crosscheck --suite lenet
    python -m experiments.self_pruning_crosscheck --suite cifar --data_dir ../shared/data

Writes every run directory under ``--outputpath`` and a summary
(``crosscheck_<suite>.json`` / ``.md``) next to them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from experiments.report import write_report
from masktrainer import RunConfig, train


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    overrides: dict
    min_test_accuracy: float  # floor on the final test accuracy (fraction)
    max_changed: float | None = None  # ceiling on pruned (mask) / flipped (flip) fraction


LENET = dict(nettype="LeNet", batchsize=25, lr=1e-3, maxepochs=10)
CONV2 = dict(nettype="Conv2", batchsize=25, maxepochs=2, dataset="cifar10")

SUITES = {
    "lenet": [
        Preset("Baseline he", {**LENET, "traintype": "Baseline", "initializer": "he"}, 0.972),
        Preset("FreePruning he mask", {**LENET, "traintype": "FreePruning", "initializer": "he",
                                       "masktype": "mask"}, 0.970),
        Preset("FreeFlipping heconstant flip", {**LENET, "traintype": "FreeFlipping",
                                                "initializer": "heconstant"}, 0.970),
        Preset("MinFlipping heconstant flip", {**LENET, "traintype": "MinFlipping",
                                               "initializer": "heconstant"}, 0.965, 0.10),
        Preset("MinPruning he mask", {**LENET, "traintype": "MinPruning", "initializer": "he",
                                      "masktype": "mask"}, 0.960, 0.15),
    ],
    "cifar": [
        Preset("Conv2 FreePruning he mask_rs lr3e-3", {**CONV2, "traintype": "FreePruning",
                                                       "initializer": "he", "masktype": "mask_rs",
                                                       "lr": 3e-3}, 0.55),
        Preset("Conv2 Baseline he lr2e-4", {**CONV2, "traintype": "Baseline", "initializer": "he",
                                            "lr": 2e-4}, 0.55),
    ],
}


def changed_fraction(metrics: dict, masktype: str) -> float:
    """Pruned fraction (zero masks) or flipped fraction (negative masks) at the end."""
    last = metrics["remainingWeightsPerLayer"][-1]
    total = sum(metrics["layer_sizes"])
    column = 0 if masktype == "flip" else 1
    return sum(counts[column] for counts in last) / total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), required=True)
    parser.add_argument("--outputpath", default="Outputs/crosscheck")
    parser.add_argument("--data_dir", default=None, help="folder with cifar10/ (cifar suite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=None, help="substring of preset names to run")
    args = parser.parse_args(argv)

    rows = []
    for preset in SUITES[args.suite]:
        if args.only and args.only not in preset.name:
            continue
        cfg = RunConfig(**preset.overrides, seed=args.seed, outputpath=args.outputpath,
                        data_dir=args.data_dir if preset.overrides.get("dataset") else None,
                        progress="none")
        print(f"== {preset.name}", flush=True)
        result = train(cfg)
        accuracy = result.metrics["testAccuracy"][-1]
        changed = changed_fraction(result.metrics, cfg.masktype)
        ok = accuracy >= preset.min_test_accuracy and (
            preset.max_changed is None or changed < preset.max_changed)
        rows.append({"preset": preset.name, "test_accuracy": accuracy, "changed": changed,
                     "floor": preset.min_test_accuracy, "max_changed": preset.max_changed,
                     "pass": ok, "run_dir": str(result.run_dir),
                     "epoch_seconds": result.metrics["epochSeconds"][1:]})

    lines = ["| preset | test acc | floor | changed | max changed | pass |", "|---|---|---|---|---|---|"]
    for r in rows:
        cap = "-" if r["max_changed"] is None else f"< {100 * r['max_changed']:.0f}%"
        lines.append(f"| {r['preset']} | {100 * r['test_accuracy']:.2f}% | "
                     f"{100 * r['floor']:.1f}% | {100 * r['changed']:.2f}% | {cap} | "
                     f"{'yes' if r['pass'] else 'NO'} |")
    write_report(args.outputpath, f"crosscheck_{args.suite}", lines, rows)
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
