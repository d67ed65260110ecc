"""ResNet20 of Ivan & Florian: structure, quirks, and a mirrored training run."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods import build_model, epoch_learning_rate
from masktrainer.methods.counts import masked_layers
from masktrainer.nn.build import kernel_parameter_count
from masktrainer.run.trainer import train


@pytest.mark.parametrize("quirks", [False, True])
def test_resnet20_structure(quirks):
    cfg = RunConfig(nettype="ResNet", resnet_quirks=quirks)
    model = build_model(cfg, (32, 32, 3), 10, run_seed=4)
    assert kernel_parameter_count(model) == 270_896
    layers = masked_layers(model)
    assert len(layers) == 22 and layers[-1].name == "output"
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in model.layers) == 19
    same_shape = [l.kernel.numpy() for l in layers if tuple(l.kernel.shape) == (3, 3, 16, 16)]
    identical = all(np.array_equal(same_shape[0], k) for k in same_shape[1:])
    assert identical == quirks  # the original shares one seed across layers
    x = np.random.RandomState(0).randn(4, 32, 32, 3).astype(np.float32)
    probabilities = model.predict(x, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    if quirks:  # softmax of a softmax lies in [1/(e+9), e/(e+9)]
        assert probabilities.min() >= 1 / (np.e + 9) - 1e-6
        assert probabilities.max() <= np.e / (np.e + 9) + 1e-6


def test_resnet_schedule_and_quirk_flags():
    cfg = RunConfig(nettype="ResNet", lr=0.003)
    assert cfg.lr_schedule == "multistep" and cfg.lr_milestones == "80,120,160"
    assert [epoch_learning_rate(cfg, e) for e in (0, 80, 120, 160)] == pytest.approx(
        [3e-3, 3e-4, 3e-5, 3e-6])
    quirky = RunConfig(nettype="ResNet", lr=0.003, resnet_quirks=True)
    assert epoch_learning_rate(quirky, 0) == pytest.approx(1e-3)  # --lr ignored
    with pytest.raises(ConfigError, match="ResNet only"):
        RunConfig(nettype="LeNet", resnet_quirks=True)


def test_resnet20_free_pruning_trains_under_mirrored_strategy(tmp_path):
    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.skip("needs 2 logical CPU devices (set up in conftest.py)")
    rng = np.random.RandomState(0)
    x = rng.randn(96, 32, 32, 3).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(0, 10, 96)]
    data = Splits(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:], 10, "synthetic")
    cfg = RunConfig(nettype="ResNet", traintype="FreePruning", maxepochs=1, batchsize=16,
                    seed=3, distribute="mirrored", outputpath=str(tmp_path), progress="none",
                    tensorboard=False)
    metrics = train(cfg, data=data, echo=None).metrics
    assert np.isfinite(metrics["trainLoss"][-1]) and len(metrics["testAccuracy"]) == 2
    assert metrics["remainingWeights"][0] == 270_896
