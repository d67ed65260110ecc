"""Self-pruning and sign flipping (masktrainer.methods.self_pruning): the original's recipe,
what each train type trains, the mask-type checks, its folder, recorder and input scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.methods import get_method
from masktrainer.methods.self_pruning import METHOD, TRAIN_TYPES, default_masktype
from masktrainer.methods.self_pruning.binary_scale import ORIGINAL_BINARY_SCALES


def test_every_train_type_is_the_methods_and_flipping_types_flip():
    assert METHOD.train_types == tuple(TRAIN_TYPES) and METHOD.name == "self-pruning"
    for traintype in TRAIN_TYPES:
        assert get_method(traintype) is METHOD
        assert RunConfig(traintype=traintype).masktype == default_masktype(traintype)
    assert default_masktype("MinFlipping") == "flip" and default_masktype("Baseline") == "mask"


@pytest.mark.parametrize("traintype, weights, scores, alpha", [
    ("Baseline", True, False, 0.0), ("FreePruning", False, True, 0.0),
    ("MinPruning", False, True, -1.0), ("FreeFlipping", False, True, 0.0),
    ("MinFlipping", False, True, -1.0)])
def test_what_each_train_type_trains_and_penalises(traintype, weights, scores, alpha):
    cfg = RunConfig(traintype=traintype)
    assert (cfg.train_weights, cfg.train_scores, cfg.alpha) == (weights, scores, alpha)


def test_the_originals_recipe_and_protocol():
    cfg = RunConfig()
    assert (cfg.traintype, cfg.initializer, cfg.optimizer, cfg.lr, cfg.batchsize) == (
        "FreePruning", "he", "adam", 1e-3, 25)
    assert (cfg.maxepochs, cfg.weight_decay, cfg.lr_schedule, cfg.augment) == (
        20, 0.0, "constant", "none")
    assert (cfg.split, cfg.eval_sets, cfg.initial_eval) == ("head", "val,test", "full")
    resnet = RunConfig(nettype="ResNet")
    assert (resnet.augment, resnet.lr_schedule, resnet.lr_milestones) == (
        "shift_flip", "multistep", "80,120,160")
    # A schedule given on a ResNet gets no milestones of the original's (it was refused).
    cosine = RunConfig(nettype="ResNet", lr_schedule="cosine")
    assert (cosine.lr_schedule, cosine.lr_milestones) == ("cosine", None)
    assert RunConfig(nettype="ResNet", lr_milestones="5").lr_milestones == "5"
    restarts = RunConfig(nettype="ResNet", lr_schedule="cosine_restarts")
    assert restarts.lr_milestones == "80,120,160"  # a schedule that takes milestones keeps them


@pytest.mark.parametrize("values, message", [
    ({"traintype": "FreeFlipping", "masktype": "mask"},
     "--traintype=FreeFlipping flips signs and needs --masktype=flip (got --masktype=mask); "
     "use a *Pruning train type to prune"),
    ({"traintype": "MinPruning", "masktype": "flip"},
     "--traintype=MinPruning prunes and needs --masktype=mask or mask_rs (got --masktype=flip); "
     "use a *Flipping train type to flip signs"),
    ({"masktype": "sign"}, "--masktype='sign' is not one of: mask, mask_rs, flip"),
    ({"initializer": "kaiming_normal"},
     "--initializer='kaiming_normal' is not one of: he, glorot, heconstant, binary, normal "
     "(the initializers of --traintype=FreePruning)"),
])
def test_mismatched_settings_are_one_line_errors(values, message):
    with pytest.raises(ConfigError) as error:
        RunConfig(**values)
    assert str(error.value).split("; did you mean")[0] == message


def test_the_originals_folder_and_description():
    cfg = RunConfig(traintype="MinPruning", outputpath="out", p1=0.5, masktype="mask_rs")
    assert METHOD.recipe.run_folder(cfg) == Path("out/MinPruning/LeNet/P1_0.5/"
                                                 "mask_rs_relu_he_LR0.001")
    assert METHOD.recipe.describe(cfg) == "init he, mask mask_rs"
    assert RunConfig(**METHOD.recipe.example()).traintype == "MinPruning"


def test_figures_flip_signs_by_mask_type():
    assert METHOD.figures.flips_signs({"masktype": "flip"})
    assert not METHOD.figures.flips_signs({"masktype": "mask"})
    assert not METHOD.figures.flips_signs({})
    assert METHOD.figures.legend_fields == ("masktype",)


def test_only_binary_weights_scale_the_inputs_and_never_on_resnet():
    runtime = METHOD.runtime
    assert runtime.input_scale(RunConfig(), (28, 28, 1), 10) == 1.0
    binary = RunConfig(initializer="binary")
    assert runtime.input_scale(binary, (28, 28, 1), 10) == ORIGINAL_BINARY_SCALES["LeNet"]
    resnet = RunConfig(initializer="binary", nettype="ResNet")
    assert runtime.input_scale(resnet, (32, 32, 3), 10) == 1.0


def test_the_recorder_keeps_trained_kernels_and_counts_flips():
    import keras

    from masktrainer.methods.self_pruning.layers import SelfPruningLayers
    from masktrainer.nn.seeds import LayerSeeds

    def recorder(traintype: str):
        cfg = RunConfig(traintype=traintype)
        inputs = keras.Input((6,))
        layer = SelfPruningLayers.from_config(cfg).dense(4, None, LayerSeeds(1, 2), "d")
        return METHOD.runtime.recorder(cfg, keras.Model(inputs, layer(inputs)))

    assert recorder("Baseline").keep_kernels and not recorder("Baseline").signed
    assert not recorder("FreePruning").keep_kernels
    assert recorder("FreeFlipping").signed and recorder("FreeFlipping").layer_sizes == [24]
