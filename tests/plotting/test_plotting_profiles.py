"""The LaPerm weight-profile figure (plotting/profiles.py), from run directories."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import plotting
from plotting.profiles import weight_profile_figure


def _write_run(root: Path, name: str, traintype: str, initial: dict, final: dict | None,
               seed: int = 1) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    config = {"traintype": traintype, "nettype": "F1", "dataset": "mnist", "seed": seed,
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


def test_figure_has_one_panel_per_kernel_and_reports_permutations(tmp_path, laperm_weights):
    initial, final = laperm_weights
    _write_run(tmp_path, "laperm", "LaPerm", initial, final)
    figures = plotting.build_figures(plotting.group_runs(plotting.load_runs(tmp_path)))
    fig = figures["weight_profiles"]
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert len(titles) == 2  # the two kernels; the bias is not profiled
    assert all("permutation of its" in t for t in titles)
    conv_panel = next(ax for ax in fig.axes if ax.get_title().startswith("conv.kernel"))
    assert "4 units x 18" in conv_panel.get_title()
    # grey initial + coloured final line per unit (4 filters).
    assert len(conv_panel.get_lines()) == 8


def test_changed_profile_is_reported(tmp_path, laperm_weights):
    initial, final = laperm_weights
    final = dict(final, **{"dense.kernel": final["dense.kernel"] * 2.0})
    _write_run(tmp_path, "laperm", "LaPerm", initial, final)
    fig = weight_profile_figure(plotting.group_runs(plotting.load_runs(tmp_path)))
    dense_panel = next(ax for ax in fig.axes if ax.get_title().startswith("dense.kernel"))
    assert "profiles changed" in dense_panel.get_title()


def test_lowest_seed_is_drawn_numerically(tmp_path, laperm_weights):
    initial, final = laperm_weights
    for seed in (10, 2):
        _write_run(tmp_path, f"seed{seed}", "LaPerm", initial, final, seed=seed)
    fig = weight_profile_figure(plotting.group_runs(plotting.load_runs(tmp_path)))
    assert "(seed 2)" in fig.axes[0].get_ylabel().replace("\n", " ")


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
