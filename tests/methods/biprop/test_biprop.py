"""The biprop method: its recipe, its checks (one-line errors, exit 2), folder and line."""

import json
from pathlib import Path

import pytest

from masktrainer import methods
from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.methods.biprop import METHOD


def test_biprop_is_registered_with_edge_popups_options():
    assert methods.get_method("Biprop") is METHOD
    ours = {o.name: o for o in METHOD.recipe.options}
    assert set(ours) == {"keep_ratio", "scale_fan", "scale_fan_rule", "alpha_rule"}
    edge_popup = {o.name: o for o in methods.get_method("EdgePopup").recipe.options}
    for name in ("keep_ratio", "scale_fan", "scale_fan_rule"):  # one declaration, shared
        assert ours[name] is edge_popup[name]
    assert "alpha_rule" not in edge_popup


@pytest.mark.parametrize("nettype, batch, decay", [("Conv4", 128, 1e-4), ("Conv8", 128, 1e-4),
                                                   ("cResNet18", 256, 5e-4)])
def test_defaults_are_the_original_smallscale_recipe(nettype, batch, decay):
    cfg = RunConfig(traintype="Biprop", nettype=nettype, protocol="original")
    assert (cfg.dataset, cfg.optimizer, cfg.lr, cfg.momentum, cfg.lr_schedule) == (
        "cifar10", "sgd", 0.1, 0.9, "cosine")
    assert (cfg.batchsize, cfg.weight_decay, cfg.maxepochs) == (batch, decay, 100)
    assert (cfg.keep_ratio, cfg.initializer, cfg.scale_fan, cfg.alpha_rule) == (
        0.5, "kaiming_normal", False, "original")
    assert (cfg.normalization, cfg.augment) == ("hidden_networks", "crop_flip")
    assert (cfg.split, cfg.eval_sets, cfg.initial_eval) == ("test", "test", "none")
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_run_folder_and_description_name_the_settings():
    cfg = RunConfig(traintype="Biprop", nettype="Conv4", keep_ratio=0.3, scale_fan=True,
                    alpha_rule="kept", outputpath="out")
    assert METHOD.recipe.run_folder(cfg) == Path(
        "out/Biprop/Conv4/KEEP_0.3/kaiming_normal_scalefan_relu_LR0.1_alphakept")
    assert METHOD.recipe.describe(cfg) == ("keep_ratio 0.3, init kaiming_normal (scale_fan original), "
                                    "alpha_rule kept")
    plain = RunConfig(traintype="Biprop", outputpath="out")
    assert METHOD.recipe.run_folder(plain).name == "kaiming_normal_relu_LR0.1"


@pytest.mark.parametrize("settings, message", [
    ({"initializer": "he"}, "initializers of --traintype=Biprop"),
    ({"initializer": "kaiming_uniform", "scale_fan": True}, "--scale_fan has no effect"),
    ({"scale_fan_rule": "kept"}, "--scale_fan_rule needs --scale_fan"),
    ({"scale_fan": True, "keep_ratio": 1.0}, "scales the fan by 1 - 1 = 0"),
    ({"alpha_rule": "mean"}, "alpha_rule"),
    ({"keep_ratio": 0.0}, "keep_ratio"),
])
def test_bad_settings_are_one_line_config_errors(settings, message):
    with pytest.raises(ConfigError, match=message) as raised:
        RunConfig(traintype="Biprop", **settings)
    assert "\n" not in str(raised.value)


def test_its_own_flag_is_refused_for_other_methods():
    with pytest.raises(ConfigError, match="applies to --traintype=Biprop only"):
        RunConfig(traintype="EdgePopup", alpha_rule="kept")


@pytest.mark.parametrize("args, message", [
    (["--traintype=Biprop", "--alpha_rule=mean"], "alpha_rule"),
    (["--traintype=Biprop", "--keep_ratio=1.5"], "keep_ratio"),
    (["--traintype=Biprop", "--initializer=binary"], "initializer"),
    # LeNet's output layer: 1000 weights, int(0.0005 * 1000) = 0 (found when it is built)
    (["--traintype=Biprop", "--keep_ratio=0.0005", "--maxepochs=1"], "divides alpha by 0"),
])
def test_the_command_line_exits_2_with_one_line(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["p", f"--outputpath={out}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("masktrainer: error:") and message in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_changed_fraction_counts_every_rebinarised_weight():
    counts = [[0, 700, 300, 0, 700, 300]]  # one layer of 1000 weights, 300 kept
    metrics = {"remainingWeightsPerLayer": [counts], "layer_sizes": [1000]}
    random = RunConfig(traintype="Biprop", keep_ratio=0.3)
    assert METHOD.figures.changed_fraction(random, metrics, Path(".")) == 1.0  # kept: +-alpha != w
    constant = RunConfig(traintype="Biprop", keep_ratio=0.3, initializer="signed_constant")
    assert METHOD.figures.changed_fraction(constant, metrics, Path(".")) == 0.7  # alpha = |w|: pruned
    odd = {**metrics, "layer_sizes": [1001]}  # int(0.3 * 1001) = 300, 301 kept: alpha != |w|
    assert METHOD.figures.changed_fraction(constant, odd, Path(".")) == 1.0


def test_its_help_shows_the_edge_popup_flags_it_takes():
    from masktrainer.help import help_text

    text = help_text("method", RunConfig(traintype="Biprop"))
    assert "(--traintype=EdgePopup/Biprop only):" in text
    assert "--keep_ratio" in text and "--alpha_rule" in text
    assert "--slots" not in text  # another method's group stays out
