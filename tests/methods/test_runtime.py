"""A method's runtime (masktrainer.methods.runtime): the shared hooks a method inherits, the
model it builds from its layers, and the run's augmentation."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import normalized_black
from masktrainer.methods import get_method
from masktrainer.methods.optim import L2MomentumSGD
from masktrainer.methods.recording import Recorder
from masktrainer.methods.runtime import Runtime, training_augmentation
from masktrainer.methods.schedules import shared_learning_rate
from masktrainer.nn.augment import RandomPadCrop


def _schedule_cfg(**changes) -> SimpleNamespace:
    values = dict(lr_schedule="cosine", lr=0.1, maxepochs=10, lr_milestones=None,
                  resnet_quirks=False, warmup_epochs=0)
    return SimpleNamespace(**{**values, **changes})


def test_the_base_hooks_add_nothing():
    runtime, cfg = Runtime(), SimpleNamespace()
    assert runtime.keras_modules == () and runtime.metadata_keys == ()
    assert runtime.loss_over_batches is False
    assert runtime.prepare(cfg) is None and runtime.run_metadata(cfg, None) == {}
    assert runtime.network_options(cfg) == {} and runtime.input_scale(cfg, (28, 28, 1), 10) == 1.0
    with pytest.raises(NotImplementedError, match="^Runtime builds no layers of its own$"):
        runtime.layers(cfg)


def test_the_learning_rate_is_the_shared_schedule_of_the_run():
    runtime = Runtime()
    assert runtime.learning_rate(_schedule_cfg(), 0) == pytest.approx(0.1)
    assert runtime.learning_rate(_schedule_cfg(), 5) == pytest.approx(0.05)
    warm = _schedule_cfg(warmup_epochs=2)
    assert runtime.learning_rate(warm, 0) == pytest.approx(0.05)
    steps = _schedule_cfg(lr_schedule="multistep", lr_milestones="3,6")
    assert [runtime.learning_rate(steps, epoch) for epoch in (2, 3, 6)] == pytest.approx(
        [0.1, 0.01, 0.001])
    assert runtime.learning_rate(steps, 4) == shared_learning_rate(
        "multistep", 0.1, 4, 10, "3,6", False, 0)


def test_the_shared_optimizers():
    adam = Runtime().make_optimizer(SimpleNamespace(optimizer="adam", lr=0.002, momentum=None,
                                                    weight_decay=0.0), 0)
    assert isinstance(adam, keras.optimizers.Adam)
    assert float(adam.learning_rate) == pytest.approx(0.002)
    sgd = Runtime().make_optimizer(SimpleNamespace(optimizer="sgd", lr=0.1, momentum=0.9,
                                                   weight_decay=1e-4), 0)
    assert isinstance(sgd, L2MomentumSGD) and float(sgd.learning_rate) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        Runtime().make_optimizer(SimpleNamespace(optimizer="rmsprop", lr=0.1, momentum=None,
                                                 weight_decay=None), 0)


def test_build_model_uses_the_methods_layers_and_seed():
    cfg = RunConfig(traintype="DenseBaseline", nettype="LeNet")
    runtime = get_method(cfg.traintype).runtime
    model = runtime.build_model(cfg, (28, 28, 1), 10, run_seed=3)
    again = runtime.build_model(cfg, (28, 28, 1), 10, run_seed=3)
    other = runtime.build_model(cfg, (28, 28, 1), 10, run_seed=4)
    assert model.name == "LeNet_DenseBaseline" and model.output_shape == (None, 10)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense and all(layer.trainable and not layer.use_bias for layer in dense)
    first = dense[0].kernel.numpy()
    np.testing.assert_array_equal(first, [layer for layer in again.layers
                                          if isinstance(layer, keras.layers.Dense)][0].kernel)
    assert not np.array_equal(first, [layer for layer in other.layers
                                      if isinstance(layer, keras.layers.Dense)][0].kernel)
    recorder = runtime.recorder(cfg, model)
    assert type(recorder) is Recorder and len(recorder.layer_names) == len(dense)


def test_training_augmentation_pads_crops_with_the_normalised_black():
    plain = SimpleNamespace(augment="none", nettype="Conv2", normalization="train_stats",
                            dataset="cifar10")
    assert training_augmentation(plain, 1) is None
    crop = SimpleNamespace(augment="crop_flip", nettype="Conv2",
                           normalization="hidden_networks", dataset="cifar10")
    pipeline = training_augmentation(crop, 1)
    (pad,) = [layer for layer in pipeline.layers if isinstance(layer, RandomPadCrop)]
    black = normalized_black("hidden_networks", "cifar10")
    assert black is not None and pad.fill == pytest.approx(list(black))
    assert any(isinstance(layer, keras.layers.RandomFlip) for layer in pipeline.layers)


def test_the_shared_adam_adds_epsilon_where_tf1s_apply_adam_did():
    """Self-pruning's original (tf.keras Adam of TF 1.14, TF's ApplyAdam kernel) adds epsilon to
    the root of the *uncorrected* second moment: step 1 moves a gradient g by
    lr * g / (|g| + eps / sqrt(1 - beta2)), not torch's lr * g / (|g| + eps). Score gradients of
    FreePruning's big layers lie near 3e-6, where the two differ by a factor of about two."""
    adam = Runtime().make_optimizer(SimpleNamespace(optimizer="adam", lr=3e-3, momentum=None,
                                                    weight_decay=0.0), 0)
    grad = np.array([3e-6, -1e-6, 1e-3], np.float32)
    variable = keras.Variable(np.zeros(3, np.float32))
    adam.apply_gradients([(keras.ops.convert_to_tensor(grad), variable)])
    eps = 1e-7 / np.sqrt(1 - 0.999)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable),
                               -3e-3 * grad / (np.abs(grad) + eps), rtol=1e-4)
