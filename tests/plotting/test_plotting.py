"""Tests for the plotting package: figures and tables built from run folders."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

import plotting
from plotting import build_figures, group_runs, load_runs, summary_table

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("train", "val", "test")
LAYERS = ["dense_1", "dense_2"]
SIZES = [60, 40]

# Main group: FreePruning, he, mask; three complete seeds plus one killed run.
TEST_ACC = {
    0: [0.10, 0.50, 0.70, 0.80],
    1: [0.12, 0.56, 0.72, 0.86],
    2: [0.08, 0.53, 0.74, 0.83],
}
VAL_ACC = {
    0: [0.10, 0.60, 0.90, 0.80],  # best epoch 2
    1: [0.10, 0.60, 0.70, 0.90],  # best epoch 3
    2: [0.10, 0.95, 0.70, 0.80],  # best epoch 1
}
KEPT = {  # kept weights per epoch in dense_1 (of 60) and dense_2 (of 40)
    0: ([30, 25, 20, 14], [20, 15, 10, 6]),
    1: ([30, 26, 21, 15], [20, 16, 11, 7]),
    2: ([30, 24, 19, 13], [20, 14, 9, 5]),
}
BASELINE_ACC = {10: [0.10, 0.90, 0.95, 0.97], 11: [0.10, 0.92, 0.96, 0.99]}
FLIPPED_NEG = ([0, 6, 12, 18], [0, 4, 8, 12])  # negative masks per layer
BASE_CONFIG = """{"format_version": 1, "method": "self_pruning",
 "traintype": "FreePruning", "nettype": "LeNet", "dataset": "mnist",
 "initializer": "he", "activation": "relu", "masktype": "mask", "batchsize": 25,
 "maxepochs": 3, "p1": 0.5, "lr": 0.001, "outputpath": "Outputs", "data_dir": null,
 "versions": {"tensorflow": "2.21.0"}}"""


def per_layer(kept: tuple[list[int], list[int]], flip: bool = False) -> list:
    """remainingWeightsPerLayer entries from per-layer kept (or flipped) counts."""
    rows = []
    for epoch in range(len(kept[0])):
        layers = []
        for size, counts in zip(SIZES, kept):
            k = counts[epoch]
            if flip:  # k negative masks, the rest positive, no zeros
                layers.append([k, 0, size - k, size // 2, 0, size - size // 2])
            else:
                layers.append([0, size - k, k, k // 2, size - k, k - k // 2])
        rows.append(layers)
    return rows


def write_run(
    root: Path,
    seed: int,
    test: list[float],
    val: list[float] | None = None,
    kept: tuple[list[int], list[int]] | None = None,
    status: str = "complete",
    **overrides: Any,
) -> Path:
    """Write a run directory like masktrainer does; returns the directory."""
    config = json.loads(BASE_CONFIG) | {"seed": seed, "resolved_seed": seed}
    config |= {"run_id": f"{seed:07x}", "created": f"2026-11-21T10:00:{seed:02d}"}
    config.update({k: v for k, v in overrides.items() if not k.startswith("m_")})
    n = len(test)
    val = val if val is not None else test
    kept = kept if kept is not None else ([60] * n, [40] * n)
    flip = config["masktype"] == "flip"
    metrics = {
        "format_version": 1,
        "status": status,
        "epochs_completed": n - 1,
        "layer_names": LAYERS,
        "layer_sizes": SIZES,
        **{f"{split}Loss": [2.0 - 0.5 * e for e in range(n)] for split in SPLITS},
        "trainAccuracy": [min(1.0, a + 0.05) for a in test],
        "valAccuracy": val,
        "testAccuracy": test,
        "remainingWeights": [100 if flip else a + b for a, b in zip(*kept)],
        "remainingWeightsPerLayer": per_layer(kept, flip),
        "epochSeconds": [0.0] + [10.0] * (n - 1),
    }
    metrics.update({k[2:]: v for k, v in overrides.items() if k.startswith("m_")})
    metrics = {k: v for k, v in metrics.items() if v is not None}
    folder = f"{config['traintype']}/LeNet/{config['masktype']}_{config['initializer']}"
    run_dir = root / folder / f"run-{seed:07x}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seeds + an incomplete run, two baselines, a flip run, a corrupt run."""
    root = tmp_path_factory.mktemp("Outputs")
    for seed in TEST_ACC:
        write_run(root, seed, TEST_ACC[seed], VAL_ACC[seed], KEPT[seed])
    write_run(root, 3, [0.10, 0.62], [0.10, 0.50], ([30, 26], [20, 16]), "running")
    for seed, acc in BASELINE_ACC.items():
        write_run(root, seed, acc, traintype="Baseline", p1=1.0)
    write_run(root, 20, [0.1, 0.6, 0.8, 0.9], kept=FLIPPED_NEG, masktype="flip")
    corrupt = root / "FreePruning" / "LeNet" / "mask_he" / "run-corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text(json.dumps({"seed": 99}))
    (corrupt / "metrics.json").write_text('{"status": "complete", "testAcc')
    return root


@pytest.fixture(scope="module")
def groups(runs_root: Path) -> list[plotting.RunGroup]:
    return group_runs(load_runs(runs_root))


@pytest.fixture(scope="module")
def figures(groups: list[plotting.RunGroup]) -> dict[str, Any]:
    return build_figures(groups, compare="traintype")


def group_named(groups: list[plotting.RunGroup], **fields: Any) -> Any:
    (found,) = [g for g in groups if all(g.config[k] == v for k, v in fields.items())]
    return found


def main_group(groups: list[plotting.RunGroup]) -> plotting.RunGroup:
    return group_named(groups, traintype="FreePruning", masktype="mask")


def axes_by_ylabel(fig: Any, label: str) -> Any:
    (ax,) = [ax for ax in fig.axes if ax.get_ylabel() == label]
    return ax


def line(ax: Any, label: str, kind: str = "") -> Any:
    """The mean line (kind "") or the _min/_max line of the group ``label``."""
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == label]
    (found,) = [ln for ln in lines if ln.get_label() == (kind or label)]
    return found


def assert_band(ax: Any, label: str, low: list[float], high: list[float]) -> None:
    """The filled band of ``label`` spans [low, high] at every epoch."""
    (band,) = [c for c in ax.collections if c.get_gid() == label]
    assert isinstance(band, PolyCollection)
    vertices = band.get_paths()[0].vertices
    for epoch, (lo, hi) in enumerate(zip(low, high)):
        ys = vertices[np.isclose(vertices[:, 0], epoch), 1]
        assert ys.min() == pytest.approx(lo) and ys.max() == pytest.approx(hi)


def test_discovery_skips_corrupt_and_names_file(runs_root: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = load_runs(runs_root)
    assert len(runs) == 7
    text = caplog.text
    assert str(runs_root / "FreePruning/LeNet/mask_he/run-corrupt/metrics.json") in text
    assert "invalid JSON" in text
    assert "incomplete run (status 'running'" in text
    assert str(runs_root / "FreePruning/LeNet/mask_he/run-0000003/metrics.json") in text


def test_grouping_ignores_seed_and_bookkeeping(groups) -> None:
    assert [g.n for g in groups] == [2, 1, 4]  # Baseline, flip, mask (sorted)
    main = main_group(groups)
    assert {r.config["seed"] for r in main.runs} == {0, 1, 2, 3}
    assert "seed" not in main.config and "created" not in main.config
    assert main.label == "FreePruning · he · mask · p1 0.5 · lr 0.001 (n=4 seeds)"
    assert group_named(groups, traintype="Baseline").label.endswith("(n=2 seeds)")
    assert "n=1 seed)" in group_named(groups, masktype="flip").label


def test_accuracy_sparsity_mean_line_and_band(groups, figures) -> None:
    fig = figures["accuracy_sparsity"]
    main = main_group(groups)
    ax = axes_by_ylabel(fig, "Test accuracy (%)")
    mean = line(ax, main.label)
    assert mean.get_linewidth() == 2
    assert np.allclose(mean.get_ydata(), [10, 55.25, 72, 83])  # killed run: 2 epochs
    count = main.band(plotting.quantities.series("testAccuracy")).count
    assert count.tolist() == [4, 4, 3, 3]
    assert np.allclose(mean.get_xdata(), [0, 1, 2, 3])
    assert np.allclose(line(ax, main.label, "_min").get_ydata(), [8, 50, 70, 80])
    assert np.allclose(line(ax, main.label, "_max").get_ydata(), [12, 62, 74, 86])
    assert line(ax, main.label, "_max").get_alpha() == 0.2
    assert_band(ax, main.label, [8, 50, 70, 80], [12, 62, 74, 86])
    bottom = axes_by_ylabel(fig, "Pruned weights, flipped signs (dashed) (%)")
    pruned = line(bottom, main.label).get_ydata()
    assert np.allclose(pruned, [50, 59.5, 70, 80])  # 100 - remaining
    assert bottom.get_xlabel() == "Epoch"
    assert fig.get_suptitle()


def test_remaining_and_flipped_figures(groups, figures) -> None:
    main = main_group(groups)
    ax = axes_by_ylabel(figures["remaining"], "Remaining weights (%)")
    assert np.allclose(line(ax, main.label).get_ydata(), [50, 40.5, 30, 20])
    assert_band(ax, main.label, [50, 38, 28, 18], [50, 42, 32, 22])
    baseline = group_named(groups, traintype="Baseline")
    assert np.allclose(line(ax, baseline.label).get_ydata(), 100)
    flip = group_named(groups, masktype="flip")
    assert flip.label not in [ln.get_label() for ln in ax.get_lines()]
    fax = axes_by_ylabel(figures["flipped"], "Flipped signs (%)")
    assert np.allclose(line(fax, flip.label).get_ydata(), [0, 10, 20, 30])


def test_per_layer_figure(groups, figures) -> None:
    fig = figures["remaining_per_layer"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["dense_1 (60 weights)", "dense_2 (40 weights)"]
    main = main_group(groups)
    first, second = fig.axes
    assert np.allclose(
        line(first, main.label).get_ydata(), [50, 25.25 / 60 * 100, 100 / 3, 70 / 3]
    )
    assert np.allclose(line(second, main.label).get_ydata(), [50, 38.125, 25, 15])
    assert first.get_ylabel() == "Remaining weights (%)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert main.label in legend


def test_composition_bars(groups, figures) -> None:
    fig = figures["composition"]
    main = main_group(groups)
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
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["Negative", "Zero", "Positive"]


def test_accuracy_loss_figure_labels(groups, figures) -> None:
    fig = figures["accuracy_loss"]
    labels = {ax.get_ylabel() for ax in fig.axes}
    assert {"Train accuracy (%)", "Validation accuracy (%)", "Test loss"} <= labels
    val = axes_by_ylabel(fig, "Validation accuracy (%)")
    assert np.allclose(line(val, main_group(groups).label).get_ydata()[:2], [10, 66.25])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(legend) == sorted(g.label for g in groups)


def test_compare_figure(groups, figures) -> None:
    fig = figures["compare_traintype"]
    assert "traintype" in fig.get_suptitle()
    legends = [
        [t.get_text() for t in ax.get_legend().get_texts()]
        for ax in fig.axes
        if ax.get_legend() is not None
    ]
    assert ["Baseline (n=2 seeds)", "FreePruning (n=4 seeds)"] in legends
    assert ["Baseline (n=2 seeds)", "FreePruning (n=1 seed)"] in legends
    titles = sorted(s.get_suptitle() for s in fig.subfigs if s.get_visible())
    assert titles == ["masktype flip", "masktype mask"]


EXPECTED_FIGURES = """accuracy_loss accuracy_sparsity remaining remaining_per_layer
flipped flipped_per_layer composition extra_metrics compare_traintype""".split()


def test_all_figures_are_labelled(figures) -> None:
    assert list(figures) == EXPECTED_FIGURES
    for fig in figures.values():
        assert fig.get_suptitle()
        for ax in fig.axes:
            if ax.get_visible() and ax.has_data():
                assert ax.get_ylabel() and ax.get_xlabel() in ("Epoch", "Layer", "")


def test_summary_table_values(groups) -> None:
    rows = {(r["traintype"], r["masktype"]): r for r in summary_table(groups)}
    main = rows["FreePruning", "mask"]
    assert main["n_seeds"] == 4 and main["n_complete"] == 3
    assert main["epochs"] == 3 and main["n_final"] == 3
    assert main["final_test_acc_mean"] == pytest.approx(83.0)
    assert main["final_test_acc_min"] == pytest.approx(80.0)
    assert main["final_test_acc_max"] == pytest.approx(86.0)
    assert main["best_val_epochs"] == "2 3 1 1"
    assert main["best_val_epoch_mean"] == pytest.approx(1.75)
    assert main["best_val_acc_mean"] == pytest.approx((90 + 90 + 95 + 50) / 4)
    assert main["test_at_best_val_mean"] == pytest.approx((70 + 86 + 53 + 62) / 4)
    assert main["final_remaining_pct_mean"] == pytest.approx(20.0)
    assert main["final_flipped_pct_mean"] is None
    flip = rows["FreePruning", "flip"]
    assert flip["final_flipped_pct_mean"] == pytest.approx(30.0)
    baseline = rows["Baseline", "mask"]
    assert baseline["n_seeds"] == 2
    assert baseline["final_test_acc_mean"] == pytest.approx(98.0)
    assert baseline["final_remaining_pct_mean"] == pytest.approx(100.0)


def test_plot_runs_writes_figures_and_tables(runs_root: Path, tmp_path: Path) -> None:
    figs = plotting.plot_runs(runs_root, out=tmp_path, formats=("png", "svg"))
    assert "accuracy_loss" in figs
    assert (tmp_path / "accuracy_loss.png").stat().st_size > 0
    assert (tmp_path / "composition.svg").read_text().lstrip().startswith("<?xml")
    with open(tmp_path / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    main = [
        r for r in rows if r["traintype"] == "FreePruning" and r["masktype"] == "mask"
    ]
    assert float(main[0]["final_test_acc_mean"]) == pytest.approx(83.0)
    markdown = (tmp_path / "summary.md").read_text()
    assert (
        "| FreePruning · he · mask · p1 0.5 · lr 0.001 | 4 (1 incomplete) | 3 |"
        in markdown
    )
    assert "83.00 [80.00–86.00]" in markdown


def test_run_without_per_layer_or_other_method(tmp_path: Path) -> None:
    """Runs of future methods: no per-layer counts, unknown per-epoch metrics."""
    dropped = ("remainingWeightsPerLayer", "layer_sizes", "remainingWeights")
    extra = {f"m_{key}": None for key in dropped} | {"method": "slot_machines"}
    extra["m_keptFractionPerLayer"] = [[1.0, 1.0], [0.5, 0.4], [0.5, 0.4]]
    for seed in range(2):
        extra["m_slotChangedFraction"] = [0.0, 0.2 + seed * 0.1, 0.1]
        write_run(tmp_path, seed, [0.1, 0.5, 0.6], slots=8, **extra)
    figs = build_figures(group_runs(load_runs(tmp_path)))
    assert set(figs) == {"accuracy_loss", "accuracy_sparsity", "extra_metrics"}
    ax = axes_by_ylabel(figs["extra_metrics"], "Slot changed fraction")
    (label,) = {ln.get_gid() for ln in ax.get_lines()}
    assert "slots 8" in label
    assert np.allclose(line(ax, label).get_ydata(), [0.0, 0.25, 0.1])


def test_wrong_lengths_and_missing_keys_are_reported(tmp_path: Path, caplog) -> None:
    bad = write_run(tmp_path, 0, [0.1, 0.5, 0.6], m_valLoss=[1.0], m_trainLoss=None)
    short = write_run(
        tmp_path, 1, [0.1, 0.5], m_remainingWeightsPerLayer=[[[0, 0, 1, 0, 0, 1]]]
    )
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = load_runs(tmp_path)
        group_runs(runs)
    by_seed = {run.config["seed"]: run for run in runs}
    assert "valLoss" not in by_seed[0].series and "testLoss" in by_seed[0].series
    assert by_seed[1].per_layer is None
    text = caplog.text
    assert f"{bad / 'metrics.json'}: 'valLoss' has 1 values, expected 3" in text
    assert f"{bad / 'metrics.json'}: missing keys trainLoss" in text
    assert f"{short / 'metrics.json'}: 'remainingWeightsPerLayer'" in text
    assert f"{short / 'metrics.json'}: only 1 of 2 epochs" in text


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "plotting.plotter", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_files_and_warns(runs_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = run_cli(
        "--runs", str(runs_root), "--compare", "initializer", "--out", str(out),
        "--formats", "png,pdf", "--dpi", "40",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = result.stdout.split()
    assert str(out / "compare_initializer.png") in written
    assert str(out / "accuracy_sparsity.pdf") in written
    assert str(out / "summary.md") in written
    assert all(Path(path).is_file() for path in written)
    assert "run-corrupt/metrics.json" in result.stderr


def test_cli_defaults_to_runs_folder(tmp_path: Path) -> None:
    write_run(tmp_path, 0, [0.1, 0.5])
    result = run_cli("--runs", str(tmp_path), "--dpi", "30")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "accuracy_loss.png").is_file()
    assert (tmp_path / "summary.csv").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "{empty}"], "no runs found"),
        (["--runs", "{missing}"], "runs folder not found"),
        (["--runs", "{runs}", "--compare", "nosuchfield"], "unknown --compare field"),
        (["--runs", "{runs}", "--compare", "seed"], "unknown --compare field"),
        (["--runs", "{runs}", "--formats", "png,gif"], "unsupported format 'gif'"),
        ([], "the following arguments are required: --runs"),
    ],
)
def test_cli_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    write_run(tmp_path / "runs", 0, [0.1, 0.5])  # valid, so no warnings
    paths = {name: str(tmp_path / name) for name in ("empty", "missing", "runs")}
    result = run_cli(*(arg.format(**paths) for arg in args))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""
