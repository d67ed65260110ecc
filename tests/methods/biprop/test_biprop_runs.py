"""A short real-MNIST Biprop run: exact kept counts, alpha from the saved arrays, a floor."""

import keras
import numpy as np

from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods.biprop.layers import alpha_denominator
from masktrainer.methods.edge_popup.layers import kept_count
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import train

SIZES = [235_200, 30_000, 1_000]
LAYERS = ("dense_1", "dense_2", "output")


def _subset(splits: Splits, n_train: int) -> Splits:
    return Splits(splits.x_train[:n_train], splits.y_train[:n_train], splits.x_val[:2000],
                  splits.y_val[:2000], splits.x_test[:2000], splits.y_test[:2000],
                  splits.num_classes, splits.source)


def test_biprop_run_keeps_exactly_k_binarised_weights_per_layer(tmp_path, mnist_splits):
    cfg = RunConfig(traintype="Biprop", keep_ratio=0.3, maxepochs=2, seed=13,
                    outputpath=str(tmp_path), progress="none", jit_compile="off")
    result = train(cfg, data=_subset(mnist_splits, 10_000), echo=None)
    m = result.metrics
    # floor: 10k images, 2 epochs, 30 % of the weights kept as +-alpha: measured 82.65 % (x86-64
    # CPU, TF 2.21); 7.6 pp of room for other machines' float differences, while a mask that
    # did not learn stays near 10 %
    assert m["testAccuracy"][-1] >= 0.75
    kept = [kept_count(n, 0.3) for n in SIZES]
    for epoch in range(3):
        assert m["keptFractionPerLayer"][epoch] == [[k / n] for k, n in zip(kept, SIZES)]
        assert m["remainingWeights"][epoch] == sum(kept)
    masks = load_arrays(result.run_dir / "masks.npz")
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    assert [int(masks[n].sum()) for n in LAYERS] == kept
    model = keras.models.load_model(result.run_dir / "model.keras")
    for name, size, alpha in zip(LAYERS, SIZES, m["alphaPerLayer"][-1]):
        kernel = initial[name]
        np.testing.assert_array_equal(model.get_layer(name).kernel.numpy(), kernel)  # frozen
        want = np.abs(kernel)[masks[name] != 0].sum(dtype=np.float64) / alpha_denominator(
            size, 0.3)
        np.testing.assert_allclose(alpha[0], want, rtol=1e-5)
        applied = model.get_layer(name).get_effective_kernel().numpy()
        np.testing.assert_allclose(applied, np.sign(kernel) * masks[name] * alpha[0],
                                   rtol=1e-6)
    assert result.run_dir.parent.relative_to(tmp_path).parts == (
        "Biprop", "LeNet", "KEEP_0.3", "kaiming_normal_relu_LR0.1")
