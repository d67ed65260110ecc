"""LaPerm through the shared trainer and CLI: run directories, invariants, errors."""

import json

import keras
import numpy as np
import pytest

from laperm import LaPerm
from masktrainer.cli import main
from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods import build_model
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import train


def _subset(s: Splits, n: int) -> Splits:
    return Splits(s.x_train[:n], s.y_train[:n], s.x_val[:1000], s.y_val[:1000],
                  s.x_test[:2000], s.y_test[:2000], s.num_classes, s.source)


@pytest.fixture(scope="module")
def f1_run(tmp_path_factory):
    from masktrainer.data.preprocessing import prepare
    from masktrainer.data.sources import load_embedded_mnist

    cfg = RunConfig(traintype="LaPerm", nettype="F1", maxepochs=2, seed=2, progress="none",
                    outputpath=str(tmp_path_factory.mktemp("lp")))
    assert (cfg.batchsize, cfg.sync_period, cfg.normalization, cfg.lr_schedule) == (
        128, 250, "scale01", "exp_decay")
    data = prepare(load_embedded_mnist(), normalization=cfg.normalization)
    return cfg, train(cfg, data=_subset(data, 20000), echo=None)


def test_laperm_f1_learns_and_logs_sync_statistics(f1_run):
    _, result = f1_run
    m = result.metrics
    assert m["testAccuracy"][-1] >= 0.75  # 2 epochs on 20k images (measured ~80 %)
    assert m["syncCount"] == [0, 0, 1]  # 157 steps/epoch, k = 250
    assert m["permutationIntact"] == [1, 1, 1]
    assert m["syncChangedPositions"][-1] > 0 and 0 < m["changedFromInitial"][-1] < 1


def test_saved_model_holds_a_permutation_of_the_initial_weights(f1_run):
    _, result = f1_run
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    final = load_arrays(result.run_dir / "final_weights.npz")
    key = next(iter(initial))
    np.testing.assert_array_equal(np.sort(final[key], axis=0), np.sort(initial[key], axis=0))
    assert set(np.unique(final[key])) == {0.0, np.float32(0.08)}  # weight-agnostic F1
    model = keras.models.load_model(result.run_dir / "model.keras")
    assert isinstance(model.optimizer, LaPerm) and model.optimizer.sync_period == 250
    np.testing.assert_array_equal(model.trainable_variables[0].numpy(), final[key])
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["method"] == "laperm" and config["sync_period"] == 250


@pytest.mark.parametrize("net,count", [("F2", 109_184), ("Conv7", 325_578)])
def test_notebook_models_build_with_their_recipes(net, count):
    cfg = RunConfig(traintype="LaPerm", nettype=net)
    model = build_model(cfg, (28, 28, 1), 10, run_seed=1)
    assert model.count_params() == count
    if net == "Conv7":
        assert (cfg.sync_period, cfg.skip_bias, cfg.batchsize, cfg.maxepochs) == (20, False, 50, 45)
        assert any("random" in l.name.lower() or isinstance(l, keras.Sequential)
                   for l in model.layers)  # augmentation in front


def test_cifar_recipes_and_the_raw_pixel_flag():
    cfg = RunConfig(traintype="LaPerm", nettype="Conv4")
    assert (cfg.dataset, cfg.sync_period, cfg.lr_schedule, cfg.normalization) == (
        "cifar10", 1000, "step_decay", "train_stats")
    assert RunConfig(traintype="LaPerm", nettype="Conv4", normalization="raw255").normalization \
        == "raw255"
    assert RunConfig(traintype="LaPerm", nettype="ResNet50").sync_period == 800


@pytest.mark.parametrize("args,message", [
    (["--traintype=LaPerm", "--nettype=VGG19"], "LaPerm models"),
    (["--traintype=LaPerm", "--nettype=LeNet", "--noshared_net"], "no LaPerm notebook model"),
    (["--traintype=LaPerm", "--nettype=F1", "--shared_net"], "--shared_net builds"),
    (["--traintype=LaPerm", "--nettype=F1", "--sync_period=0"], "sync_period"),
    (["--traintype=LaPerm", "--nettype=F1", "--random_keep_ratio=0.5"], "weight-agnostic"),
    (["--traintype=LaPerm", "--nettype=Conv7", "--random_keep_ratio=1.5"], "random_keep_ratio"),
    (["--traintype=LaPerm", "--nettype=F1", "--masktype=mask"], "does not apply"),
    (["--traintype=FreePruning", "--sync_period=10"], "LaPerm only"),
    (["--traintype=FreePruning", "--nettype=Conv7"], "use --traintype=LaPerm"),
    (["--traintype=FreePruning", "--lr_schedule=exp_decay"], "is a LaPerm schedule"),
])
def test_laperm_cli_errors(args, message, tmp_path, capsys):
    code = main(["prog", f"--outputpath={tmp_path / 'o'}", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert not (tmp_path / "o").exists()


def test_learning_rate_schedules_of_the_notebooks():
    from masktrainer.methods.train_by_reconnect import laperm_learning_rate

    assert laperm_learning_rate("exp_decay", 1e-3, 2) == pytest.approx(1e-3 * 0.95**2)
    assert laperm_learning_rate("step_decay", 1e-3, 25) == pytest.approx(1e-3 * 0.36)
    assert [laperm_learning_rate("laperm_resnet", 1e-3, e) for e in (80, 81, 121, 161, 181)] == \
        pytest.approx([1e-3, 1e-4, 1e-5, 1e-6, 5e-7])
    with pytest.raises(ConfigError):
        RunConfig(traintype="LaPerm", nettype="F1", optimizer="sgd")


def test_tie_order_default_and_the_previous_versions_random_order():
    from masktrainer.methods.upgrade import config_values

    assert RunConfig(traintype="LaPerm", nettype="F1").tie_break == "position"
    assert config_values({"traintype": "LaPerm", "nettype": "F1"})["tie_break"] == "random"
    model_cfg = RunConfig(traintype="LaPerm", nettype="F2", tie_break="random")
    from masktrainer.methods import method_of

    assert method_of(model_cfg).runtime.make_optimizer(model_cfg, 4).tie_break == "random"


def test_laperm_trains_the_shared_lenet_as_the_other_methods_build_it(mnist_splits, tmp_path):
    """LeNet-300-100 of the other methods, plain bias-free layers, He uniform, F2's recipe."""
    cfg = RunConfig(traintype="LaPerm", nettype="LeNet", maxepochs=1, seed=3, sync_period=50,
                    progress="none", outputpath=str(tmp_path))
    assert cfg.shared_net and (cfg.batchsize, cfg.lr_schedule, cfg.augment) == (
        128, "exp_decay", "none")
    shared = RunConfig(traintype="LaPerm", nettype="Conv4", shared_net=True)
    assert (shared.sync_period, shared.batchsize, shared.augment) == (1000, 50, "none")
    result = train(cfg, data=_subset(mnist_splits, 12800), echo=None)
    m = result.metrics
    assert m["syncCount"][-1] == 2 and m["permutationIntact"] == [1, 1]
    assert m["testAccuracy"][-1] > 0.85  # 100 steps (measured ~92 %)
    assert m["layer_sizes"] == [784 * 300, 300 * 100, 100 * 10]
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    final = load_arrays(result.run_dir / "final_weights.npz")
    for key, before in initial.items():  # each unit keeps its multiset of He uniform values
        np.testing.assert_array_equal(np.sort(final[key], axis=0), np.sort(before, axis=0))
        assert np.abs(before).max() <= np.sqrt(6 / before.shape[0])
    assert 0 < m["changedFromInitial"][-1] < 1
