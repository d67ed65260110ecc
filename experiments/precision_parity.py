"""Accuracy parity of ``--precision=mixed_bfloat16`` against float32: every method, the same
seeds, the head-to-head recipes; the difference of the mean test accuracies against the
seed spread, as a Markdown table (``parity_<suite>.md``) under ``--outputpath``.

    python -m experiments.precision_parity --suite lenet --epochs 3 --seeds 3
    python -m experiments.precision_parity --suite conv4 --epochs 2 --seeds 3 \\
        --train_images 10000 --data_dir DIR

Runs go through the head to head's run store (``experiments.compare``): finished runs are
reused and interrupted ones resumed, so the same command continues a stopped comparison.
``--train_images N`` trains on the first N training images (``--split head``) and
evaluates the test set only, for a shorter check on CIFAR-10. A method is at parity when the
difference of the means is within twice the larger of the two seed standard deviations
(at least 0.2 pp).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

from experiments.compare.suites import CONV4, LENET, Entry

#: The suites' entries of one recipe per method (the head to head's labels).
SUITES = {
    "lenet": (LENET, ("FreePruning", "edge-popup k 0.5", "Slot Machines K 8", "LaPerm",
                      "supermask sampling", "dense baseline")),
    "conv4": (CONV4, ("FreePruning", "edge-popup k 0.5", "Slot Machines K 8")),
}
FLOOR_PP = 0.2
PROG = "python -m experiments.precision_parity"


@dataclasses.dataclass(frozen=True)
class _Shortened:
    """A suite entry on the first N training images, evaluating the test set only (its
    selection on test too: a parity check compares two precisions, not published numbers)."""

    label: str
    flags: tuple[str, ...]


def _entries(suite: str, train_images: int | None) -> tuple[Entry | _Shortened, ...]:
    base, labels = SUITES[suite]
    chosen = [entry for entry in base.entries if entry.label in labels]
    if not train_images:
        return tuple(chosen)
    total = 60_000 if suite == "lenet" else 50_000
    subset = ("--protocol=custom", "--split=head", f"--validation_size={total - train_images}",
              "--eval_sets=test", "--initial_eval=none")
    return tuple(_Shortened(e.label, (*e.flags, *subset)) for e in chosen)


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def parity_table(title: str, by_precision: dict[str, list[dict]]) -> str:
    lines = [f"# bfloat16 vs float32: {title}", "",
             "| method | float32 test accuracy | mixed_bfloat16 | difference | seed spread "
             "(larger std) | parity |", "|---|---|---|---|---|---|"]
    for f32, bf16 in zip(by_precision["float32"], by_precision["mixed_bfloat16"]):
        (m32, s32), (m16, s16) = _stats(f32["accuracies"]), _stats(bf16["accuracies"])
        spread = max(s32, s16)
        ok = abs(m16 - m32) <= max(2 * spread, FLOOR_PP)
        lines.append(f"| {f32['method']} | {m32:.2f} ± {s32:.2f} % | {m16:.2f} ± {s16:.2f} % | "
                     f"{m16 - m32:+.2f} pp | {spread:.2f} pp | {'yes' if ok else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="lenet")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N")
    parser.add_argument("--train_images", type=int, default=None)
    parser.add_argument("--methods", default=None, help="comma list of labels (default: all)")
    parser.add_argument("--outputpath", default="Outputs/parity")
    parser.add_argument("--data_dir", default=None)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from masktrainer.safe_io import given_paths_problem

    if unusable := given_paths_problem({"--outputpath": args.outputpath,
                                        "--data_dir": args.data_dir}):
        parser.error(unusable)
    if args.epochs < 1 or args.seeds < 1:
        parser.error("--epochs and --seeds must be >= 1")
    if args.train_images is not None and not 0 < args.train_images < 50_000:
        parser.error("--train_images must be between 1 and 49,999")
    from experiments.compare.__main__ import run_suite
    from experiments.compare.suites import Suite
    from masktrainer import safe_io
    from masktrainer.errors import STOPPED_EXIT, RunInterrupted

    base, labels = SUITES[args.suite]
    chosen = [x.strip() for x in args.methods.split(",")] if args.methods else list(labels)
    unknown = [label for label in chosen if label not in labels]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; known: {', '.join(labels)}")
    entries = tuple(e for e in _entries(args.suite, args.train_images) if e.label in chosen)
    images = f", first {args.train_images:,} training images" if args.train_images else ""
    title = (f"{base.title}, {args.epochs} epochs{images}, seeds 1-{args.seeds}")
    suite = Suite(f"parity_{args.suite}", title, args.epochs, entries)
    out = Path(args.outputpath)
    seeds = list(range(1, args.seeds + 1))
    rows = {}
    try:
        for precision in ("float32", "mixed_bfloat16"):
            rows[precision] = run_suite(suite, seeds, args.epochs, out, args.data_dir,
                                        precision=precision)
    except RunInterrupted:
        print(f"{PROG}: stopped (checkpointed); run the same command again to continue",
              file=sys.stderr)
        return STOPPED_EXIT
    text = parity_table(title, rows)
    safe_io.atomic_write_text(out / f"parity_{args.suite}.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
