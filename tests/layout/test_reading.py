"""Reading a run leniently (masktrainer.layout.reading): what is reported and left out, what is
fatal, and the run's derived facts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from masktrainer.layout import names, reading


def _write(folder: Path, config: dict | None = None, metrics: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / names.CONFIG_FILE).write_text(json.dumps(config))
    if metrics is not None:
        (folder / names.METRICS_FILE).write_text(json.dumps(metrics))
    return folder


def _metrics(epochs: int = 2, **extra) -> dict:
    points = epochs + 1
    metrics = {key: [0.25] * points for key in names.CORE_SERIES}
    metrics.update(format_version=names.FORMAT_VERSION, status=names.COMPLETE,
                   epochs_completed=epochs, layer_names=["a", "b"], layer_sizes=[6, 4])
    metrics[names.PER_LAYER_KEY] = [[[1, 0, 5, 1, 0, 5], [0, 2, 2, 0, 2, 2]]] * points
    metrics.update(extra)
    return metrics


def _read(folder: Path) -> tuple[reading.Run, list[str]]:
    warnings: list[str] = []
    return reading.read_run(folder, warnings.append), warnings


def test_a_clean_run_reads_without_warnings(tmp_path):
    run, warnings = _read(_write(tmp_path, {"seed": 3}, _metrics(2)))
    assert warnings == []
    assert run.complete and run.status == names.COMPLETE
    assert run.n_points == 3 and run.epochs == 2
    assert set(run.series) == set(names.CORE_SERIES)
    assert run.series["testAccuracy"].tolist() == [0.25, 0.25, 0.25]
    assert run.per_layer.shape == (3, 2, 6) and run.per_layer.dtype == np.int64
    assert run.layer_names == ("a", "b") and run.layer_sizes.tolist() == [6, 4]
    assert run.metrics_path == tmp_path / names.METRICS_FILE
    assert run.config == {"seed": 3, "precision": "float32"}


def test_seed_text_and_order():
    drawn = reading.Run(Path("b"), {"seed": 0, "resolved_seed": 1234}, "complete", {})
    given = reading.Run(Path("a"), {"seed": 7}, "complete", {})
    odd = reading.Run(Path("c"), {"seed": "x"}, "complete", {})
    assert drawn.seed == 1234 and drawn.seed_drawn and drawn.seed_text == "seed 1234 (drawn)"
    assert given.seed == 7 and not given.seed_drawn and given.seed_text == "seed 7"
    assert sorted([odd, drawn, given], key=reading.Run.seed_order) == [given, drawn, odd]
    assert reading.Run(Path("d"), {}, "running", {}).n_points == 0
    assert reading.Run(Path("d"), {}, "running", {}).epochs == 0


def test_null_is_a_gap_and_non_finite_values_are_reported_then_gaps(tmp_path):
    metrics = _metrics(3)
    metrics["trainLoss"] = [None, 1.0, 0.5, 0.25]
    # json.dumps writes NaN and Infinity, which Python's json reads back.
    metrics["valLoss"] = [1.0, float("nan"), float("inf"), 0.5]
    run, warnings = _read(_write(tmp_path, {}, metrics))
    assert math.isnan(run.series["trainLoss"][0]) and run.series["trainLoss"][3] == 0.25
    assert np.isnan(run.series["valLoss"][1:3]).all() and run.series["valLoss"][3] == 0.5
    assert len(warnings) == 1
    assert "'valLoss' has non-finite values (nan at epoch 1, inf at epoch 2)" in warnings[0]


def test_out_of_range_shares_and_counts_are_reported_then_gaps(tmp_path):
    """Accuracies and fractions are stored in [0, 1]; remaining weights count at most the
    network's (layer_sizes: 10 here). -5 or 1e308 must not reach a summary as -500 %."""
    metrics = _metrics(2, remainingWeights=[10, 1e30, 4], slotChangedFraction=[0.5, 1.5, 0])
    metrics["testAccuracy"] = [0.25, -5, 1e308]
    metrics["trainAccuracy"] = [0.0, 1.0, 0.5]  # the bounds themselves are fine
    run, warnings = _read(_write(tmp_path, {}, metrics))
    assert math.isnan(run.series["testAccuracy"][1]) and np.isnan(run.series["testAccuracy"][2])
    assert run.series["testAccuracy"][0] == 0.25
    assert run.series["trainAccuracy"].tolist() == [0.0, 1.0, 0.5]
    assert np.isnan(run.series["remainingWeights"][1])
    assert run.series["remainingWeights"][[0, 2]].tolist() == [10, 4]
    assert np.isnan(run.series["slotChangedFraction"][1])
    assert len(warnings) == 3, warnings
    assert any("'testAccuracy' has values outside [0, 1] (-5 at epoch 1, 1e+308 at epoch 2)"
               in w for w in warnings)
    assert any("'remainingWeights' has values outside [0, 10] (1e+30 at epoch 1)" in w
               for w in warnings)
    assert any("'slotChangedFraction' has values outside [0, 1]" in w for w in warnings)


def test_the_share_of_weights_moved_from_initial_is_range_checked(tmp_path):
    """changedFromInitial (the share of weights away from their initial positions) is a
    fraction of 1 though its name does not say so: 7.0 or -0.2 is reported and left out."""
    metrics = _metrics(3, changedFromInitial=[0.0, 7.0, -0.2, 1.0])
    run, warnings = _read(_write(tmp_path, {}, metrics))
    moved = run.series["changedFromInitial"]
    assert np.isnan(moved[1:3]).all() and moved[[0, 3]].tolist() == [0.0, 1.0]
    assert len(warnings) == 1, warnings
    assert ("'changedFromInitial' has values outside [0, 1] (7 at epoch 1, -0.2 at epoch 2)"
            in warnings[0])
    assert "changedFromInitial" in names.FRACTION_SERIES  # the plotter's percent, the same set


def test_series_of_the_wrong_length_or_type_are_reported_and_left_out(tmp_path):
    metrics = _metrics(2, valLoss=[1.0, 2.0], testLoss="high", extra=[1, 2], notes=["a"] * 3)
    del metrics["trainAccuracy"]
    run, warnings = _read(_write(tmp_path, {}, metrics))
    assert "valLoss" not in run.series and "testLoss" not in run.series
    assert "extra" not in run.series and "notes" not in run.series  # unknown: silently
    assert any("missing keys trainAccuracy" in line for line in warnings)
    assert any("'valLoss' has 2 values, expected 3 (epochs_completed + 1)" in line
               for line in warnings)
    assert any("'testLoss' is not a list of numbers" in line for line in warnings)
    assert len(warnings) == 3


def test_epochs_completed_is_inferred_from_the_usual_length(tmp_path):
    metrics = _metrics(2, epochs_completed="two", trainLoss=[1.0])
    run, warnings = _read(_write(tmp_path, {}, metrics))
    assert run.n_points == 3 and "trainLoss" not in run.series
    assert "invalid 'epochs_completed' 'two'; inferring it" in warnings[0]
    del metrics["epochs_completed"]
    _, warnings = _read(_write(tmp_path, {}, metrics))
    assert "missing 'epochs_completed'; inferring it from the series" in warnings[0]


@pytest.mark.parametrize("per_layer, problem", [
    ([[[1, 2, 3]]] * 3, "has shape (3, 1, 3), expected (epochs+1, layers, 6)"),
    ([[[1, 0, 5, 1, 0, 5], [0, 2, 2, 0, 2, 2]]] * 2, "has 2 entries, expected 3"),
    ([[[1, 0, 5, 1, 0, 5]]] * 3, "has 1 layers but layer_names has 2"),
    ([[[1, 0, -5, 1, 0, 5], [0, 2, 2, 0, 2, 2]]] * 3, "contains negative or non-finite counts"),
    ([[[1, 0], [1]]] * 3, "is not a regular nested list of numbers"),
])
def test_a_broken_per_layer_series_is_reported_and_left_out(tmp_path, per_layer, problem):
    run, warnings = _read(_write(tmp_path, {}, _metrics(2, **{names.PER_LAYER_KEY: per_layer})))
    assert run.per_layer is None
    assert warnings == [f"{tmp_path / names.METRICS_FILE}: '{names.PER_LAYER_KEY}' {problem};"
                        " ignoring it"]


def test_layer_names_and_sizes_fall_back_to_the_per_layer_counts(tmp_path):
    metrics = _metrics(1, layer_names=[1, 2], layer_sizes=[6, 0])
    run, warnings = _read(_write(tmp_path, {}, metrics))
    assert run.layer_names == ("layer 1", "layer 2")
    assert run.layer_sizes.tolist() == [6, 4]  # neg + zero + pos masks at epoch 0
    assert any("'layer_names' is not a list of strings" in line for line in warnings)
    assert any("invalid 'layer_sizes'" in line for line in warnings)


def test_incomplete_and_statusless_runs_are_reported(tmp_path):
    run, warnings = _read(_write(tmp_path / "a", {}, _metrics(1, status=names.RUNNING)))
    assert not run.complete
    assert warnings == [f"{tmp_path / 'a' / names.METRICS_FILE}: incomplete run (status "
                        "'running', 1 epochs); plotting the epochs it has"]
    run, warnings = _read(_write(tmp_path / "b", {}, _metrics(1, status=None)))
    assert run.status == "unknown" and "missing or invalid 'status'" in warnings[0]


@pytest.mark.parametrize("config, metrics, message", [
    ("[1]", _metrics(1), "expected a JSON object, got list"),
    ("{}", "{", "invalid JSON"),
    ("{}", {"status": "complete", "epochs_completed": 1}, "no usable per-epoch metrics"),
    ("{}", {"status": "complete"}, "no per-epoch series found"),
    ("{}", {"trainLoss": "x", "epochs_completed": 0}, "no usable per-epoch metrics"),
])
def test_unusable_runs_are_one_line_errors_naming_the_file(tmp_path, config, metrics, message):
    (tmp_path / names.CONFIG_FILE).write_text(config)
    text = metrics if isinstance(metrics, str) else json.dumps(metrics)
    (tmp_path / names.METRICS_FILE).write_text(text)
    with pytest.raises(reading.RunFileError, match=message) as error:
        reading.read_run(tmp_path, lambda line: None)
    assert str(error.value).startswith(str(tmp_path)) and "\n" not in str(error.value)


def test_a_file_that_is_not_utf8_is_a_run_file_error(tmp_path):
    (tmp_path / names.CONFIG_FILE).write_bytes(b"\xff\xfe{")
    (tmp_path / names.METRICS_FILE).write_text(json.dumps(_metrics(1)))
    with pytest.raises(reading.RunFileError, match="cannot read"):
        reading.read_run(tmp_path, lambda line: None)
    (tmp_path / names.CONFIG_FILE).unlink()
    with pytest.raises(reading.RunFileError):
        reading.read_run(tmp_path, lambda line: None)


def test_find_run_dirs_stops_at_a_run_and_reports_half_runs(tmp_path):
    first = _write(tmp_path / "b" / "run-1", {}, _metrics(1))
    second = _write(tmp_path / "a" / "run-2", {}, _metrics(1))
    _write(first / "nested", {}, _metrics(1))  # inside a run: not looked at
    starting = _write(tmp_path / "c", {}, None)
    orphan = _write(tmp_path / "d", None, _metrics(1))
    warnings: list[str] = []
    assert reading.find_run_dirs(tmp_path, warnings.append) == [second, first]
    assert warnings == [
        f"{starting / names.CONFIG_FILE}: no {names.METRICS_FILE} yet (a run still starting, "
        "or killed before epoch 0 was evaluated); skipping it",
        f"{orphan / names.METRICS_FILE}: no {names.CONFIG_FILE}; skipping it"]
    assert reading.find_run_dirs(first, warnings.append) == [first]  # the root itself
