"""The cross-check's own record of what it produced, so that nothing it finds on disk is
trusted on its word: the sha256 of each finished run's files (``runs.json``) and of each cached
checkpoint score (inside ``evaluations.json``). A run or a score whose files or fields no
longer match the record is retrained or re-evaluated, and the report says so.

An unfinished run is recorded too, with its checkpoint folder's files, as each of its epochs
begins and when its training stops with an exception (Ctrl-C, SIGTERM, an error): it is resumed
only if it still matches the latest record; one changed since (or killed before its first
record) is set aside (left where it is, never deleted) and the experiment is trained again.

The digests catch a relabelled run config, swapped or edited metrics, a run copied from
elsewhere and a cache entry typed in by hand; they are not a signature (whoever rewrites the
record with the same recipe is believed), so a published comparison should still be rerun
from an empty output folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from masktrainer import layout, safe_io
from masktrainer.errors import RunStateError

RUN_INDEX = "runs.json"
# The files that make a run what it is: its settings, its numbers and its networks.
RUN_FILES = (layout.CONFIG_FILE, layout.METRICS_FILE)
MODEL_SUFFIXES = (".keras", ".npz", ".h5")


def sha256_file(path: Path) -> str:
    """The file's sha256; a link or anything but a regular file is refused."""
    if path.is_symlink():
        raise RunStateError(f"{path} is a link")
    safe_io.check_regular(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_files(run_dir: Path) -> dict[str, str]:
    """The digests of a run's settings, numbers and model files (by name)."""
    names = list(RUN_FILES) + sorted(
        p.name for p in run_dir.iterdir()
        if p.suffix in MODEL_SUFFIXES and not p.is_symlink() and p.is_file())
    return {name: sha256_file(run_dir / name) for name in names}


def unfinished_files(run_dir: Path) -> dict[str, str]:
    """:func:`run_files` and the checkpoint folder's resume state and checkpoint files (what a
    resume reads), named ``<folder>/<file>``."""
    files = run_files(run_dir)
    folder = run_dir / layout.CHECKPOINT_FOLDER
    if folder.is_symlink():
        raise RunStateError(f"{folder} is a link")
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name == layout.RESUME_FILE or re.fullmatch(layout.CHECKPOINT_FILE_PATTERN,
                                                               path.name):
                files[f"{layout.CHECKPOINT_FOLDER}/{path.name}"] = sha256_file(path)
    return files


class RunIndex:
    """``runs.json`` under the output folder: for each run this cross-check trained, what it
    trains (the experiment key's digest) and its files' digests."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / RUN_INDEX
        try:
            data = safe_io.read_json_object(self.path) if self.path.exists() else {}
        except RunStateError:
            data = {}  # unreadable: every stored run is retrained, never trusted
        runs = data.get("runs")
        self.runs: dict[str, Any] = runs if isinstance(runs, dict) else {}

    def _name(self, run_dir: Path) -> str:
        return str(Path(run_dir).resolve().relative_to(self.path.parent.resolve()))

    def record(self, run_dir: Path, experiment: str, unfinished: bool = False) -> None:
        """Record the run's files for ``experiment``: a finished run's, or (``unfinished``)
        those a resume reads as well."""
        try:
            name = self._name(run_dir)
        except ValueError:
            return  # outside the output folder: never recorded, so never reused
        files = unfinished_files if unfinished else run_files
        entry = {"experiment": sha256_text(experiment), "files": files(Path(run_dir))}
        self.runs[name] = {**entry, "unfinished": True} if unfinished else entry
        safe_io.atomic_write_json(self.path, {"format": 1, "runs": self.runs})

    def mismatch(self, run_dir: Path, experiment: str, unfinished: bool = False) -> str | None:
        """Why the run is not verifiably the one recorded for ``experiment`` (``unfinished``:
        as it was when its training stopped); None if it is."""
        try:
            entry = self.runs.get(self._name(run_dir))
        except ValueError:
            return "it lies outside the output folder"
        if not isinstance(entry, dict):
            return "it has no record in " + RUN_INDEX
        if entry.get("experiment") != sha256_text(experiment):
            return "its settings are not the ones recorded"
        if (entry.get("unfinished") is True) != unfinished:
            return "its record is of " + ("a finished run" if unfinished else "an unfinished run")
        recorded = entry.get("files")
        try:
            now = (unfinished_files if unfinished else run_files)(Path(run_dir))
        except (OSError, RunStateError):
            return "its files cannot be read"
        if not isinstance(recorded, dict) or now != recorded:
            changed = sorted(n for n in set(now) | set(recorded or {})
                             if now.get(n) != (recorded or {}).get(n))
            return "its files differ from the record (" + ", ".join(changed) + ")"
        return None


def score_digest(key: str, entry: dict[str, Any]) -> str:
    fields = {k: v for k, v in entry.items() if k != "digest"}
    return sha256_text(json.dumps({"key": key, **fields}, sort_keys=True))


def seal_score(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "digest": score_digest(key, entry)}


def score_mismatch(key: str, entry: Any, command: str, checkpoint_sha256: str) -> str | None:
    """Why a cached score is not verifiably this command's result on this file; None if it is."""
    if not isinstance(entry, dict) or entry.get("digest") != score_digest(key, entry):
        return "its record's digest does not match"
    if entry.get("checkpoint_sha256") != checkpoint_sha256:
        return "it was made from another file"
    if entry.get("command") != command:
        return "it was made by another command"
    accuracy = entry.get("accuracy")
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool):
        return "its accuracy is not a number"
    return None
