"""``python -m experiments.compare --suite lenet --seeds 3``: the head-to-head table
(``compare_<suite>.md``/``.csv``) and figure (``compare_<suite>.png``) under ``--outputpath``.

Every run goes through the cross-check's run store: a finished run with the same settings is
reused, an interrupted one resumed, so a killed comparison continues where it stopped.
Exit status: 0 done, 1 a run failed, 2 bad arguments, 3 stopped by a signal (checkpointed: run
the same command again).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path
from typing import Any

from experiments.compare.suites import SUITES, Suite  # noqa: E402
from masktrainer.config import COUNT_WHY, OPTIONS, PRECISIONS  # noqa: E402
from masktrainer.errors import FAILED_EXIT, STOPPED_EXIT, USAGE_EXIT  # noqa: E402
from masktrainer.run.provenance import process_git_state  # noqa: E402

PROG = "python -m experiments.compare"
COLUMNS = ("method", "accuracy", "accuracy_std", "seeds", "changed", "compact_bytes",
           "compact_ratio", "seconds_per_epoch", "commands")


MAX_SEEDS = 1000
MAX_EPOCHS = int(OPTIONS["maxepochs"].maximum)  # the trainer's own bound


class ArgumentError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="lenet")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N (default 3)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs for every method (default: the suite's, 10)")
    parser.add_argument("--methods", default=None,
                        help="comma list of method labels to run (default: all)")
    parser.add_argument("--outputpath", default="Outputs/compare")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="every run's --precision (a different configuration: its runs, "
                             "table and figure are its own)")
    return parser


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def _compact(run_dir: Path, out: Path) -> tuple[int | None, float | None]:
    """The compact export's size and its ratio to dense float32 kernels (exported once)."""
    import json

    from masktrainer import safe_io
    from masktrainer.export.cli import export_run

    sizes = out / "sizes.json"
    if not sizes.is_file():
        result = export_run(run_dir, out, formats=("compact",), echo=None, overwrite=True)
        safe_io.atomic_write_json(sizes, {"compact": result.compact_bytes,
                                          "dense": result.dense_bytes})
    known = json.loads(sizes.read_text(encoding="utf-8"))
    compact, dense = known["compact"], known["dense"]
    return compact, (compact / dense if compact is not None and dense else None)


def _tag(precision: str) -> str:
    """The suffix of a precision's folders and files (float32, the default, has none)."""
    return "" if precision == "float32" else f"_{precision}"


def run_suite(suite: Suite, seeds: list[int], epochs: int, outputpath: Path,
              data_dir: str | None, labels: list[str] | None = None, store=None,
              echo=print, precision: str = "float32") -> list[dict[str, Any]]:
    from experiments.crosscheck.checks import best_val_test
    from experiments.crosscheck.driver import _changed
    from experiments.crosscheck.runs import RunStore
    from masktrainer.quiet import import_tensorflow

    import_tensorflow()  # TensorFlow's start-up lines filtered, as the library's commands do
    store = store or RunStore(outputpath, echo=echo)
    rows = []
    for entry in suite.entries:
        if labels and entry.label not in labels:
            continue
        echo(f"{entry.label}")
        accuracies, changed, sizes, ratios, per_epoch, commands = [], [], [], [], [], []
        for seed in seeds:
            slug = _slug(entry.label) + _tag(precision)
            flags = [*entry.flags, f"--maxepochs={epochs}", f"--seed={seed}",
                     f"--outputpath={outputpath / 'runs' / slug}",
                     "--progress=none", "--notensorboard",
                     *([f"--data_dir={data_dir}"] if data_dir else []),
                     *([f"--precision={precision}"] if precision != "float32" else [])]
            record = store.run(entry.label, seed, flags)
            accuracies.append(best_val_test(record.metrics))
            changed.append(_changed(record))
            size, ratio = _compact(record.run_dir, outputpath / "exports" / f"{slug}_seed{seed}")
            sizes.append(size)
            ratios.append(ratio)
            trained = [s for s in record.metrics.get("epochSeconds", [])[1:] if s is not None]
            per_epoch.append(sum(trained) / len(trained) if trained else None)
            commands.append(record.command)
        rows.append(_row(entry.label, accuracies, changed, sizes, ratios, per_epoch, commands))
        echo(f"   {rows[-1]['accuracy']} % ± {rows[-1]['accuracy_std']}, changed "
             f"{rows[-1]['changed']}")
    return rows


def _mean(values: list) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def _row(label, accuracies, changed, sizes, ratios, per_epoch, commands) -> dict[str, Any]:
    from experiments.crosscheck.checks import mean_std

    mean, std = mean_std(accuracies)
    fraction = _mean(changed)
    return {"method": label, "accuracy": f"{mean:.2f}", "accuracy_std": f"{std:.2f}",
            "seeds": len(accuracies), "accuracies": accuracies,
            "changed_fractions": [c for c in changed if c is not None],
            "changed": "" if fraction is None else f"{100 * fraction:.1f} %",
            "compact_bytes": "" if _mean(sizes) is None else f"{_mean(sizes):,.0f}",
            "compact_ratio": "" if _mean(ratios) is None else f"1/{1 / _mean(ratios):.1f}",
            "seconds_per_epoch": "" if _mean(per_epoch) is None else f"{_mean(per_epoch):.1f}",
            "commands": " ; ".join(commands)}


def table(suite: Suite, rows: list[dict[str, Any]], epochs: int, seeds: list[int],
          precision: str = "float32") -> str:
    lines = [f"# Head to head: {suite.title}, {epochs} epochs, seeds "
             f"{', '.join(map(str, seeds))}, precision {precision}", ""]
    lines += ["Protocol: held-out for every method (`--protocol held_out`): trained on the "
              "training head, the epoch selected on the held-out validation images, test "
              "accuracy reported at that epoch.", ""]
    if suite.note:
        lines += [suite.note, ""]
    lines += ["| method | test accuracy at the best-validation epoch (mean ± std) | connections "
              "changed | compact export (bytes, vs dense float32) | s / epoch |",
              "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['method']} | {row['accuracy']} ± {row['accuracy_std']} % | "
                     f"{row['changed'] or '—'} | {row['compact_bytes'] or '—'} "
                     f"({row['compact_ratio'] or '—'}) | {row['seconds_per_epoch'] or '—'} |")
    return "\n".join(lines) + "\n"


def write(suite: Suite, rows: list[dict[str, Any]], epochs: int, seeds: list[int],
          outputpath: Path, precision: str = "float32") -> list[Path]:
    from masktrainer import safe_io
    from plotting.headtohead import MethodPoint, accuracy_vs_changed_figure

    stem = outputpath / f"compare_{suite.name}{_tag(precision)}"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    safe_io.atomic_write_text(stem.with_suffix(".csv"), buffer.getvalue())
    safe_io.atomic_write_text(stem.with_suffix(".md"),
                              table(suite, rows, epochs, seeds, precision))
    points = [MethodPoint(r["method"], r["accuracies"], r["changed_fractions"]) for r in rows]
    fig = accuracy_vs_changed_figure(points, f"{suite.title}: {epochs} epochs, "
                                             f"{len(seeds)} seed(s) per method, {precision}")
    safe_io.atomic_write_path(stem.with_suffix(".png"),
                              lambda p: fig.savefig(p, dpi=150, format="png"), suffix=".png")
    return [stem.with_suffix(s) for s in (".md", ".csv", ".png")]


def main(argv: list[str] | None = None) -> int:
    from experiments.crosscheck.checks import MeasureError
    from experiments.crosscheck.runs import CrosscheckError
    from masktrainer.errors import RunInterrupted
    from masktrainer.safe_io import folder_problem, given_paths_problem

    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    unusable = given_paths_problem({"--outputpath": args.outputpath, "--data_dir": args.data_dir})
    if unusable:
        print(f"{PROG}: error: {unusable}", file=sys.stderr)
        return USAGE_EXIT
    suite = SUITES[args.suite]
    process_git_state()  # the commit this process's code comes from, for every run it trains
    labels = None if args.methods is None else [x.strip() for x in args.methods.split(",")]
    known = [entry.label for entry in suite.entries]
    problems = [
        not 1 <= args.seeds <= MAX_SEEDS and f"--seeds must be in 1..{MAX_SEEDS} (got "
        f"{args.seeds}; each seed trains every method once)",
        args.epochs is not None and not 1 <= args.epochs <= MAX_EPOCHS and
        f"--epochs must be in 1..{MAX_EPOCHS} (got {args.epochs}; {COUNT_WHY})",
        labels is not None and not all(labels) and
        f"--methods: a comma list of method labels, none empty (got {args.methods!r}); known: "
        f"{', '.join(known)}",
        labels and all(labels) and any(l not in known for l in labels) and
        f"--methods: unknown {', '.join(l for l in labels if l not in known)}; known: "
        f"{', '.join(known)}",
        folder_problem(args.outputpath) and f"--outputpath: {folder_problem(args.outputpath)}",
        args.data_dir and not Path(args.data_dir).is_dir() and
        f"--data_dir {args.data_dir} is not a directory"]
    problems = [p for p in problems if p]
    if problems:
        print(f"{PROG}: error: {problems[0]}", file=sys.stderr)
        return USAGE_EXIT
    seeds, epochs = list(range(1, args.seeds + 1)), args.epochs or suite.epochs
    outputpath = Path(args.outputpath)
    try:
        rows = run_suite(suite, seeds, epochs, outputpath, args.data_dir, labels,
                         precision=args.precision)
    except RunInterrupted:
        print(f"{PROG}: stopped before the end (checkpointed); run the same command again to "
              "continue", file=sys.stderr)
        return STOPPED_EXIT
    except (CrosscheckError, MeasureError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return FAILED_EXIT
    files = write(suite, rows, epochs, seeds, outputpath, args.precision)
    print(table(suite, rows, epochs, seeds, args.precision))
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
