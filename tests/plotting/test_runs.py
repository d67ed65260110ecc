"""Finding and reading run directories: what is skipped, what is reported."""

from __future__ import annotations

import logging
from pathlib import Path

from plotting import group_runs, load_run, load_runs


def test_discovery_skips_corrupt_and_names_file(runs_root: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = load_runs(runs_root)
    assert len(runs) == 7
    text = caplog.text
    assert str(runs_root / "FreePruning/LeNet/mask_he/run-corrupt/metrics.json") in text
    assert "invalid JSON" in text
    (killed,) = [run for run in runs if run.status == "running"]
    assert f"{killed.metrics_path}: incomplete run (status 'running', 1 epochs)" in text


def test_run_still_starting_is_reported_not_skipped_silently(
    tmp_path: Path, run_writer, caplog
) -> None:
    """The trainer writes config.json, evaluates epoch 0, then writes metrics.json."""
    done = run_writer(tmp_path, 1, [0.1, 0.5])
    starting = tmp_path / "FreePruning" / "LeNet" / "mask_he" / "run-fresh01"
    starting.mkdir()
    (starting / "config.json").write_text((done / "config.json").read_text())
    orphan = tmp_path / "stray"
    orphan.mkdir()
    (orphan / "metrics.json").write_text((done / "metrics.json").read_text())
    with caplog.at_level(logging.WARNING, logger="plotting"):
        runs = load_runs(tmp_path)
    assert [run.path for run in runs] == [done]
    assert f"{starting / 'config.json'}: no metrics.json yet" in caplog.text
    assert f"{orphan / 'metrics.json'}: no config.json; skipping it" in caplog.text


def test_folder_of_complete_runs_loads_without_warnings(
    tmp_path: Path, run_writer, caplog
) -> None:
    for seed in (1, 2):
        run_writer(tmp_path, seed, [0.1, 0.5, 0.7])
    with caplog.at_level(logging.WARNING, logger="plotting"):
        group_runs(load_runs(tmp_path))
    assert caplog.text == ""


def test_seed_is_the_resolved_one_when_drawn(tmp_path: Path, run_writer) -> None:
    drawn = load_run(run_writer(tmp_path, 0, [0.1, 0.5], resolved_seed=91827))
    given = load_run(run_writer(tmp_path, 5, [0.1, 0.5]))
    assert (drawn.seed, drawn.seed_drawn, drawn.seed_text) == (91827, True, "seed 91827 (drawn)")
    assert (given.seed, given.seed_drawn, given.seed_text) == (5, False, "seed 5")


def test_wrong_lengths_and_missing_keys_are_reported(
    tmp_path: Path, run_writer, caplog
) -> None:
    bad = run_writer(tmp_path, 0, [0.1, 0.5, 0.6], m_valLoss=[1.0], m_trainLoss=None)
    short = run_writer(
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


def test_unknown_format_version_is_read_with_a_warning(
    tmp_path: Path, run_writer, caplog
) -> None:
    run_dir = run_writer(tmp_path, 1, [0.1, 0.5], m_format_version=7)
    with caplog.at_level(logging.WARNING, logger="plotting"):
        run = load_run(run_dir)
    assert run.epochs == 1
    assert "unknown format_version 7" in caplog.text
