"""hidden-networks' shared recipe: what it sets, that an explicit setting wins, and that the
methods built on it (edge-popup, supermask sampling, the dense baselines) all take it."""

from __future__ import annotations

import pytest

from masktrainer.config import RunConfig
from masktrainer.methods import hidden_networks
from masktrainer.options import Draft

SETTINGS = ("lr", "momentum", "warmup_epochs", "label_smoothing", "weight_decay", "batchsize",
            "normalization", "augment", "split", "eval_sets", "initial_eval")


def _draft(**values) -> Draft:
    return Draft({**dict.fromkeys(SETTINGS), "dataset": "cifar10", **values})


def test_the_imagenet_recipe_and_the_cifar_pipeline():
    draft = _draft(lr=0.05)  # set by the user: the recipe leaves it
    hidden_networks.imagenet_recipe(draft, 0.256)
    hidden_networks.hidden_networks_data(draft)
    hidden_networks.hidden_networks_evaluation(draft)
    assert draft.values() == {
        "dataset": "cifar10", "lr": 0.05, "momentum": 0.875, "warmup_epochs": 5,
        "label_smoothing": 0.1, "weight_decay": 2.0**-15, "batchsize": 256,
        "normalization": "hidden_networks", "augment": "crop_flip", "split": "test",
        "eval_sets": "test", "initial_eval": "none"}


def test_mnist_has_no_augmentation():
    draft = _draft(dataset="mnist")
    hidden_networks.hidden_networks_data(draft)
    assert draft.augment == "none"


@pytest.mark.parametrize("traintype", ["EdgePopup", "SupermaskSampling", "DenseBaseline"])
def test_the_methods_built_on_it_evaluate_as_it_does(traintype):
    cfg = RunConfig(traintype=traintype, nettype="Conv4", dataset="cifar10", protocol="original")
    assert (cfg.split, cfg.eval_sets, cfg.initial_eval, cfg.augment) == (
        "test", hidden_networks.EVAL_SETS, hidden_networks.INITIAL_EVAL, "crop_flip")
