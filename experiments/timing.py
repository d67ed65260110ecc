"""Shared timing for the benchmark scripts: interleaved repeats, median seconds per step."""

from __future__ import annotations

import statistics
import time

import keras


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
