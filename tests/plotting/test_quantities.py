"""plotting.quantities: what the figures plot, computed from a run's recorded series (remaining
or flipped weights, per-layer shares, raw series in percent, axis labels)."""

import numpy as np

from plotting import load_run
from plotting.quantities import (
    composition_pct,
    flipped_pct,
    generic_series_keys,
    is_fraction,
    layer_sparsity_pct,
    pruned_or_flipped_pct,
    remaining_pct,
    series,
    series_label,
    sparsity_kind,
    total_weights,
)


def test_a_pruning_runs_remaining_and_pruned_weights(run_writer, tmp_path):
    run = load_run(run_writer(tmp_path, 0, [0.1, 0.5], kept=([30, 20], [20, 10])))
    assert sparsity_kind(run) == "remaining" and total_weights(run) == 100.0
    np.testing.assert_allclose(remaining_pct(run), [50.0, 30.0])
    np.testing.assert_allclose(pruned_or_flipped_pct(run), [50.0, 70.0])
    assert flipped_pct(run) is None
    np.testing.assert_allclose(layer_sparsity_pct(run), [[50.0, 50.0], [100 / 3, 25.0]])
    shares = composition_pct(run)
    assert shares.shape == (2, 2, 6)
    np.testing.assert_allclose(shares[:, :, :3].sum(axis=2), 100.0)


def test_a_sign_flipping_run_plots_flipped_signs(run_writer, tmp_path):
    run = load_run(run_writer(tmp_path, 0, [0.1, 0.5], kept=([6, 12], [4, 8]), masktype="flip"))
    assert sparsity_kind(run) == "flipped" and remaining_pct(run) is None
    np.testing.assert_allclose(flipped_pct(run), [10.0, 20.0])
    np.testing.assert_allclose(pruned_or_flipped_pct(run), [10.0, 20.0])


def test_raw_series_fractions_in_percent_and_their_labels(run_writer, tmp_path):
    run = load_run(run_writer(tmp_path, 0, [0.1, 0.5], m_keptFraction=[1.0, 0.25]))
    np.testing.assert_allclose(series("testAccuracy")(run), [10.0, 50.0])
    np.testing.assert_allclose(series("keptFraction")(run), [100.0, 25.0])
    np.testing.assert_allclose(series("testLoss")(run), [2.0, 1.5])
    assert series("absent")(run) is None
    assert is_fraction("valAccuracy") and is_fraction("changedFromInitial")
    assert not is_fraction("testLoss")
    assert series_label("keptFraction") == "Kept (%)"
    assert series_label("learning_rate") == "Learning rate"
    assert "keptFraction" in generic_series_keys([run])
    assert "epochSeconds" not in generic_series_keys([run])
