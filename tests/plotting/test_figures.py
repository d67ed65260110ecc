"""Per-epoch figures and the composition bars: what is drawn, labelled and legended."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import plotting
from plotting import build_figures, group_runs, load_runs
from plotting.compare import compare_figure
from plotting.figures import accuracy_loss_figure, sparsity_figure
from plotting.style import assign_colors

LONG_NAME = "an_initializer_with_a_long_name_" * 8
EXPECTED_FIGURES = """accuracy_loss accuracy_sparsity remaining remaining_per_layer
flipped flipped_per_layer composition compare_traintype""".split()


def test_accuracy_sparsity_mean_line_and_band(groups, figures, probe) -> None:
    fig = figures["accuracy_sparsity"]
    main = probe.main_group(groups)
    ax = probe.axes_by_ylabel(fig, "Test accuracy (%)")
    mean = probe.line(ax, main.label)
    assert mean.get_linewidth() == 2
    assert np.allclose(mean.get_ydata(), [10, 55.25, 72, 83])  # killed run: 2 epochs
    count = main.band(plotting.quantities.series("testAccuracy")).count
    assert count.tolist() == [4, 4, 3, 3]
    assert np.allclose(mean.get_xdata(), [0, 1, 2, 3])
    assert np.allclose(probe.line(ax, main.label, "_min").get_ydata(), [8, 50, 70, 80])
    assert np.allclose(probe.line(ax, main.label, "_max").get_ydata(), [12, 62, 74, 86])
    assert probe.line(ax, main.label, "_max").get_alpha() == 0.2
    probe.assert_band(ax, main.label, [8, 50, 70, 80], [12, 62, 74, 86])
    bottom = probe.axes_by_ylabel(fig, "Pruned weights, flipped signs (dashed) (%)")
    pruned = probe.line(bottom, main.label).get_ydata()
    assert np.allclose(pruned, [50, 59.5, 70, 80])  # 100 - remaining
    assert bottom.get_xlabel().startswith("Epoch")
    assert fig.get_suptitle()


def test_remaining_and_flipped_figures(groups, figures, probe) -> None:
    main = probe.main_group(groups)
    ax = probe.axes_by_ylabel(figures["remaining"], "Remaining weights (%)")
    assert np.allclose(probe.line(ax, main.label).get_ydata(), [50, 40.5, 30, 20])
    probe.assert_band(ax, main.label, [50, 38, 28, 18], [50, 42, 32, 22])
    baseline = probe.group_named(groups, traintype="Baseline")
    assert np.allclose(probe.line(ax, baseline.label).get_ydata(), 100)
    flip = probe.group_named(groups, masktype="flip")
    assert flip.label not in [ln.get_label() for ln in ax.get_lines()]
    fax = probe.axes_by_ylabel(figures["flipped"], "Flipped signs (%)")
    assert np.allclose(probe.line(fax, flip.label).get_ydata(), [0, 10, 20, 30])


def test_per_layer_figure(groups, figures, probe) -> None:
    fig = figures["remaining_per_layer"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["dense_1 (60 weights)", "dense_2 (40 weights)"]
    main = probe.main_group(groups)
    first, second = fig.axes
    assert np.allclose(
        probe.line(first, main.label).get_ydata(), [50, 25.25 / 60 * 100, 100 / 3, 70 / 3]
    )
    assert np.allclose(probe.line(second, main.label).get_ydata(), [50, 38.125, 25, 15])
    assert first.get_ylabel() == "Remaining weights (%)"
    assert main.label in probe.legend_texts(fig.legends[0])


def test_composition_bars(groups, figures, probe) -> None:
    fig = figures["composition"]
    main = probe.main_group(groups)
    (subfig,) = [s for s in fig.subfigs if s.get_suptitle().startswith(main.label)]
    masks_ax, weights_ax = subfig.axes
    assert masks_ax.get_title() == "Masks M"
    heights = [[bar.get_height() for bar in c] for c in masks_ax.containers]
    # final epoch, runs 0-2: kept dense_1 14/15/13 of 60, dense_2 6/7/5 of 40
    assert np.allclose(heights[0], [0, 0])  # negative masks
    assert np.allclose(heights[2], [14 / 60 * 100, 6 / 40 * 100])  # positive
    assert np.allclose(heights[1], [46 / 60 * 100, 34 / 40 * 100])  # zero
    assert "3 of them reached it" in subfig.get_suptitle()
    assert weights_ax.get_ylabel() == "Share of layer weights (%)"
    assert probe.legend_texts(fig.legends[0]) == ["Negative", "Zero", "Positive"]


def test_accuracy_loss_figure_labels(groups, figures, probe) -> None:
    fig = figures["accuracy_loss"]
    labels = {ax.get_ylabel() for ax in fig.axes}
    assert {"Train accuracy (%)", "Validation accuracy (%)", "Test loss"} <= labels
    val = probe.axes_by_ylabel(fig, "Validation accuracy (%)")
    mean = probe.line(val, probe.main_group(groups).label).get_ydata()
    assert np.allclose(mean[:2], [10, 66.25])
    assert sorted(probe.legend_texts(fig.legends[0])) == sorted(g.label for g in groups)


def test_validation_and_test_share_a_range_train_has_its_own(figures, probe) -> None:
    fig = figures["accuracy_loss"]
    train, val, test = (probe.axes_by_ylabel(fig, f"{s} accuracy (%)")
                        for s in ("Train", "Validation", "Test"))
    assert val.get_ylim() == test.get_ylim()
    assert train.get_ylim() != val.get_ylim()


def test_all_figures_are_labelled(figures) -> None:
    assert list(figures) == EXPECTED_FIGURES
    for fig in figures.values():
        assert fig.get_suptitle()
        for ax in fig.axes:
            if ax.get_visible() and ax.has_data():
                assert ax.get_ylabel()
                assert ax.get_xlabel().startswith("Epoch") or ax.get_xlabel() == "Layer"


def test_legends_fit_inside_the_canvas_in_a_mixed_folder(
    tmp_path: Path, run_writer, probe
) -> None:
    """Long names (many methods and settings) wrap instead of leaving the figure."""
    for seed, lr in enumerate((0.001, 0.002, 0.005, 0.01, 0.02)):
        run_writer(tmp_path, seed, [0.1, 0.5, 0.6], lr=lr, activation="swish",
                   initializer=LONG_NAME, kept=([60, 50, 40], [40, 30, 20]))  # not flat
        run_writer(tmp_path, seed, [0.1, 0.4, 0.5], traintype="EdgePopup", masktype=None,
                   lr=lr * 100, keep_ratio=0.3, slots=16, selection="greedy",
                   sync_period=100 + seed)
    groups = group_runs(load_runs(tmp_path))
    assign_colors(groups)
    assert max(len(g.label) for g in groups) > 250  # unwrapped, wider than 12 inches
    for fig in (accuracy_loss_figure(groups), sparsity_figure(groups, "remaining"),
                compare_figure(groups, "traintype")):
        probe.assert_legends_inside(fig)


def test_extra_metrics_skip_epoch_seconds_and_plot_fractions_in_percent(
    tmp_path: Path, run_writer, probe
) -> None:
    """Runs of other methods: their own per-epoch series, each in one unit."""
    dropped = ("remainingWeightsPerLayer", "layer_sizes", "remainingWeights")
    extra = {f"m_{key}": None for key in dropped}
    extra["m_keptFractionPerLayer"] = [[1.0, 1.0], [0.5, 0.4], [0.5, 0.4]]  # not a series
    for seed in range(2):
        extra["m_slotChangedFraction"] = [None, 0.2 + seed * 0.1, 0.1]
        extra["m_changedFromInitial"] = [0.0, 0.3, 0.35 + seed * 0.1]
        extra["m_syncCount"] = [0, 10, 20]
        run_writer(tmp_path, seed, [0.1, 0.5, 0.6], traintype="SlotMachine", slots=8, **extra)
    figs = build_figures(group_runs(load_runs(tmp_path)))
    assert set(figs) == {"accuracy_loss", "accuracy_sparsity", "extra_metrics"}
    fig = figs["extra_metrics"]
    assert sorted(ax.get_ylabel() for ax in fig.axes if ax.get_visible()) == [
        "Positions moved from initial (%)",
        "Selections changed since last epoch (%)",
        "Syncs so far",
    ]
    ax = probe.axes_by_ylabel(fig, "Selections changed since last epoch (%)")
    (label,) = {ln.get_gid() for ln in ax.get_lines()}
    assert "slots 8" in label
    assert np.allclose(probe.line(ax, label).get_ydata(), [25.0, 10.0])  # epochs 1-2
    moved = probe.axes_by_ylabel(fig, "Positions moved from initial (%)")
    assert np.allclose(probe.line(moved, label).get_ydata(), [0, 30, 40])
    syncs = probe.axes_by_ylabel(fig, "Syncs so far")
    assert np.allclose(probe.line(syncs, label).get_ydata(), [0, 10, 20])


def test_only_epoch_seconds_gives_no_extra_figure(tmp_path: Path, run_writer) -> None:
    run_writer(tmp_path, 1, [0.1, 0.5, 0.6])
    assert "extra_metrics" not in build_figures(group_runs(load_runs(tmp_path)))


def test_figure_sizes_stay_readable(figures) -> None:
    """At 150 dpi no figure of the standard folder is wider than 1,800 px."""
    for name, fig in figures.items():
        width, height = fig.get_size_inches()
        assert width <= 12 and height <= 12, name


def test_flat_shares_are_skipped_with_a_warning(tmp_path: Path, run_writer, caplog) -> None:
    for seed in (1, 2):  # edge-popup: a fixed share whatever the epoch
        run_writer(tmp_path, seed, [0.1, 0.5, 0.6], traintype="EdgePopup", masktype=None)
    with caplog.at_level("WARNING"):
        figs = build_figures(group_runs(load_runs(tmp_path)))
    assert "remaining" not in figs and "remaining_per_layer" not in figs
    assert "remaining.png not drawn: the share never changes in any run" in caplog.text
    assert "remaining_per_layer.png not drawn" in caplog.text


def test_a_one_epoch_run_is_drawn_with_markers(tmp_path: Path, run_writer) -> None:
    run_writer(tmp_path, 1, [0.1, 0.9], kept=([60, 50], [40, 30]))
    fig = build_figures(group_runs(load_runs(tmp_path)))["accuracy_loss"]
    lines = [line for ax in fig.axes for line in ax.get_lines()
             if not line.get_label().startswith("_")]
    assert lines and all(line.get_marker() == "o" for line in lines)


def test_a_nearly_perfect_accuracy_is_not_magnified(tmp_path: Path, run_writer) -> None:
    from plotting.ranges import MIN_ACCURACY_SPAN

    extra = {"m_testTop5Accuracy": [0.5, 0.9986, 0.9998, 0.9990]}
    run_writer(tmp_path, 1, [0.1, 0.9, 0.95, 0.96], **extra)
    fig = build_figures(group_runs(load_runs(tmp_path)))["extra_metrics"]
    [ax] = [ax for ax in fig.axes if "op-5" in ax.get_title() or "op5" in ax.get_title()]
    low, high = ax.get_ylim()
    assert high - low >= MIN_ACCURACY_SPAN - 1e-9 and high <= 100.0 + 0.05 + 1e-9
