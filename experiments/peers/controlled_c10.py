"""Cross-check C10's controlled comparison: self-pruning Conv2 on CIFAR-10 in PyTorch.

``python -m experiments.peers.controlled --target C10 --epochs 4 --seeds 1 --data_dir DIR``
trains :class:`experiments.peers.torch_nets.MaskedConv2` (written from the specification of
Ivan & Florian's TF 1.14 ``MaskTrainer.py``, not copied) with the settings of target C10:

* FreePruning: frozen TF1 He truncated-normal kernels, scores U(0.01, 0.1) trained through
  ``mask_rs`` with the straight-through gradient, Adam lr 3e-3 (the preset
  ``self_pruning_conv2``);
* Baseline: the kernels trained, the scores frozen (all positive: the mask is all ones),
  Adam lr 2e-4.

Both: batch 25, Adam beta 0.9 / 0.999, epsilon 1e-7, no schedule, no augmentation, the
library's own data (:func:`masktrainer.data.preprocessing.prepare` on the CIFAR-10 binary
batches: the first 5,000 training images held out for validation, /255, per-pixel mean
and scalar std of the 45,000 training images applied to all three sets — what our preset
runs), validation and test accuracy after every epoch. Adam is the original's
``tf.keras`` update by default (``--adam keras``: epsilon added to the root of the uncorrected
second moment, :class:`~experiments.peers.torch_nets.KerasAdam`); ``--adam torch`` is
``torch.optim.Adam`` (epsilon after the bias correction), what this comparison's first runs
used (findings: ``self_pruning_conv2_controlled.md``). Reported: the test accuracy after
the last epoch (what cross-check C10 reads) and, as the runs print it too, the test accuracy
at the best-validation epoch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from masktrainer.data.preprocessing import prepare
from masktrainer.data.sources import load_from_files
from masktrainer.safe_io import atomic_write_json

#: variant -> (mask type, weights trained, Adam learning rate): target C10's two runs.
VARIANTS: dict[str, tuple[str, bool, float]] = {
    "FreePruning": ("mask_rs", False, 3e-3),
    "Baseline": ("mask", True, 2e-4),
}
BATCH = 25
VALIDATION = 5000
#: --adam: the original's (TF / Keras) Adam update, or torch.optim.Adam's.
ADAMS = ("keras", "torch")


def unknown_variants(variants: str | None) -> list[str]:
    """The names in a comma list that are not variants of C10 (none: an empty list)."""
    return [v for v in (variants or "").split(",") if v and v not in VARIANTS]


def chosen_variants(variants: str | None) -> list[str]:
    return [v for v in (variants or "").split(",") if v] or list(VARIANTS)


def cifar_sets(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Our preset's CIFAR-10 sets as float32 NCHW images and int64 labels."""
    splits = prepare(load_from_files("cifar10", data_dir), VALIDATION, "train_stats")
    sets = {}
    for name in ("train", "val", "test"):
        x, y = getattr(splits, f"x_{name}"), getattr(splits, f"y_{name}")
        sets[name] = (np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y.argmax(1).astype(np.int64))
        setattr(splits, f"x_{name}", None)  # one full-size copy at a time
    return sets


def adam(params, lr: float, kind: str = "keras"):
    """The run's Adam (beta 0.9 / 0.999, epsilon 1e-7): ``keras`` (the original's update) or
    ``torch`` (``torch.optim.Adam``)."""
    import torch

    from experiments.peers.torch_nets import KerasAdam

    if kind not in ADAMS:
        raise ValueError(f"adam must be one of {ADAMS}, got {kind!r}")
    return KerasAdam(params, lr=lr) if kind == "keras" else torch.optim.Adam(params, lr=lr,
                                                                              eps=1e-7)


def train_variant(sets: dict[str, tuple[np.ndarray, np.ndarray]], variant: str, epochs: int,
                  seed: int, echo: Callable[[str], Any] = print,
                  adam_kind: str = "keras") -> dict[str, Any]:
    """One run: per-epoch val and test accuracy (%), pruned fraction and seconds; the test
    accuracy after the last epoch and at the (first) best-validation epoch."""
    import torch

    from experiments.peers.torch_nets import MaskedConv2, accuracy, train_epoch

    masktype, train_weights, lr = VARIANTS[variant]
    torch.manual_seed(seed)
    x, y = sets["train"]
    model = MaskedConv2(masktype, train_weights, input_hw=x.shape[2:], channels=x.shape[1])
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = adam(trained, lr, adam_kind)
    order = np.random.RandomState(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        train_epoch(model, optimizer, x, y, order, BATCH)
        row = {"epoch": epoch, "val": accuracy(model, *sets["val"]),
               "test": accuracy(model, *sets["test"]),
               "pruned": round(model.pruned_fraction(), 6),
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        echo(f"{variant} seed {seed} ({adam_kind} Adam) epoch {epoch:3d}: val {row['val']:.2f}%  "
             f"test {row['test']:.2f}%  pruned {100 * row['pruned']:.2f}%  ({row['seconds']} s)")
    best = max(rows, key=lambda r: r["val"])  # the first best, as the cross-check reads
    return {"variant": variant, "seed": seed, "masktype": masktype, "lr": lr,
            "adam": adam_kind, "train_weights": train_weights, "epochs": rows,
            "best_val_epoch": best["epoch"], "test_at_best_val": best["test"],
            "test_last": rows[-1]["test"], "pruned": rows[-1]["pruned"]}


def run(args, torch_version: str) -> int:
    """``--target C10``: every chosen variant for every seed; the report is rewritten after
    each run, so a stopped job keeps what finished."""
    sets = cifar_sets(args.data_dir)
    adam_kind = getattr(args, "adam", None) or "keras"
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = []
    for seed in seeds:
        for variant in chosen_variants(args.variants):
            runs.append(train_variant(sets, variant, args.epochs, seed, adam_kind=adam_kind))
            if args.out:
                report = {"target": "C10", "epochs": args.epochs, "batch": BATCH,
                          "adam": adam_kind, "threads": args.threads, "torch": torch_version,
                          "runs": runs}
                Path(args.out).mkdir(parents=True, exist_ok=True)
                atomic_write_json(Path(args.out) / "controlled_C10.json", report)
    for variant in chosen_variants(args.variants):
        done = [r for r in runs if r["variant"] == variant]
        last = ", ".join(f"{r['test_last']:.2f}" for r in done)
        best = ", ".join(f"{r['test_at_best_val']:.2f}" for r in done)
        print(f"C10: PyTorch self-pruning Conv2 {variant}, {args.epochs} epochs: test after the "
              f"last epoch {last} % (mean {np.mean([r['test_last'] for r in done]):.2f} %), "
              f"at best val {best} %, {adam_kind} Adam, torch {torch_version}")
    return 0
