"""Shared timing for the benchmark scripts: interleaved repeats, median seconds per step."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import keras

from masktrainer.safe_io import folder_problem, given_paths_problem


def seconds_per_step(model: keras.Model, dataset, steps: int) -> float:
    """Wall time of ``model.fit`` over ``steps`` batches of ``dataset``, per step."""
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def median_step_seconds(models: dict[str, keras.Model], dataset, steps: int, repeats: int,
                        warmup_steps: int) -> dict[str, float]:
    """Compile and warm up every model, then time them interleaved ``repeats`` times."""
    for model in models.values():
        seconds_per_step(model, dataset, warmup_steps)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(seconds_per_step(model, dataset, steps))
    return {name: statistics.median(values) for name, values in times.items()}


def json_output_problem(path: str | None) -> str | None:
    """Why ``--json PATH`` cannot be written (checked before any timing), or None."""
    if not path:
        return None
    if unusable := given_paths_problem({"--json": path}):  # a control character, a long name
        return unusable
    target = Path(path)
    if target.is_symlink():
        return f"--json {path}: is a link (results are never written through a link)"
    if target.exists() and not target.is_file():
        return f"--json {path}: is not a regular file"
    if not target.absolute().parent.is_dir():
        return f"--json {path}: the folder {target.absolute().parent} does not exist"
    if problem := folder_problem(target.absolute().parent):
        return f"--json {path}: {problem}"
    return None
