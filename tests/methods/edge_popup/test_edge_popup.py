"""Short real-MNIST EdgePopup runs: run directories, exact kept counts, floors."""


import keras
import numpy as np
import pytest

from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods import method_of
from masktrainer.methods.edge_popup.layers import kept_count
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import train

SIZES = [235_200, 30_000, 1_000]


def _subset(splits: Splits, n_train: int) -> Splits:
    return Splits(splits.x_train[:n_train], splits.y_train[:n_train], splits.x_val[:2000],
                  splits.y_val[:2000], splits.x_test[:2000], splits.y_test[:2000],
                  splits.num_classes, splits.source)


def test_edge_popup_run_keeps_exactly_k_per_layer(tmp_path, mnist_splits):
    cfg = RunConfig(traintype="EdgePopup", keep_ratio=0.3, initializer="signed_constant",
                    maxepochs=2, seed=13, outputpath=str(tmp_path), progress="none",
                    jit_compile="off")
    result = train(cfg, data=_subset(mnist_splits, 10_000), echo=None)
    m = result.metrics
    assert m["testAccuracy"][-1] >= 0.85  # floor: 10k images, 2 epochs (measured 87.5 %)
    kept = [kept_count(n, 0.3) for n in SIZES]
    for epoch in range(3):
        assert m["keptFractionPerLayer"][epoch] == [[k / n] for k, n in zip(kept, SIZES)]
        assert m["remainingWeights"][epoch] == sum(kept)
    # The compare tables' "changed" column: the pruned connections, from the start.
    changed = method_of(cfg).figures.changed_fraction(cfg, m, result.run_dir)
    assert changed == pytest.approx(1 - sum(kept) / sum(SIZES))
    masks = load_arrays(result.run_dir / "masks.npz")
    assert [int(masks[n].sum()) for n in ("dense_1", "dense_2", "output")] == kept
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    model = keras.models.load_model(result.run_dir / "model.keras")
    np.testing.assert_array_equal(model.get_layer("dense_1").kernel.numpy(), initial["dense_1"])
    assert result.run_dir.parent.relative_to(tmp_path).parts == (
        "EdgePopup", "LeNet", "KEEP_0.3", "signed_constant_relu_LR0.1")
