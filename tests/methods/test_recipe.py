"""A method's recipe (masktrainer.methods.recipe): the shared defaults and protocols every
method starts from, and what the base class answers for a method that overrides nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from masktrainer.methods.recipe import Recipe
from masktrainer.nn.architectures import NETTYPES
from masktrainer.options import Draft

FILLED = ("dataset", "protocol", "split", "eval_sets", "initial_eval", "normalization",
          "augment", "warmup_epochs", "label_smoothing", "momentum")


class _OwnDefaults(Recipe):
    def defaults(self, draft: Draft) -> None:
        draft.put("augment", "crop_flip")
        draft.put("split", "slot_machines")  # wins over both protocols' split


def _filled(recipe: Recipe, **given: Any) -> dict[str, Any]:
    values = {key: None for key in FILLED}
    values.update(nettype="LeNet", resnet_quirks=False, optimizer="adam")
    values.update(given)
    draft = Draft(values)
    recipe.fill(draft)
    return draft.values()


def test_fill_gives_the_held_out_protocol_and_shared_fallbacks():
    values = _filled(Recipe())
    assert {key: values[key] for key in FILLED} == {
        "dataset": "mnist", "protocol": "held_out", "split": "head", "eval_sets": "val,test",
        "initial_eval": "sets", "normalization": "train_stats", "augment": "none",
        "warmup_epochs": 0, "label_smoothing": 0.0, "momentum": None}
    assert _filled(Recipe(), optimizer="sgd")["momentum"] == 0.9
    assert _filled(Recipe(), optimizer="sgd", momentum=0.5)["momentum"] == 0.5


def test_imagenet_and_resnet_quirks_run_the_originals_protocol():
    imagenet = _filled(Recipe(), nettype="ResNet50")
    assert (imagenet["dataset"], imagenet["protocol"]) == ("imagenet2012", "original")
    assert (imagenet["split"], imagenet["eval_sets"]) == ("test", "val,test")
    quirks = _filled(Recipe(), nettype="ResNet", resnet_quirks=True)
    assert (quirks["dataset"], quirks["protocol"], quirks["split"]) == (
        "cifar10", "original", "head")


def test_given_values_and_the_methods_defaults_win():
    values = _filled(_OwnDefaults(), protocol="original", eval_sets="test")
    assert values["augment"] == "crop_flip" and values["split"] == "slot_machines"
    assert values["protocol"] == "original" and values["eval_sets"] == "test"
    assert _filled(_OwnDefaults())["split"] == "slot_machines"
    values = {key: None for key in FILLED if key != "momentum"}
    with pytest.raises(KeyError, match="unknown setting 'momentum'"):  # a put never adds one
        Recipe().fill(Draft({**values, "nettype": "LeNet", "resnet_quirks": False,
                             "optimizer": "sgd"}))


def test_original_settings_ignore_the_runs_own_split():
    assert Recipe().original_settings({"dataset": "cifar10", "split": "head"}) == (
        "head", "val,test")
    assert Recipe().original_settings({"dataset": "imagenet2012"}) == ("test", "val,test")


def test_the_base_answers_for_a_method_that_overrides_nothing():
    recipe, cfg = Recipe(), SimpleNamespace(nettype="Conv6", traintype="X")
    assert recipe.nettypes == NETTYPES and recipe.options == () and recipe.lr_schedules == ()
    assert recipe.architecture(cfg) == "Conv6" and recipe.kind(cfg) is None
    assert recipe.trainable(cfg) == (False, True) and recipe.alpha(cfg) == 0.0
    assert recipe.describe(cfg) == "" and recipe.example() == {}
    assert recipe.validate(cfg) is None
    with pytest.raises(NotImplementedError):
        recipe.run_folder(cfg)
