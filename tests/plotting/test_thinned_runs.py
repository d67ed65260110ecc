"""The plotter and its summary cope with runs that evaluate some epochs and some sets only
(--eval_every, edge-popup's test set only, no epoch 0)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.run.trainer import train
from plotting.plotter import main


def _data(n: int = 250) -> Splits:
    rng = np.random.RandomState(0)
    x = rng.rand(n, 28, 28, 1).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, n)]
    return Splits(x[:150], y[:150], x[150:200], y[150:200], x[200:], y[200:], 10, "random")


def test_plots_and_summary_of_thinned_runs(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    for seed in (1, 2):
        for options in ({"traintype": "EdgePopup"},  # test set only, nothing at epoch 0
                        {"traintype": "FreePruning", "eval_every": 2}):
            cfg = RunConfig(maxepochs=3, batchsize=50, seed=seed, outputpath=str(runs),
                            progress="none", tensorboard=False, **options)
            train(cfg, data=_data(), echo=None)
    assert main(["--runs", str(runs), "--out", str(tmp_path / "out")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert any((tmp_path / "out").glob("*.png"))
    with open(tmp_path / "out" / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(row["final_test_acc_mean"] not in ("", "nan") for row in rows)
