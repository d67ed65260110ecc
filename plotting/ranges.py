"""Axis ranges of per-epoch panels: epoch ticks, y-limits, user limits and log scales.

Epoch 0 is the network before training: ~10 % accuracy and a large loss. Drawn
on the same scale it would squeeze the trained epochs (and the min-max bands of
the seeds) into a few pixels, so the y-range of accuracy and loss panels comes
from epochs 1 and later (unless epoch 0 lies close to them); epoch 0 is still
drawn, and an axis where it falls outside the range says so in its label.
Limits and log scales chosen by the user apply to every panel of one kind of
quantity (:data:`KINDS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from plotting.style import EPOCH_LABEL

ACCURACY, LOSS, SPARSITY = "accuracy", "loss", "sparsity"
#: Kinds of plotted quantity that ``--ylim``/``--logy`` can address: accuracies
#: (%), losses, and remaining/pruned weights or flipped signs (%).
KINDS = (ACCURACY, LOSS, SPARSITY)
#: Space left above and below the data, as a share of its span.
MARGIN = 0.05
#: Percentage points: the least height of an automatic accuracy axis.
MIN_ACCURACY_SPAN = 2.0
#: Kinds whose automatic range leaves out epoch 0. Shares of weights keep it:
#: where they start (100 % remaining, 0 % flipped) is part of what they show,
#: and a range of 4.28-4.37 % flipped would make noise look like a trend.
SKIP_START_KINDS = frozenset({ACCURACY, LOSS})
#: Epoch 0 joins the y-range when the trained epochs keep this share of the height.
TRAINED_SHARE = 0.5
MAX_EPOCH_TICKS = 10
OFF_SCALE_LABEL = f"{EPOCH_LABEL} (epoch 0 off scale)"

Limits = tuple[float | None, float | None]


@dataclass(frozen=True)
class AxisRanges:
    """User choices for the y-axes, by kind: fixed limits (either end may stay
    automatic, ``None``) and log scales. Invalid choices raise ``ValueError``."""

    limits: Mapping[str, Limits] = field(default_factory=dict)
    log: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "log", frozenset(self.log))
        for kind in [*self.limits, *self.log]:
            if kind not in KINDS:
                raise ValueError(f"unknown axis kind {kind!r}; choose from {', '.join(KINDS)}")
        for kind, (low, high) in self.limits.items():
            for value in (low, high):
                if value is not None and not math.isfinite(value):
                    raise ValueError(f"{kind} limit {value} is not a finite number")
            if low is not None and high is not None and low >= high:
                raise ValueError(
                    f"{kind} limits {low:g}:{high:g}: the lower must be below the upper"
                )
            if kind in self.log and low is not None and low <= 0:
                raise ValueError(f"{kind} is on a log scale: its lower limit must be positive")


def parse_limits(text: str) -> tuple[str, Limits]:
    """``"accuracy=96:99"`` -> ``("accuracy", (96.0, 99.0))``; an empty end stays automatic."""
    kind, sep, span = text.partition("=")
    low_text, colon, high_text = span.partition(":")
    if not sep or not colon:
        raise ValueError(f"expected KIND=LOW:HIGH (e.g. accuracy=96:99), got {text!r}")
    kind = kind.strip().lower()
    try:
        low, high = (float(t) if t.strip() else None for t in (low_text, high_text))
    except ValueError:
        raise ValueError(f"limits in {text!r} are not numbers") from None
    return kind, (low, high)  # checked by AxisRanges


def epoch_ticks(last: int, max_ticks: int = MAX_EPOCH_TICKS) -> list[int]:
    """Integer epoch ticks from 0 that end at ``last``, at a 1-2-5 step."""
    if last <= 0:
        return [0]
    step = 1
    while last / step > max_ticks - 1:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2  # 1, 2, 5, 10, 20, 50 ...
    ticks = list(range(0, last, step))
    if len(ticks) > 1 and last - ticks[-1] < step / 2:
        ticks.pop()  # its label would run into the last one
    return ticks + [last]


def _points(axes: Iterable[Axes]) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, values) of every line drawn in ``axes`` (means and min/max edges)."""
    xs, ys = [np.empty(0)], [np.empty(0)]
    for ax in axes:
        for line in ax.get_lines():
            xs.append(np.asarray(line.get_xdata(), float))
            ys.append(np.asarray(line.get_ydata(), float))
    return np.concatenate(xs), np.concatenate(ys)


def trained_limits(
    epochs: np.ndarray, values: np.ndarray, log: bool = False, skip_start: bool = True
) -> Limits:
    """y-limits around the values of epochs >= 1, with a margin.

    Epoch 0 widens them only when the trained epochs keep at least
    :data:`TRAINED_SHARE` of the height, or always when not ``skip_start``;
    without trained epochs, all values count. Returns ``(None, None)`` when
    nothing is drawable.
    """
    usable = np.isfinite(values) & ((values > 0) if log else True)
    if not usable.any():
        return None, None
    scale = np.log10 if log else (lambda v: v)
    everything = scale(values[usable])
    trained = usable & (epochs >= 1)
    chosen = scale(values[trained]) if trained.any() else everything
    if not skip_start or np.ptp(chosen) >= TRAINED_SHARE * np.ptp(everything):
        chosen = everything
    low, high = float(chosen.min()), float(chosen.max())
    pad = MARGIN * (high - low) or (0.05 if log else max(abs(high) * MARGIN, 0.5))
    bottom, top = low - pad, high + pad
    if log:
        return 10**bottom, 10**top
    if low >= 0 > bottom:
        bottom = 0.0  # counts and percentages do not go below zero
    return bottom, top


def finish_epoch_axes(
    axes: Sequence[Axes], kind: str | None, ranges: AxisRanges | None = None
) -> None:
    """Epoch axis (label, ticks, grid) and y-range of panels drawn with
    :func:`plotting.style.draw_band`, after drawing.

    ``axes`` share one y-range (e.g. one row of a figure); ``kind`` is one of
    :data:`KINDS`, or ``None`` for quantities the user cannot address.
    """
    ranges = ranges or AxisRanges()
    axes = [ax for ax in axes if ax.get_lines()]
    if not axes:
        return
    log = kind in ranges.log
    fixed = ranges.limits.get(kind, (None, None))
    low, high = _y_limits(*_points(axes), log, fixed, kind in SKIP_START_KINDS)
    if kind == ACCURACY and not log and fixed == (None, None):
        low, high = _at_least_span(low, high)
    for ax in axes:
        if log:
            ax.set_yscale("log")
        ax.set_ylim(low, high)
        epochs, values = _points([ax])
        if not epochs.size:  # only empty lines
            continue
        last = int(epochs.max())
        ax.set_xticks(epoch_ticks(last))
        pad = max(0.02 * last, 0.2)
        ax.set_xlim(-pad, last + pad)
        start = values[(epochs == 0) & np.isfinite(values)]
        off_scale = bool(np.any((start < low) | (start > high)))
        ax.set_xlabel(OFF_SCALE_LABEL if off_scale else EPOCH_LABEL)
        ax.grid(True, alpha=0.3)


def _at_least_span(low: float, high: float) -> tuple[float, float]:
    """Accuracy limits at least :data:`MIN_ACCURACY_SPAN` points high, within 0..100 (a
    top-5 accuracy between 99.86 and 99.98 % is not magnified into one image's noise)."""
    if high - low >= MIN_ACCURACY_SPAN:
        return low, high
    middle = (low + high) / 2
    low = max(0.0, middle - MIN_ACCURACY_SPAN / 2)
    high = low + MIN_ACCURACY_SPAN
    if high > 100.0 + MARGIN:
        high = 100.0 + MARGIN
        low = high - MIN_ACCURACY_SPAN
    return low, high


def _y_limits(
    epochs: np.ndarray, values: np.ndarray, log: bool, fixed: Limits, skip_start: bool
) -> tuple:
    """The automatic limits with the user's fixed ends put in."""
    low, high = trained_limits(epochs, values, log, skip_start)
    if low is None or high is None:
        low, high = (1.0, 10.0) if log else (0.0, 1.0)  # nothing drawable
    fixed_low, fixed_high = fixed
    low = low if fixed_low is None else fixed_low
    high = high if fixed_high is None else fixed_high
    if low >= high:  # one end was fixed beyond all the data: a unit range from it
        if fixed_low is not None:
            high = low * 10 if log else low + 1.0
        else:
            low = high / 10 if log else high - 1.0
    return low, high
