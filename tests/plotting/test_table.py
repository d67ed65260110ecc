"""summary.md / summary.csv: the numbers per configuration and how they print."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import plotting
from plotting import group_runs, load_runs, summary_table, to_markdown


def test_summary_table_values(groups) -> None:
    rows = {(r["traintype"], r["masktype"]): r for r in summary_table(groups)}
    main = rows["FreePruning", "mask"]
    assert main["n_seeds"] == 4 and main["n_complete"] == 3
    assert main["seeds"] == "0 1 2 3"
    assert main["epochs"] == 3 and main["n_final"] == 3
    assert main["final_test_acc_mean"] == pytest.approx(83.0)
    assert main["final_test_acc_min"] == pytest.approx(80.0)
    assert main["final_test_acc_max"] == pytest.approx(86.0)
    assert main["best_val_epochs"] == "2 3 1 1"
    assert main["best_val_epoch_mean"] == pytest.approx(1.75)
    assert (main["best_val_epoch_min"], main["best_val_epoch_max"]) == (1, 3)
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


def _cells(markdown: str, name: str) -> list[str]:
    (line,) = [ln for ln in markdown.splitlines() if ln.startswith(f"| {name} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_epochs_print_as_integers(tmp_path: Path, run_writer) -> None:
    """Best-validation epochs: "3" when all seeds agree, else mean [min-max]."""
    late = [0.1, 0.5, 0.6, 0.9]
    for seed in (1, 2, 3):
        run_writer(tmp_path, seed, late, lr=0.001)
    for seed, val in ((1, late), (2, [0.1, 0.9, 0.5, 0.6]), (3, [0.1, 0.5, 0.9, 0.6])):
        run_writer(tmp_path, seed, late, val, lr=0.01)
    markdown = to_markdown(summary_table(group_runs(load_runs(tmp_path))))
    same = _cells(markdown, "FreePruning · he · mask · lr 0.001")
    mixed = _cells(markdown, "FreePruning · he · mask · lr 0.01")
    assert same[1:3] == ["3", "3"] and same[6] == "3"  # seeds, epochs, best-val epoch
    assert mixed[6] == "2 [1–3]"
    assert same[3] == "90.00"  # accuracies keep two decimals


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
    assert "progress" not in rows[0] and "outputpath" not in rows[0]
    markdown = (tmp_path / "summary.md").read_text()
    assert "| FreePruning · he · mask · lr 0.001 | 4 (1 incomplete) | 3 |" in markdown
    assert "83.00 [80.00–86.00]" in markdown
    assert "| 1.8 [1–3] |" in markdown  # best-validation epochs 2, 3, 1, 1


def test_runs_without_validation_select_on_test(tmp_path, run_writer) -> None:
    for seed in (1, 2):  # edge-popup's recipe: no validation set
        run_writer(tmp_path, seed, [0.1, 0.8, 0.9, 0.85], traintype="EdgePopup",
                   masktype=None, m_valAccuracy=None)
    [row] = summary_table(group_runs(load_runs(tmp_path)))
    assert row["best_selected_on"] == "test" and row["best_val_epochs"] == "2 2"
    assert row["best_val_acc_mean"] == pytest.approx(90.0)
    assert row["test_at_best_val_mean"] == pytest.approx(90.0)
    assert "| 90.00 (test) | 2 | 90.00 |" in to_markdown([row])
