"""The LaPerm permutation tracer (plotting/tracer.py) on a real LaPerm run directory."""

import shutil
from pathlib import Path

import numpy as np
from matplotlib.patches import ConnectionPatch

import plotting
from laperm.layout import permutation_map, to_rows
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.run.trainer import train

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v0_runs"


def test_the_tracer_draws_an_arrow_for_every_value_that_moved_within_the_window(
        tmp_path, mnist_splits):
    s = mnist_splits  # Conv7's he_uniform weights are distinct values, as the tracer assumes
    data = Splits(s.x_train[:400], s.y_train[:400], s.x_val[:100], s.y_val[:100],
                  s.x_test[:100], s.y_test[:100], 10, s.source)
    cfg = RunConfig(traintype="LaPerm", nettype="Conv7", maxepochs=1, batchsize=50, lr=0.01,
                    sync_period=4, augment="none", seed=1, outputpath=str(tmp_path / "runs"),
                    progress="none", tensorboard=False)
    run = train(cfg, data=data, echo=None).run_dir
    figures = plotting.plot_runs(tmp_path / "runs", out=tmp_path / "figures")
    assert "permutation_tracer" in figures and (tmp_path / "figures" /
                                                "permutation_tracer.png").stat().st_size > 0
    with np.load(run / "initial_weights.npz") as a, np.load(run / "final_weights.npz") as b:
        kernels = [n for n in a.files if a[n].ndim in (2, 4)]
        name = min(kernels, key=lambda n: to_rows(a[n]).shape[1])  # the tracer's choice
        initial, final = a[name], b[name]
    width = min(12, to_rows(initial).shape[1])  # Conv7's first kernel: rows of 3x3x1 = 9
    destination = np.argsort(permutation_map(initial, final), axis=-1)[:6, :width]
    positions = np.arange(width)[None, :]
    expected = int(np.sum((destination != positions) & (destination < width)))
    arrows = [a for sub in figures["permutation_tracer"].subfigs for a in sub.artists
              if isinstance(a, ConnectionPatch)]
    assert len(arrows) == expected > 0
    title = figures["permutation_tracer"].subfigs[0]._suptitle.get_text()
    moved = int(np.sum(destination != positions))
    assert f"{moved} of {6 * width} moved, {expected} within" in title


def test_no_tracer_without_laperm_runs(tmp_path):
    shutil.copytree(FIXTURES / "freepruning_complete", tmp_path / "runs" / "fp")
    assert "permutation_tracer" not in plotting.plot_runs(tmp_path / "runs", out=tmp_path / "f")
