"""The training runs of a cross-check: each one a ``python -m masktrainer`` command line, parsed
by the library's own CLI and trained in this process. A finished run of the same experiment
under the output folder is reused (never retrained) when it still matches the record this
cross-check wrote when it finished (records.py), else retrained and the report says why. An
unfinished one is resumed from its last checkpoint when it still matches the record written
when its training stopped (its settings, files and checkpoint) or, for a run killed outright
(SIGKILL, a machine taken away), the record written as its current epoch began, just after the
last epoch's checkpoint; one that does not (changed since, or killed before any record) is set
aside, never deleted, and the experiment trained again, the report saying so. Anything else
starts a new run. So a killed cross-check continues where it stopped when it is started again,
in general losing only the epoch in progress; a run killed while an epoch's results or its
final files were being written, or after a ``--checkpoint_every`` step checkpoint (no target
sets it), no longer matches its record and is set aside.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
from pathlib import Path
from typing import Any, Callable

from experiments.crosscheck.records import RunIndex
from masktrainer import layout
from masktrainer.cli import UsageError, parse_command
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import ConfigError, RunStateError
from masktrainer.layout import SETTING_KEYS
from masktrainer.methods.upgrade import config_values

PROGRAM = "python -m masktrainer"
# How deep run directories lie below the output folder (<root>/<target>/<method folders>/run-*).
SEARCH_DEPTH = 8


class CrosscheckError(Exception):
    """A target that cannot be run as written (bad command line, unreadable state)."""


@dataclasses.dataclass
class RunRecord:
    """One run of a target: its command, where it lives and what it measured."""

    label: str
    seed: int
    argv: list[str]
    run_dir: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    reused: bool  # finished before this cross-check started
    retrained: str = ""  # why a stored run of the same experiment was not trusted

    @property
    def command(self) -> str:
        return command_text(self.argv)

    @property
    def seconds(self) -> float:
        """The run's own training and evaluation time (the same whether reused or not)."""
        return float(sum(s for s in self.metrics.get("epochSeconds", []) if s is not None))


def command_text(argv: list[str]) -> str:
    return f"{PROGRAM} {shlex.join(argv)}"


# What is evaluated and when does not change what a run trains: a run evaluated more (or
# less) often is the same experiment (a target reading a set the run skipped says so).
EVALUATION_KEYS = tuple(o.name for o in OPTIONS.values() if o.group == "evaluation")


def experiment_key(cfg: RunConfig) -> str:
    """What a run trains: every resolved setting except how, where and how fast it ran, and
    what it evaluated."""
    values = {k: v for k, v in cfg.to_dict().items()
              if k not in SETTING_KEYS and k not in EVALUATION_KEYS}
    return json.dumps(values, sort_keys=True, default=str)


def _config_of(run_dir: Path) -> RunConfig | None:
    try:
        config = layout.read_config(run_dir)
        return RunConfig.from_dict(config_values(config))
    except (RunStateError, ConfigError, TypeError):
        return None  # not a run of this library version, or edited: never reused


def find_runs(root: Path) -> dict[str, list[Path]]:
    """Run directories under ``root`` by experiment key."""
    found: dict[str, list[Path]] = {}
    if not root.is_dir():
        return found
    for config in sorted(root.glob(f"**/{layout.CONFIG_FILE}")):
        if len(config.relative_to(root).parts) > SEARCH_DEPTH or config.parent.is_symlink():
            continue
        cfg = _config_of(config.parent)
        if cfg is not None:
            found.setdefault(experiment_key(cfg), []).append(config.parent)
    return found


def _status(run_dir: Path) -> str | None:
    try:
        return layout.read_status(run_dir)
    except RunStateError:
        return None


def _load(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        return layout.read_config(run_dir), layout.read_metrics(run_dir)
    except RunStateError as err:
        raise CrosscheckError(f"{run_dir}: {err}") from None


Train = Callable[..., Any]  # Trainer-like: (cfg, **kwargs) -> object with .run()


def _trainer(cfg: RunConfig, **kwargs: Any) -> Any:
    from masktrainer.run.trainer import Trainer

    return Trainer(cfg, **kwargs)


class RunStore:
    """The runs under one output folder, found by what they train."""

    def __init__(self, root: Path, echo: Callable[[str], None] = print,
                 trainer: Train = _trainer) -> None:
        self.root, self.echo, self.trainer = Path(root), echo, trainer
        self._index = find_runs(self.root)
        self.records = RunIndex(self.root)
        self.started: set[Path] = set()  # runs trained or resumed by this process

    def parse(self, argv: list[str]) -> RunConfig:
        try:
            return parse_command(["masktrainer", *argv]).cfg
        except UsageError as err:
            raise CrosscheckError(f"{command_text(argv)}: {err}") from None

    def lookup(self, cfg: RunConfig) -> tuple[Path | None, str | None]:
        """The newest finished run of this experiment that matches its record, else one to
        resume, else none. A finished run that does not match its record is never reused."""
        path, state, _ = self._lookup(cfg)
        return path, state

    def _lookup(self, cfg: RunConfig) -> tuple[Path | None, str | None, str]:
        key = experiment_key(cfg)
        candidates = self._index.get(key, [])
        statuses = [(path, _status(path)) for path in candidates]
        untrusted = ""
        for path, status in statuses:
            if status != layout.COMPLETE:
                continue
            why = self.records.mismatch(path, key)
            if why is None:
                return path, layout.COMPLETE, ""
            untrusted = untrusted or f"the stored run {path} did not match its record: {why}"
        resumable = []
        for path, status in statuses:
            if status not in (layout.RUNNING, layout.INTERRUPTED):
                continue
            why = self.records.mismatch(path, key, unfinished=True)
            if why is None:
                resumable.append(path)
            else:
                untrusted = untrusted or (f"the stored run {path} (unfinished; set aside, not "
                                          f"resumed) did not match its record: {why}")
        return (resumable[-1], "resume", untrusted) if resumable else (None, None, untrusted)

    def run(self, label: str, seed: int, argv: list[str]) -> RunRecord:
        """Reuse, resume or train the run of ``argv`` (its flags, without the program)."""
        cfg = self.parse(argv)
        path, state, untrusted = self._lookup(cfg)
        reused = state == layout.COMPLETE and path not in self.started
        if state == layout.COMPLETE:
            self.echo(f"   reusing {path} (matches its record)")
        else:
            if untrusted:
                self.echo(f"   retraining: {untrusted}")
            path = self._train(cfg, argv, path if state == "resume" else None)
        config, metrics = _load(path)
        if metrics.get("status") != layout.COMPLETE:
            raise CrosscheckError(f"{command_text(argv)} did not finish ({path})")
        return RunRecord(label, seed, list(argv), path, config, metrics, reused, untrusted)

    def _train(self, cfg: RunConfig, argv: list[str], resume: Path | None) -> Path:
        start = time.perf_counter()
        recorder = _epoch_recorder(self, cfg)
        epochs = lambda line: self.echo(f"      {line}")  # noqa: E731 (the runs' own lines)
        if resume is not None:
            self.echo(f"   resuming {resume}")
            config, _ = _load(resume)
            own = RunConfig.from_dict({**config_values(config), "progress": "none"})
            trainer = self.trainer(own, echo=epochs, resume_dir=resume,
                                   resolved_seed=int(config["resolved_seed"]),
                                   callbacks=(recorder,))
        else:
            self.echo(f"   {command_text(argv)}")
            trainer = self.trainer(cfg, echo=epochs, invocation={
                "preset": _preset_of(argv), "command": list(argv), "by": "experiments.crosscheck"},
                callbacks=(recorder,))
        recorder.trainer = trainer
        try:
            run_dir = Path(trainer.run().run_dir)
        except BaseException:
            self._record_stopped(cfg, trainer, resume)
            raise
        self.started.add(run_dir)
        if _status(run_dir) == layout.COMPLETE:
            try:
                self.records.record(run_dir, experiment_key(cfg))
            except RunStateError as err:  # e.g. a link planted at runs.json
                raise CrosscheckError(str(err)) from None
        self._index.setdefault(experiment_key(cfg), []).append(run_dir)
        self.echo(f"   done in {time.perf_counter() - start:.0f} s")
        return run_dir

    def record_unfinished(self, path: Path, key: str) -> bool:
        """Record an unfinished run's files as they are now; False if it is not unfinished. A
        failed write leaves it unrecorded (set aside next time, never resumed)."""
        if _status(path) not in (layout.RUNNING, layout.INTERRUPTED):
            return False
        try:
            self.records.record(path, key, unfinished=True)
        except (OSError, RunStateError):
            pass
        return True

    def _record_stopped(self, cfg: RunConfig, trainer: Any, resume: Path | None) -> None:
        """Record the run whose training just stopped with an exception as it is now, so that
        the next cross-check resumes it only if nothing changed it meanwhile."""
        key = experiment_key(cfg)
        run_dir = getattr(trainer, "run_path", None) or resume
        found = [Path(run_dir)] if run_dir is not None else [
            path for path in find_runs(self.root).get(key, [])
            if path not in self._index.get(key, [])]  # a new run of a trainer that hides it
        for path in found:
            if not self.record_unfinished(path, key):  # the exception in flight goes on
                continue
            self._index.setdefault(key, [])
            if path not in self._index[key]:
                self._index[key].append(path)


def _epoch_recorder(store: RunStore, cfg: RunConfig) -> Any:
    """A Keras callback that records the run as unfinished whenever one of its epochs starts
    training (the trainer fits epoch by epoch, after the last epoch's checkpoint), so that a
    run killed outright resumes from that checkpoint. ``trainer`` is set once it exists."""
    import keras

    key = experiment_key(cfg)

    class RecordEachEpoch(keras.callbacks.Callback):
        trainer: Any = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            path = getattr(self.trainer, "run_path", None)
            if path is not None:
                store.record_unfinished(Path(path), key)

    return RecordEachEpoch()


def _preset_of(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--preset="):
            return arg.split("=", 1)[1]
        if arg == "--preset" and i + 1 < len(argv):
            return argv[i + 1]
    return None
