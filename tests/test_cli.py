"""CLI: defaults, flag names, and one-line errors with exit status 2, nothing written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import masktrainer
from masktrainer.cli import UsageError, main, parse_args
from masktrainer.config import RunConfig

# Subprocesses import the same masktrainer as this test process (installed or checkout).
PACKAGE_ROOT = str(Path(masktrainer.__file__).resolve().parents[1])


FLAG_DEFAULTS_BEFORE_THE_METHODS_PACKAGE = {  # flag -> default of commit 4b2081f
    "activation": "relu", "batchsize": None, "binary_input_scale": "original",
    "checkpoint_every": 0, "data_dir": None, "data_source": "auto", "dataset": None,
    "deterministic": False, "distribute": "none", "eval_selection": None, "finetune_from": None,
    "initializer": None, "jit_compile": "auto", "keep_ratio": None, "lr": None,
    "lr_milestones": None, "lr_schedule": None, "manual_dir": None, "masktype": None,
    "maxepochs": None, "mixed_precision": False, "momentum": None, "nettype": "LeNet",
    "normalization": None, "optimizer": None, "outputpath": "Outputs", "p1": 0.5,
    "progress": "auto", "random_keep_ratio": None, "resnet_quirks": False, "resume": None,
    "scale_fan": False, "scale_fan_rule": "original", "seed": 0, "seeding": "independent",
    "selection": None, "selu_is_elu": False, "skip_bias": None, "skip_bn": None, "slots": None,
    "split": None, "split_dir": None, "sync_period": None, "tensorboard": True,
    "tfds_data_dir": None, "traintype": "FreePruning", "validation_size": 5000,
    "weight_decay": None, "width_mult": 1.0,
}


def test_every_flag_keeps_its_name_and_default():
    from absl import flags

    from masktrainer.cli import define_flags

    fv = flags.FlagValues()
    define_flags(fv)
    defaults = {name: fv[name].default for name in fv}
    for name, default in FLAG_DEFAULTS_BEFORE_THE_METHODS_PACKAGE.items():
        assert defaults.get(name, "missing") == default, name


def test_defaults_are_the_originals():
    cfg = parse_args(["prog"])
    assert (cfg.nettype, cfg.traintype, cfg.initializer, cfg.activation) == (
        "LeNet", "FreePruning", "he", "relu")
    assert (cfg.masktype, cfg.batchsize, cfg.maxepochs, cfg.seed, cfg.p1, cfg.lr) == (
        "mask", 25, 20, 0, 0.5, 1e-3)
    assert cfg.outputpath == "Outputs" and cfg.dataset == "mnist"


def test_readme_example_parses():
    cfg = parse_args(["prog", "--nettype", "Conv6", "--traintype", "MinPruning",
                      "--initializer", "heconstant", "--activation", "relu", "--masktype",
                      "mask", "--batchsize", "25", "--maxepochs", "100", "--seed", "1234",
                      "--p1", "0.5", "--lr", "0.003", "--outputpath", "Outputs"])
    assert cfg.nettype == "Conv6" and cfg.dataset == "cifar10" and cfg.alpha == -1.0
    assert cfg.lr == 0.003 and cfg.seed == 1234


@pytest.mark.parametrize("traintype,expected", [
    ("FreeFlipping", "flip"), ("MinFlipping", "flip"), ("Baseline", "mask"),
    ("MinPruning", "mask")])
def test_masktype_follows_traintype(traintype, expected):
    assert parse_args(["prog", f"--traintype={traintype}"]).masktype == expected


@pytest.mark.parametrize("args,message", [
    (["--nettype=ResNet1000"], "nettype"),
    (["--traintype=MaxPruning"], "traintype"),
    (["--traintype=FreeFlipping", "--masktype=mask"], "needs --masktype=flip"),
    (["--traintype=MinPruning", "--masktype=flip"], "needs --masktype=mask"),
    (["--p1=1.5"], "p1"),
    (["--batchsize=0"], "batchsize"),
    (["--maxepochs=-1"], "maxepochs"),
    (["--lr=0"], "lr"),
    (["--seed=-3"], "seed"),
    (["--lr=abc"], "lr"),
    (["--jit_compile=maybe"], "jit_compile"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["positional"], "unexpected argument"),
    (["--dataset=cifar10", "--data_source=embedded"], "embedded"),
    (["--data_dir=/nonexistent/folder"], "not a directory"),
    (["--data_source=embedded", "--data_dir=."], "drop --data_dir"),
    (["--data_source=tfds", "--data_dir=."], "--data_dir is for"),
    (["--data_source=files", "--manual_dir=."], "--manual_dir is for"),
    (["--data_dir=.", "--manual_dir=."], "not both"),
    (["--validation_size=60000"], "leaves no training images"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["prog", f"--outputpath={out}", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("masktrainer: error:") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("args,hint", [
    (["--nettype", "Lenet"], "did you mean 'LeNet'?"),
    (["--nettype=conv6wide"], "did you mean 'Conv6Wide'?"),
    (["--traintype=EdgePop"], "did you mean 'EdgePopup'?"),
    (["--masktype=mask_r"], "did you mean 'mask_rs'?"),
    (["--preset", "edge_popup_conv2_kx"], "did you mean 'edge_popup_conv2_kn'?"),
])
def test_mistyped_choice_suggests_the_closest_value(args, hint, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["prog", f"--outputpath={out}", *args])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and hint in err, err
    assert not out.exists()


@pytest.mark.parametrize("args", [["--nettype=zzz"], ["--preset", "nosuch"]])
def test_a_value_close_to_nothing_gets_no_suggestion(args, capsys):
    assert main(["prog", *args]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and len(err.strip().splitlines()) == 1


def test_config_file_choice_errors_suggest_too():
    from masktrainer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"is not one of: .*; did you mean 'he'\?"):
        RunConfig.from_dict({"initializer": "hee"})


def test_incomplete_data_dir_is_exit_2(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    code = main(["prog", f"--data_dir={tmp_path}", f"--outputpath={tmp_path / 'out'}"])
    err = capsys.readouterr().err
    assert code == 2 and "t10k-labels-idx1-ubyte.gz" in err and "missing in" in err and not (tmp_path / "out").exists()


def test_missing_cifar_data_is_a_clear_error_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["prog", "--nettype=Conv2", f"--outputpath={out}"])
    err = capsys.readouterr().err
    assert code == 2 and "cifar10 is not shipped" in err and "--data_dir" in err
    assert not out.exists()


def test_config_round_trips_through_json():
    cfg = parse_args(["prog", "--traintype=MinFlipping", "--initializer=binary"])
    import json

    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(Exception, match="unknown config field"):
        RunConfig.from_dict({"prune_rate": 0.5})


def test_usage_error_type():
    with pytest.raises(UsageError):
        parse_args(["prog", "--masktype=bogus"])


def test_module_entry_point_exit_status_and_help(tmp_path):
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    bad = subprocess.run([sys.executable, "-m", "masktrainer", "--p1=2",
                          f"--outputpath={tmp_path / 'o'}"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert bad.returncode == 2
    assert "masktrainer: error: --p1" in bad.stderr and not (tmp_path / "o").exists()
    ok = subprocess.run([sys.executable, "-m", "masktrainer", "--help"], capture_output=True,
                        text=True, env=env, cwd=tmp_path, timeout=300)
    assert ok.returncode == 0 and "--traintype" in ok.stdout and "--masktype" in ok.stdout
