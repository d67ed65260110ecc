"""The LaPerm weight-profile figure (plotting/profiles.py), from run directories."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import plotting
from laperm.profiles import weight_profiles
from plotting.profiles import plot_profiles, weight_profile_figure


def _write_run(root: Path, name: str, traintype: str, initial: dict, final: dict | None,
               seed: int = 1, resolved_seed: int | None = None) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    config = {"traintype": traintype, "nettype": "F1", "dataset": "mnist", "seed": seed,
              "resolved_seed": seed if resolved_seed is None else resolved_seed,
              "sync_period": 250}
    metrics = {"format_version": 1, "status": "complete", "epochs_completed": 1,
               "testAccuracy": [0.1, 0.8], "trainLoss": [2.3, 0.7]}
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    np.savez(run_dir / "initial_weights.npz", **initial)
    if final is not None:
        np.savez(run_dir / "final_weights.npz", **final)
    return run_dir


def _permuted_columns(kernel: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    return np.stack([rng.permutation(column) for column in kernel.T], axis=1)


@pytest.fixture()
def laperm_weights():
    rng = np.random.RandomState(0)
    dense = rng.randn(12, 5).astype(np.float32)
    conv = rng.randn(3, 3, 2, 4).astype(np.float32)
    conv_final = np.stack([rng.permutation(conv[..., f].ravel()).reshape(3, 3, 2)
                           for f in range(4)], axis=-1)
    initial = {"conv.kernel": conv, "conv.bias": np.zeros(4, np.float32), "dense.kernel": dense}
    final = {"conv.kernel": conv_final, "conv.bias": np.ones(4, np.float32),
             "dense.kernel": _permuted_columns(dense, rng)}
    return initial, final


def _verdict(ax) -> str:
    (text,) = ax.texts
    return text.get_text().replace("\n", " ")


def _figure(root: Path):
    return weight_profile_figure(plotting.group_runs(plotting.load_runs(root)))


def test_figure_has_one_panel_per_kernel_and_reports_permutations(tmp_path, laperm_weights):
    initial, final = laperm_weights
    _write_run(tmp_path, "laperm", "LaPerm", initial, final)
    figures = plotting.build_figures(plotting.group_runs(plotting.load_runs(tmp_path)))
    fig = figures["weight_profiles"]
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 2  # the two kernels; the bias is not profiled
    assert all(_verdict(ax) == "every unit a permutation of its initial weights"
               for ax in panels)
    conv_panel = next(ax for ax in fig.axes if ax.get_title().startswith("conv.kernel"))
    assert "4 units × 18" in conv_panel.get_title()
    # grey initial + coloured final line per unit (4 filters).
    assert len(conv_panel.get_lines()) == 8


def test_changed_profile_is_reported(tmp_path, laperm_weights):
    initial, final = laperm_weights
    final = dict(final, **{"dense.kernel": final["dense.kernel"] * 2.0})
    _write_run(tmp_path, "laperm", "LaPerm", initial, final)
    fig = _figure(tmp_path)
    dense_panel = next(ax for ax in fig.axes if ax.get_title().startswith("dense.kernel"))
    assert _verdict(dense_panel) == "profiles changed"


def test_lowest_seed_is_drawn_numerically(tmp_path, laperm_weights):
    initial, final = laperm_weights
    for seed in (10, 2):
        _write_run(tmp_path, f"seed{seed}", "LaPerm", initial, final, seed=seed)
    (block,) = _figure(tmp_path).subfigs
    assert block.get_suptitle().endswith("(seed 2)")


def test_a_drawn_seed_is_named_by_its_resolved_value(tmp_path, laperm_weights):
    initial, final = laperm_weights
    _write_run(tmp_path, "drawn", "LaPerm", initial, final, seed=0, resolved_seed=4242)
    (block,) = _figure(tmp_path).subfigs
    assert block.get_suptitle().endswith("(seed 4242 (drawn))")


def test_many_kernels_wrap_into_rows_of_readable_width(tmp_path):
    rng = np.random.RandomState(1)
    initial = {f"layer{i}.kernel": rng.randn(6, 4).astype(np.float32) for i in range(8)}
    final = {name: kernel[::-1] for name, kernel in initial.items()}  # rows permuted
    _write_run(tmp_path, "laperm", "LaPerm", initial, final)
    fig = _figure(tmp_path)
    width, height = fig.get_size_inches()
    assert width * 150 <= 1900 and height * 150 <= 1400  # px at the default 150 dpi
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 8
    assert len({round(ax.get_position().y0, 3) for ax in panels}) == 2  # two rows of four


def test_no_figure_without_laperm_weights(tmp_path, laperm_weights, caplog):
    initial, final = laperm_weights
    _write_run(tmp_path, "pruning", "FreePruning", initial, final)
    _write_run(tmp_path, "no_final", "LaPerm", initial, None, seed=2)
    groups = plotting.group_runs(plotting.load_runs(tmp_path))
    assert weight_profile_figure(groups) is None
    broken = _write_run(tmp_path, "broken", "LaPerm", initial, final, seed=3)
    (broken / "final_weights.npz").write_bytes(b"not a zip file")
    empty = _write_run(tmp_path, "empty", "LaPerm", initial, final, seed=4)
    (empty / "initial_weights.npz").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="plotting"):
        groups = plotting.group_runs(plotting.load_runs(tmp_path))
        assert weight_profile_figure(groups) is None
    assert caplog.text.count("cannot read") == 2


def test_plot_profiles_saves_png(tmp_path):
    profiles = weight_profiles({"a/kernel": np.random.rand(4, 3), "b/kernel": np.random.rand(6, 2)})
    figure = plot_profiles(profiles, path=str(tmp_path / "profiles.png"))
    assert (tmp_path / "profiles.png").stat().st_size > 0
    assert figure.axes[0].get_xlabel() == "rank within unit"
    assert len(figure.axes[0].lines) == 3  # one line per output unit
