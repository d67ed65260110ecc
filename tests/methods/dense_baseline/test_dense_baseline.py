"""The dense baselines (masktrainer.methods.dense_baseline): hidden-networks' recipes per
network and optimizer, its protocol, folder, checks, and trained weights without scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.methods import get_method
from masktrainer.methods.dense_baseline import ADAM_LR, METHOD, SGD_RECIPES


def _cfg(**values) -> RunConfig:
    return RunConfig(traintype="DenseBaseline", **values)


@pytest.mark.parametrize("nettype, optimizer, expected", [
    ("LeNet", "sgd", (0.1, 128, 1e-4, "cosine")),
    ("Conv4", "sgd", (0.01, 128, 1e-4, "cosine")),
    ("cResNet18", "sgd", (0.1, 256, 5e-4, "cosine")),
    ("Conv6Wide", "sgd", (0.1, 128, 1e-4, "cosine")),
    ("LeNet", "adam", (1.2e-3, 60, 0.0, "constant")),
    ("Conv2", "adam", (2e-4, 60, 0.0, "constant")),
    ("Conv4", "adam", (3e-4, 60, 0.0, "constant")),
])
def test_the_recipe_of_each_network_and_optimizer(nettype, optimizer, expected):
    cfg = _cfg(nettype=nettype, optimizer=optimizer)
    assert (cfg.lr, cfg.batchsize, cfg.weight_decay, cfg.lr_schedule) == expected
    assert cfg.maxepochs == 100 and cfg.initializer == "kaiming_normal"
    assert cfg.method == "dense_baseline" and cfg.architecture == nettype
    assert (cfg.train_weights, cfg.train_scores) == (True, False)


def test_the_tables_name_known_networks_only():
    assert set(SGD_RECIPES) <= set(METHOD.recipe.nettypes)
    assert set(ADAM_LR) <= set(METHOD.recipe.nettypes)


def test_hidden_networks_data_and_protocol():
    cifar = _cfg(nettype="Conv4", protocol="original")
    assert (cifar.normalization, cifar.augment) == ("hidden_networks", "crop_flip")
    assert (cifar.split, cifar.eval_sets, cifar.initial_eval) == ("test", "test", "none")
    held_out = _cfg(nettype="Conv4")
    assert (held_out.protocol, held_out.split, held_out.eval_sets) == (
        "held_out", "head", "val,test")
    assert _cfg(nettype="LeNet").augment == "none"
    imagenet = _cfg(nettype="ResNet50")
    assert (imagenet.lr, imagenet.momentum, imagenet.warmup_epochs, imagenet.batchsize) == (
        0.256, 0.875, 5, 256)
    assert imagenet.label_smoothing == 0.1 and imagenet.weight_decay == 2.0**-15


def test_an_initializer_of_another_method_is_refused():
    with pytest.raises(ConfigError, match=r"^--initializer='he' is not one of: kaiming_normal, "
                                          r".* \(the initializers of --traintype=DenseBaseline\)"):
        _cfg(initializer="he")


def test_folder_description_and_network_options():
    cfg = _cfg(nettype="Conv2", outputpath="out", initializer="signed_constant", lr=0.05)
    assert METHOD.recipe.run_folder(cfg) == Path(
        "out/DenseBaseline/Conv2/sgd/signed_constant_relu_LR0.05")
    assert METHOD.recipe.describe(cfg) == "trained weights from signed_constant"
    assert METHOD.runtime.network_options(cfg) == {"affine_batchnorm": True}
    assert get_method("DenseBaseline") is METHOD and METHOD.name == "DenseBaseline"
    assert _cfg(**METHOD.recipe.example()).lr == 0.05
