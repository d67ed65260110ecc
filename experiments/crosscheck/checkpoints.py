"""Targets R1-R7: the LaPerm authors' released checkpoints, each evaluated by
``python -m masktrainer evaluate`` (a subprocess, so the report quotes the exact command a
user can rerun) and compared with its published number to 0.01 pp. Results are kept in
``evaluations.json`` beside the report, keyed by the file's checksum, so a rerun of the
cross-check does not evaluate a file twice. A cached score is used only if its entry still
matches the record sealed when it was measured (records.py: the file's sha256, the command,
a digest over the entry); anything else is evaluated again and the report says so.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from experiments.crosscheck.checks import Verdict, not_run, published_value
from experiments.crosscheck.records import score_mismatch, seal_score, sha256_file
from experiments.crosscheck.runs import CrosscheckError
from experiments.crosscheck.targets import CHECKPOINT, Target
from masktrainer import safe_io
from masktrainer.errors import RunStateError

# Evaluated independently of this library (pretrained/README.md): the file's own score where it
# differs from the published one, so a match with it means "the artefact does not reproduce".
FILE_SCORES = {"F2.h5": published_value("P4-pretrained:F2_file")}
LAST_LINE = re.compile(r"test accuracy (\d+(?:\.\d+)?)%\s*$")
CACHE = "evaluations.json"


def _target(id_: str, file: str, nettype: str, key: str) -> Target:
    return Target(id_, f"released checkpoint {file} (LaPerm {nettype})", CHECKPOINT, (key,),
                  "0.01 pp", note=f"{file}|{nettype}")


CHECKPOINT_TARGETS = (
    _target("R1", "F1.h5", "F1", "P4-readme:F1"),
    _target("R2", "F2.h5", "F2", "P4-readme:F2"),
    _target("R3", "Conv7.h5", "Conv7", "P4-readme:Conv7"),
    _target("R4", "resnet50.h5", "ResNet50", "P4-readme:ResNet50"),
    _target("R5", "resnet50_30.h5", "ResNet50", "P4-readme:ResNet50_p30"),
    _target("R6", "resnet50_50.h5", "ResNet50", "P4-readme:ResNet50_p50"),
    _target("R7", "resnet50_70.h5", "ResNet50", "P4-readme:ResNet50_p70"),
)

Evaluate = Callable[[list[str]], tuple[int, str, str]]  # argv -> (exit code, stdout, stderr)


def run_subprocess(argv: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


class CheckpointEvaluator:
    """Evaluates released checkpoints once, caching the results under ``folder``."""

    def __init__(self, folder: Path, pretrained_dir: Path | None, data_dir: str | None,
                 evaluate: Evaluate = run_subprocess) -> None:
        self.folder, self.pretrained_dir, self.data_dir = folder, pretrained_dir, data_dir
        self.evaluate = evaluate
        path = folder / CACHE
        try:
            self.cache: dict = safe_io.read_json_object(path) if path.exists() else {}
        except RunStateError:
            self.cache = {}  # unreadable: everything is evaluated again, nothing trusted
        self.commands: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def command(self, target: Target) -> list[str]:
        file, nettype = target.note.split("|")
        argv = [sys.executable, "-m", "masktrainer", "evaluate", "--traintype", "LaPerm",
                "--nettype", nettype, "--weights", str(self.pretrained_dir / file)]
        return argv + (["--data_dir", self.data_dir] if self.data_dir else [])

    def judge(self, target: Target, published: float) -> Verdict:
        file = target.note.split("|")[0]
        if self.pretrained_dir is None or not (self.pretrained_dir / file).is_file():
            return not_run(f"{file} is not in the released-checkpoint folder "
                           f"({self.pretrained_dir}); pass --pretrained_dir")
        argv = self.command(target)
        self.commands[target.id] = command = "python " + shlex.join(argv[1:])
        try:
            checksum = sha256_file(self.pretrained_dir / file)
        except (OSError, RunStateError) as err:
            return not_run(f"{file} cannot be read: {err}")
        key = f"{checksum}|{target.note}|{self.data_dir}"
        again = ""
        if key in self.cache:
            why = score_mismatch(key, self.cache[key], command, checksum)
            if why is not None:
                again = f"; re-evaluated: the cached score did not match its record ({why})"
                del self.cache[key]
        if key not in self.cache:
            start = time.perf_counter()
            code, out, err = self.evaluate(argv)
            lines = out.strip().splitlines()
            match = LAST_LINE.search(lines[-1]) if lines else None  # its last stdout line
            if code != 0 or match is None:
                said = (err.strip() or out.strip() or "no output").splitlines()[-1]
                return Verdict("fail", "—", f"evaluate exited {code}: {said}{again}")
            self.cache[key] = seal_score(key, {
                "accuracy": float(match.group(1)),
                "seconds": round(time.perf_counter() - start, 1),
                "checkpoint_sha256": checksum, "command": command, "output": lines[-1]})
            try:
                safe_io.atomic_write_text(self.folder / CACHE, json.dumps(self.cache, indent=1))
            except RunStateError as err:  # e.g. a link planted at evaluations.json
                raise CrosscheckError(str(err)) from None
        ours, seconds = self.cache[key]["accuracy"], self.cache[key]["seconds"]
        self.seconds[target.id] = seconds
        gap = ours - published
        if abs(gap) <= 0.01:
            return Verdict("pass", f"{ours:.2f} %", "reproduces the published number" + again,
                           ours, 0.0, 1)
        own = FILE_SCORES.get(file)
        if own is not None and abs(ours - own) <= 0.01:
            return Verdict("not reproducible", f"{ours:.2f} %",
                           f"{gap:+.2f} pp: the file itself scores {own} % when evaluated "
                           "independently of this library (pretrained/README.md); the published "
                           "number is not the released network's" + again, ours, 0.0, 1)
        return Verdict("fail", f"{ours:.2f} %", f"{gap:+.2f} pp from the published number: our "
                       "architecture or preprocessing differs" + again, ours, 0.0, 1)
