"""Runs the chosen targets and writes the report. Every training run goes through
:class:`~experiments.crosscheck.runs.RunStore` (reused when finished, resumed when not), so
the whole cross-check is resumable; the report is rewritten from the runs after each target.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import platform
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from experiments.crosscheck import checks, report
from experiments.crosscheck.catalogue import by_id
from experiments.crosscheck.checkpoints import CheckpointEvaluator
from experiments.crosscheck.runs import CrosscheckError, RunRecord, RunStore
from experiments.crosscheck.targets import (
    CHECKPOINT,
    CPU,
    GPU,
    STRUCTURE,
    Measured,
    Target,
)

STOP = threading.Event()  # set by --stop_after: start no further run
REPORT_FILES = ("crosscheck.md", "crosscheck.csv")


@dataclasses.dataclass
class Options:
    targets: list[str]
    outputpath: Path
    seeds: list[int]
    quick: bool = False
    full: bool = False
    data_dir: str | None = None
    pretrained_dir: Path | None = None
    readme: str | None = None  # a Markdown file whose crosscheck block the report replaces


def machine() -> dict[str, str]:
    """What the report states about where it ran."""
    from masktrainer.quiet import import_tensorflow

    import_tensorflow()  # TensorFlow's start-up lines filtered, as the library's commands do
    import keras
    import numpy as np
    import tensorflow as tf

    from masktrainer.run.provenance import git_state, versions

    gpus = tf.config.list_physical_devices("GPU")
    git = git_state() or {}
    commit = git.get("commit")
    library = f"masktrainer {versions()['masktrainer']}" + (
        f", commit {commit[:10]}{' (dirty)' if git.get('dirty') else ''}" if commit else "")
    return {"library": library,
            "machine": f"{platform.node()} · {platform.platform()} · {os.cpu_count()} CPU cores"
                       f" · {len(gpus)} GPU(s)",
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
                        f"Keras {keras.__version__}, NumPy {np.__version__}"}


def _changed(record: RunRecord) -> float | None:
    from masktrainer.config import RunConfig
    from masktrainer.methods import method_of
    from masktrainer.methods.upgrade import config_values

    cfg = RunConfig.from_dict(config_values(record.config))
    return method_of(cfg).figures.changed_fraction(cfg, record.metrics, record.run_dir)


def _protocol(record: RunRecord, measure: checks.Measure) -> str:
    """``original (best test)``: the run's --protocol and the number the target reads."""
    from masktrainer.config import RunConfig
    from masktrainer.methods.upgrade import config_values
    from masktrainer.protocols import label, selection_set

    cfg = RunConfig.from_dict(config_values(record.config))
    if measure is checks.final_test:
        return f"{cfg.protocol} (test at the last epoch)"
    return label(cfg.protocol, selection_set(cfg))


def run_flags(opts: Options, target: Target, flags: Sequence[str], seed: int) -> list[str]:
    extra = [f"--data_dir={opts.data_dir}"] if opts.data_dir else []
    return [*flags, f"--seed={seed}", f"--outputpath={opts.outputpath / target.id}",
            "--progress=none", "--notensorboard", *extra]


def measure(opts: Options, target: Target, store: RunStore) -> tuple[checks.Verdict, float,
                                                                        list[str], str]:
    protocols: dict[str, None] = {}
    values: dict[str, list[float]] = {}
    changed: dict[str, list[float | None]] = {}
    commands: list[str] = []
    retrained: dict[str, None] = {}
    wall = 0.0
    for run in target.runs(opts.quick):
        for seed in opts.seeds:
            if STOP.is_set():
                from masktrainer.errors import RunInterrupted

                raise RunInterrupted("--stop_after: time is up", signal.SIGALRM)
            record = store.run(run.label, seed, run_flags(opts, target, run.flags, seed))
            try:
                value = run.measure(record.metrics)
            except checks.MeasureError as err:
                raise CrosscheckError(f"{record.run_dir}: {err}") from None
            values.setdefault(run.label, []).append(value)
            changed.setdefault(run.label, []).append(_changed(record))
            commands.append(record.command)
            if record.retrained:
                retrained[f"retrained: {record.retrained}"] = None
            protocols[_protocol(record, run.measure)] = None
            wall += record.seconds
    verdict = target.judge(Measured(values, changed), opts.quick)
    if retrained:
        verdict = dataclasses.replace(verdict, reason="; ".join([verdict.reason, *retrained]))
    return verdict, wall, commands, "; ".join(protocols)


def _row(target: Target, verdict: checks.Verdict, wall: float | None,
         commands: list[str], numbers: dict, protocol: str = "") -> report.Row:
    return report.Row(target.id, target.title, report.published_text(target.published, numbers),
                      ", ".join(target.published), verdict, target.tolerance, wall, commands,
                      protocol)


def run_crosscheck(opts: Options, echo: Callable[[str], None] = print,
                   store: RunStore | None = None,
                   evaluator: CheckpointEvaluator | None = None) -> list[report.Row]:
    """Run the targets in order, rewriting the report after each; returns its rows."""
    numbers = checks.published()
    targets = by_id()
    store = store or RunStore(opts.outputpath, echo=echo)
    evaluator = evaluator or CheckpointEvaluator(opts.outputpath, opts.pretrained_dir,
                                                 opts.data_dir)
    header = machine()
    left_out = [tid for tid in targets if tid not in opts.targets]
    if left_out:
        header["targets not in this report"] = ", ".join(left_out)
    rows: list[report.Row] = []
    pending = [targets[tid] for tid in opts.targets]
    for index, target in enumerate(pending):
        echo(f"{target.id}: {target.title}")
        start = time.perf_counter()
        wall: float | None = None
        commands: list[str] = []
        protocol = ""
        if target.kind == CHECKPOINT:
            verdict = evaluator.judge(target, float(numbers[target.published[0]]["value"]))
            commands = [evaluator.commands[target.id]] if target.id in evaluator.commands else []
            wall = evaluator.seconds.get(target.id)
        elif target.kind == STRUCTURE:
            from experiments.crosscheck.structure import structure_verdict

            verdict, wall = structure_verdict(numbers), time.perf_counter() - start
        elif target.kind == CPU or (target.kind == GPU and opts.full and target.judge):
            try:
                verdict, wall, commands, protocol = measure(opts, target, store)
            except BaseException:
                rest = [_row(t, checks.not_run("the cross-check stopped before it; run the "
                                               "same command again to continue"), None, [],
                             numbers) for t in pending[index:]]
                write(opts.outputpath, [*rows, *rest], header, opts.quick)
                raise
        elif target.kind == GPU and not opts.full:
            verdict = checks.not_run(f"GPU target (--full): {target.note}")
        else:
            verdict = checks.not_run(target.note)
        rows.append(_row(target, verdict, wall, commands, numbers, protocol))
        echo(f"   {verdict.status}: {verdict.ours} — {verdict.reason}")
        write(opts.outputpath, rows, header, opts.quick)
    return rows


def output_problem(folder: Path) -> str | None:
    """Why the cross-check's own files under ``folder`` could not be replaced (a link or a
    non-file where one goes), or None; checked before any work."""
    from experiments.crosscheck.checkpoints import CACHE
    from experiments.crosscheck.records import RUN_INDEX

    for name in (*REPORT_FILES, RUN_INDEX, CACHE):
        path = Path(folder) / name
        if path.is_symlink():
            return f"{path} is a link; the cross-check never writes through links"
        if path.exists() and not path.is_file():
            return f"{path} is not a regular file (a folder or a device)"
    return None


def write(folder: Path, rows: list[report.Row], header: dict[str, str], quick: bool) -> None:
    """Write both report files or neither: both are written to temporaries first, so a
    refused write leaves the previous pair as it was."""
    from masktrainer import safe_io

    folder.mkdir(parents=True, exist_ok=True)
    safe_io.atomic_write_texts({folder / REPORT_FILES[0]: report.markdown(rows, header, quick),
                                folder / REPORT_FILES[1]: report.csv_text(rows)})
