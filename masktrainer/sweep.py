"""Sweeps: ``--seeds 1,2,3`` and ``--grid FLAG=V1,V2`` as runs in sequence, resumably.

A sweep is the product of its seeds and grid values; each member is an ordinary run, in
the config folder its settings choose (runs that differ only in the seed land side by side
there, and the plotter pools them). Re-running the same command finds each member's run
directory by its settings (everything but the run settings of
:data:`masktrainer.layout.SETTING_KEYS`): a finished run (complete, or stopped as
diverged) is skipped, an interrupted or killed one is resumed, the others start. The seeds
must be explicit, so that a re-run can find them. Two sweeps started at once never train one
member twice: a member is decided again, and trained, under its claim (:func:`claim`). No
TensorFlow is imported here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any, Sequence

from masktrainer import layout, methods, safe_io
from masktrainer.commands import UsageError
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import ConfigError, RunStateError, RunWriteError
from masktrainer.layout import SETTING_KEYS
from masktrainer.methods.upgrade import config_values
from masktrainer.run.lock import RunLock
from masktrainer.run.resume import open_for_resume

MAX_SEED = OPTIONS["seed"].maximum
# Each member is a whole training run: more than this is a typo or a hostile product (a grid
# of 10^12 members would be built in full before the first run), not a sweep one machine ends.
MAX_MEMBERS = 10_000
FINISHED = (layout.COMPLETE, layout.DIVERGED)
UNFINISHED = (layout.RUNNING, layout.INTERRUPTED)
NOT_GRIDDED = ("seed", "outputpath", "progress")  # --seeds; the sweep's place and display


def parse_seeds(text: str) -> list[int]:
    """"1,2,3" -> [1, 2, 3], or UsageError."""
    seeds: list[int] = []
    parts = text.split(",")
    if len(parts) > MAX_MEMBERS:
        raise UsageError(f"--seeds names {len(parts):,} seeds; a sweep runs at most "
                         f"{MAX_MEMBERS:,} runs (each member is a whole training run)")
    for part in parts:
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= MAX_SEED:
            raise UsageError(f"--seeds takes a comma list of seeds in [1, {int(MAX_SEED)}] "
                             f"(got {text!r}; 0 would draw a seed a re-run cannot find)")
        if int(part) in seeds:
            raise UsageError(f"--seeds names seed {int(part)} twice")
        seeds.append(int(part))
    return seeds


def parse_grid(specs: Sequence[str], given: set[str]) -> list[tuple[str, list[str]]]:
    """["keep_ratio=0.3,0.5"] -> [("keep_ratio", ["0.3", "0.5"])], or UsageError.
    ``given``: the flags on the command line (a gridded flag must not be one of them)."""
    grid: list[tuple[str, list[str]]] = []
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip().lstrip("-")
        parts = [value.strip() for value in values.split(",")]
        if not sep or not name or not all(parts):
            raise UsageError(f"--grid takes FLAG=V1,V2,... (got {spec!r})")
        if name == "seed":
            raise UsageError("--grid seed=...: use --seeds")
        if name not in OPTIONS or name in NOT_GRIDDED:
            raise UsageError(f"--grid {spec}: --{name} is not a setting a sweep can vary")
        if name in given:
            raise UsageError(f"--{name} is given both as a flag and in --grid")
        if any(name == known for known, _ in grid):
            raise UsageError(f"--grid names --{name} twice")
        if len(set(parts)) != len(parts):
            raise UsageError(f"--grid {spec} repeats a value")
        grid.append((name, parts))
    check_size(None, grid)  # the product, before anything builds it
    return grid


def check_size(seeds: Sequence[int] | None, grid: Sequence[tuple[str, list[str]]]) -> None:
    """UsageError if the sweep would have more than MAX_MEMBERS members (before any is built)."""
    size = len(seeds) if seeds else 1
    for _, values in grid:
        size *= len(values)
        if size > MAX_MEMBERS:
            break
    if size > MAX_MEMBERS:
        shape = " x ".join(str(n) for n in ([len(seeds)] if seeds else [])
                           + [len(values) for _, values in grid])
        raise UsageError(f"the sweep would have over {MAX_MEMBERS:,} members ({shape}); a "
                         "sweep runs each member as a whole training run: split it")


def members(seeds: Sequence[int] | None, grid: Sequence[tuple[str, list[str]]]
            ) -> list[dict[str, str]]:
    """The flag values of each member: the grid's product, for every seed in turn."""
    check_size(seeds, grid)
    names = [name for name, _ in grid]
    combos = [dict(zip(names, values)) for values in
              itertools.product(*(values for _, values in grid))]
    if not seeds:
        return combos
    return [{"seed": str(seed), **combo} for seed in seeds for combo in combos]


def label(values: dict[str, str]) -> str:
    return ", ".join(f"{name} {value}" if name == "seed" else f"{name}={value}"
                     for name, value in values.items())


@dataclasses.dataclass
class Found:
    """A member's run directory from an earlier attempt."""

    path: Path
    status: str  # complete, diverged, running, interrupted
    config: dict[str, Any]
    locked: bool = False  # being trained by another process


def _identity(cfg: RunConfig) -> dict[str, Any]:
    # --protocol is a name for the split and sets (both compared): a self-pruning run of the
    # version before it, read as "original", is the run a held-out sweep asks for.
    return {k: v for k, v in cfg.to_dict().items() if k not in SETTING_KEYS and k != "protocol"}


def _locked(path: Path) -> bool:
    lock = RunLock()
    try:
        lock.acquire(path)
    except RunStateError:
        return True
    lock.release()
    return False


def _read(path: Path) -> tuple[dict[str, Any], str, RunConfig] | None:
    """A run directory's config, status and settings; None if this version cannot read it."""
    try:
        config, status = layout.read_config(path), layout.read_status(path)
        cfg = RunConfig.from_dict(config_values(config))
    except (RunStateError, ConfigError, OSError, TypeError):
        return None
    return (config, status, cfg) if isinstance(status, str) else None


def find_run(cfg: RunConfig) -> Found | None:
    """The run directory of an earlier attempt at ``cfg``: a finished one first, else the
    newest unfinished one; None if there is none."""
    folder = methods.method_of(cfg).recipe.run_folder(cfg)
    try:
        candidates = sorted(p for p in folder.glob(f"{layout.RUN_FOLDER_PREFIX}*")
                            if p.is_dir() and not p.is_symlink())
    except OSError:
        return None
    want = _identity(cfg)
    finished, unfinished = [], []
    for path in candidates:
        read = _read(path)
        if read is None or _identity(read[2]) != want:
            continue
        config, status, _ = read
        if status in FINISHED:
            finished.append(Found(path, status, config))
        elif status in UNFINISHED:
            unfinished.append(Found(path, status, config))
    if finished:
        return finished[0]
    if not unfinished:
        return None
    found = max(unfinished, key=lambda f: str(f.config.get("created", "")))
    found.locked = _locked(found.path)
    if not found.locked:
        try:
            open_for_resume(found.path)
        except RunStateError as err:
            raise UsageError(f"{found.path} (an earlier attempt at this run) cannot be resumed: "
                             f"{err}; move it away to start the run afresh") from None
    return found


def identity_key(cfg: RunConfig) -> str:
    """A short digest of a member's settings (the run settings aside): equal for the same run."""
    text = json.dumps(_identity(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Claim:
    """This process's exclusive claim on one sweep member, held while it is decided and
    trained: an ``flock`` on ``.sweep-<digest>.lock`` in the member's config folder (the
    empty file stays; the operating system drops the lock however the process ends)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim(cfg: RunConfig) -> Claim | None:
    """The claim on ``cfg``'s member, or None while another process holds it.
    RunStateError/RunWriteError for a link or an unwritable folder on the way."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the run locks alone
        return Claim(None)
    folder = safe_io.make_folders(methods.method_of(cfg).recipe.run_folder(cfg),
                                  Path(cfg.outputpath))
    path = folder / f".sweep-{identity_key(cfg)}.lock"
    flags = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        safe_io.refuse_link(path)
        raise RunStateError(f"cannot open {path}: {err.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return Claim(fd)


def unfinished(cfg: RunConfig) -> str | None:
    """Why a member this process skipped is not finished now, or None if it is: another
    process held it while this sweep went by, and may since have finished it, be training it
    still, or have died and left it unfinished (abandoned, resumed by the next sweep)."""
    try:
        found = find_run(cfg)
        if found is not None and found.status in FINISHED:
            return None
        held = claim(cfg)  # the other process's claim, if it lives, refuses ours
        if held is None:
            return "still being trained by another process"
        try:
            found = find_run(cfg)
        finally:
            held.release()
    except (UsageError, RunStateError, RunWriteError) as err:
        return str(err)
    if found is None:
        return "not started (the process that held it stopped before its run began)"
    if found.status in FINISHED:
        return None
    if found.locked:
        return f"still being trained by another process in {found.path}"
    return f"{found.path} is {found.status} and no process holds it (abandoned)"


def not_finished(skipped: Sequence[tuple[str, RunConfig]]) -> list[str]:
    """``label: why`` for each skipped member that is not finished now."""
    left = [(name, unfinished(cfg)) for name, cfg in skipped]
    return [f"{name}: {why}" for name, why in left if why is not None]


def check_distinct(cfgs: Sequence[RunConfig], labels: Sequence[str]) -> None:
    """UsageError if two members are the same run (``--grid lr=0.001,0.0010``)."""
    seen: dict[str, str] = {}
    for cfg, name in zip(cfgs, labels):
        key = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
        if key in seen:
            raise UsageError(f"sweep members {seen[key]!r} and {name!r} are the same run (the "
                             "values are equal once parsed); give each value once")
        seen[key] = name
