"""Axis ranges: trained epochs set the y-range, integer epoch ticks, user limits and logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from plotting import AxisRanges, build_figures, group_runs, load_runs
from plotting.ranges import (
    OFF_SCALE_LABEL,
    epoch_ticks,
    finish_epoch_axes,
    parse_limits,
    trained_limits,
)

# Three seeds of a LeNet-like run: ~10 % before training, 96-98 % after.
ACCURACY = {
    1: [0.10, 0.962, 0.968, 0.974],
    2: [0.12, 0.960, 0.971, 0.978],
    3: [0.09, 0.958, 0.966, 0.972],
}


@pytest.mark.parametrize(
    "last, ticks",
    [
        (0, [0]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (9, list(range(10))),
        (18, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]),
        (20, [0, 5, 10, 15, 20]),
        (22, [0, 5, 10, 15, 22]),  # 20 would crowd 22
        (23, [0, 5, 10, 15, 20, 23]),
        (100, [0, 20, 40, 60, 80, 100]),
        (120, [0, 20, 40, 60, 80, 100, 120]),
        (250, [0, 50, 100, 150, 200, 250]),
    ],
)
def test_epoch_ticks_are_integers_ending_at_the_last_epoch(last: int, ticks) -> None:
    assert epoch_ticks(last) == ticks


def test_limits_come_from_trained_epochs() -> None:
    epochs = np.array([0, 1, 2, 3] * 2)
    values = np.array([10.0, 96.0, 97.0, 98.0, 11.0, 95.0, 96.5, 97.5])
    low, high = trained_limits(epochs, values)
    assert low == pytest.approx(95 - 0.15) and high == pytest.approx(98 + 0.15)


def test_epoch_zero_counts_when_the_trained_epochs_keep_half_the_height() -> None:
    epochs = np.array([0, 1, 2, 3])
    # trained 4..50 is over half of 0..50: a start at 0 % does not leave the panel
    assert trained_limits(epochs, np.array([0.0, 4.0, 20.0, 50.0])) == (0.0, pytest.approx(52.5))
    # trained 17..27 is under half of 0..27: epoch 0 is off scale
    assert trained_limits(epochs, np.array([0.0, 17.0, 23.0, 27.0])) == pytest.approx((16.5, 27.5))


def test_only_epoch_zero_uses_it() -> None:
    low, high = trained_limits(np.array([0, 0]), np.array([10.0, 12.0]))
    assert low < 10 < 12 < high


def test_log_limits_ignore_non_positive_values() -> None:
    low, high = trained_limits(np.array([0, 1, 2]), np.array([0.0, 0.1, 10.0]), log=True)
    assert 0 < low < 0.1 and 10 < high < 20


def _axes_with(values_by_seed: dict[int, list[float]], scale: float = 100.0) -> Axes:
    fig = Figure()
    ax = fig.subplots()
    for values in values_by_seed.values():
        ax.plot(np.arange(len(values)), np.asarray(values) * scale)
    return ax


def test_finish_ranges_on_trained_epochs_and_marks_epoch_zero() -> None:
    ax = _axes_with(ACCURACY)
    finish_epoch_axes([ax], "accuracy")
    low, high = ax.get_ylim()
    assert 95.5 < low < 95.8 and 97.8 < high < 98.1
    assert list(ax.get_xticks()) == [0, 1, 2, 3]
    assert ax.get_xlim()[0] < 0 and 3 < ax.get_xlim()[1] < 3.3
    assert ax.get_xlabel() == OFF_SCALE_LABEL


@pytest.mark.parametrize("kind", ["sparsity", None])
def test_shares_and_other_metrics_keep_epoch_zero(kind) -> None:
    """0 % flipped before training, 4.29-4.34 % after: a flat line, not a climb."""
    ax = _axes_with({1: [0.0, 4.29, 4.34, 4.33], 2: [0.0, 4.30, 4.32, 4.37]}, scale=1.0)
    finish_epoch_axes([ax], kind)
    assert ax.get_ylim() == (0.0, pytest.approx(4.37 * 1.05))
    assert ax.get_xlabel() == "Epoch"


def test_finish_applies_user_limits_and_log_scale() -> None:
    ax = _axes_with(ACCURACY)
    finish_epoch_axes([ax], "accuracy", AxisRanges({"accuracy": (0.0, 100.0)}))
    assert ax.get_ylim() == (0.0, 100.0) and ax.get_xlabel() == "Epoch"
    ax = _axes_with(ACCURACY)
    finish_epoch_axes([ax], "accuracy", AxisRanges({"accuracy": (None, 99.0)}))
    assert 95.5 < ax.get_ylim()[0] < 95.8 and ax.get_ylim()[1] == 99.0
    ax = _axes_with({1: [3.0, 0.3, 0.1, 0.05]}, scale=1.0)
    finish_epoch_axes([ax], "loss", AxisRanges(log={"loss"}))
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < 0.05 < 0.3 < ax.get_ylim()[1] < 3
    ax = _axes_with({1: [3.0, 0.3, 0.1, 0.05]})
    finish_epoch_axes([ax], "accuracy", AxisRanges(log={"loss"}))  # another kind
    assert ax.get_yscale() == "linear"


def test_axes_of_one_row_share_the_range() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    left.plot([0, 1, 2], [10, 90, 95])
    right.plot([0, 1, 2], [10, 80, 85])
    finish_epoch_axes([left, right], "accuracy")
    assert left.get_ylim() == right.get_ylim()
    assert left.get_ylim()[0] < 80 and left.get_ylim()[1] > 95


@pytest.mark.parametrize(
    "limits, log, message",
    [
        ({"acuracy": (1.0, 2.0)}, (), "unknown axis kind 'acuracy'"),
        ({"accuracy": (99.0, 96.0)}, (), "the lower must be below the upper"),
        ({"loss": (float("nan"), 1.0)}, (), "is not a finite number"),
        ({"loss": (0.0, 1.0)}, ("loss",), "lower limit must be positive"),
        ({}, ("speed",), "unknown axis kind 'speed'"),
    ],
)
def test_invalid_ranges_are_one_line_errors(limits, log, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        AxisRanges(limits, frozenset(log))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("accuracy=96:99", ("accuracy", (96.0, 99.0))),
        ("loss=:0.5", ("loss", (None, 0.5))),
        ("Sparsity=10:", ("sparsity", (10.0, None))),
    ],
)
def test_parse_limits(text: str, parsed) -> None:
    assert parse_limits(text) == parsed


@pytest.mark.parametrize(
    "text, message",
    [("accuracy", "expected KIND=LOW:HIGH"), ("accuracy=96", "expected KIND=LOW:HIGH"),
     ("accuracy=a:b", "are not numbers")],
)
def test_parse_limits_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_limits(text)


def _trained_folder(root: Path, run_writer) -> Path:
    for seed, test in ACCURACY.items():
        run_writer(root, seed, test, kept=([60, 50, 45, 42], [40, 30, 26, 25]))
    return root


def test_every_accuracy_panel_is_ranged_on_trained_epochs(tmp_path: Path, run_writer) -> None:
    figures = build_figures(group_runs(load_runs(_trained_folder(tmp_path, run_writer))),
                            compare="lr")
    accuracy_axes = [
        ax for fig in figures.values() for ax in fig.axes
        if ax.get_ylabel().startswith(("Test accuracy", "Validation accuracy"))
    ]
    assert len(accuracy_axes) == 4  # accuracy_loss (2), accuracy_sparsity, compare
    for ax in accuracy_axes:
        low, high = ax.get_ylim()
        assert 94 < low < 95.8 and 97.8 < high < 99, ax.get_ylabel()
        assert list(ax.get_xticks()) == [0, 1, 2, 3]


def test_user_ranges_reach_every_figure(tmp_path: Path, run_writer) -> None:
    groups = group_runs(load_runs(_trained_folder(tmp_path, run_writer)))
    ranges = AxisRanges({"accuracy": (90.0, 100.0), "sparsity": (0.0, 100.0)}, {"loss"})
    figures = build_figures(groups, compare="lr", ranges=ranges)
    axes = [ax for fig in figures.values() for ax in fig.axes if ax.get_lines()]
    accuracy = [ax for ax in axes if "accuracy" in ax.get_ylabel()]
    sparsity = [ax for ax in axes if "weights (%)" in ax.get_ylabel()]
    loss = [ax for ax in axes if ax.get_ylabel().endswith("loss")]
    assert len(accuracy) == 5 and len(sparsity) >= 4 and len(loss) == 3
    assert all(ax.get_ylim() == (90.0, 100.0) for ax in accuracy)
    assert all(ax.get_ylim() == (0.0, 100.0) for ax in sparsity)
    assert all(ax.get_yscale() == "log" for ax in loss)


def test_top5_panels_are_ranged_on_trained_epochs(tmp_path: Path, run_writer) -> None:
    """Top-5 accuracy near 100 % after training, ~50 % before: epoch 0 must not set the scale."""
    import json

    folder = _trained_folder(tmp_path, run_writer)
    for path in folder.glob("**/metrics.json"):
        metrics = json.loads(path.read_text())
        metrics["testTop5Accuracy"] = [0.48, 0.995, 0.997, 0.998]
        path.write_text(json.dumps(metrics))
    figures = build_figures(group_runs(load_runs(folder)), compare="lr")
    top5 = [ax for ax in figures["extra_metrics"].axes if "top5" in ax.get_ylabel().lower()]
    assert len(top5) == 1
    low, high = top5[0].get_ylim()
    # at least MIN_ACCURACY_SPAN high: one image's noise is not magnified
    assert 97.9 < low < 99.5 and 99.8 < high <= 100.05 and high - low >= 2.0 - 1e-9
    assert top5[0].get_xlabel() == OFF_SCALE_LABEL
