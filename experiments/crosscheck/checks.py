"""What a target measures and how it is judged: the per-run measures, the verdict of a target
and the statistics over seeds. No TensorFlow here, so a report can be written anywhere."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path
from typing import Any, Callable, Sequence

PUBLISHED_FILE = Path(__file__).with_name("published.json")
STATUSES = ("pass", "fail", "not reproducible", "not run")


def published() -> dict[str, dict[str, Any]]:
    """Every published number a target uses, by its source key (published.json)."""
    data = json.loads(PUBLISHED_FILE.read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


@functools.cache
def published_value(key: str) -> float:
    """The number published under ``key``: targets judge against it, never a copy of it."""
    return float(published()[key]["value"])


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A target's outcome: ``ours`` is what the report prints for our number(s)."""

    status: str
    ours: str
    reason: str = ""
    mean: float | None = None
    std: float | None = None
    seeds: int = 0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")


def not_run(reason: str) -> Verdict:
    return Verdict("not run", "—", reason)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def spread(values: Sequence[float], unit: str = " %") -> str:
    """``97.12 ± 0.08 % (3 seeds)`` or ``97.12 % (1 seed)``."""
    mean, std = mean_std(values)
    seeds = f"({len(values)} seed{'s' if len(values) != 1 else ''})"
    if len(values) == 1:
        return f"{mean:.2f}{unit} {seeds}"
    return f"{mean:.2f} ± {std:.2f}{unit} {seeds}"


# -- per-run measures (the metrics of a finished run -> a number) ----------------------------

Measure = Callable[[dict[str, Any]], float]


class MeasureError(ValueError):
    """A finished run lacks what a target measures (a set it did not evaluate)."""


def final_test(metrics: dict[str, Any]) -> float:
    """Test accuracy after the last epoch, in percent."""
    last = (metrics.get("testAccuracy") or [None])[-1]
    if last is None:
        raise MeasureError("the run did not evaluate the test set at its last epoch "
                           "(--eval_sets)")
    return 100.0 * float(last)


def best_val_test(metrics: dict[str, Any]) -> float:
    """Test accuracy at the best-validation epoch (selected on validation), in percent; with
    ``--split test`` (the LaPerm notebooks) validation is the test set, so this is the
    notebooks' best-validation accuracy."""
    best = metrics.get("best") or {}
    if best.get("testAccuracy") is None:
        raise MeasureError("the run did not evaluate the test set at its best epoch "
                           "(--eval_sets val,test)")
    return 100.0 * float(best["testAccuracy"])


def within(values: Sequence[float], target: float, single: float,
           mean_tolerance: float | None = None) -> tuple[bool, str]:
    """A single seed within ``single`` pp of ``target``; three or more seeds: their mean
    within ``mean_tolerance`` pp (when given)."""
    mean, _ = mean_std(values)
    if len(values) >= 3 and mean_tolerance is not None:
        ok = abs(mean - target) <= mean_tolerance
        return ok, f"mean {mean - target:+.2f} pp from {target} (tolerance ±{mean_tolerance})"
    worst = max(values, key=lambda v: abs(v - target))
    ok = abs(worst - target) <= single
    return ok, f"{worst - target:+.2f} pp from {target} (tolerance ±{single} per seed)"


def at_least(values: Sequence[float], floor: float, what: str = "") -> tuple[bool, str]:
    low = min(values)
    ok = low >= floor
    label = f"{what} " if what else ""
    return ok, f"{label}lowest {low:.2f} {'≥' if ok else '<'} floor {floor}"


def combine(parts: Sequence[tuple[bool, str]]) -> tuple[str, str]:
    """All parts must hold; the reason lists them (failing ones first)."""
    failing = [text for ok, text in parts if not ok]
    passing = [text for ok, text in parts if ok]
    status = "pass" if not failing else "fail"
    reason = "; ".join([*(f"FAILS: {text}" for text in failing), *passing])
    return status, reason


def verdict_of(parts: Sequence[tuple[bool, str]], values: Sequence[float], quick: bool,
            reason_prefix: str = "") -> Verdict:
    """A target's verdict: every part must hold; ``values`` (one per seed) are what it shows."""
    status, reason = combine(parts)
    mean, std = mean_std(values)
    prefix = "quick run: " if quick else ""
    return Verdict(status, spread(values), prefix + reason_prefix + reason, mean, std,
                   len(values))
