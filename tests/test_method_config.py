"""EdgePopup / SlotMachine configuration: defaults, errors (exit 2), architectures, optimiser, split."""

import math

import numpy as np
import pytest
import tensorflow as tf

from masktrainer.cli import main, parse_args
from masktrainer.config import ConfigError, RunConfig
from masktrainer.methods import DenseReferenceLayers, EdgePopupLayers, SlotMachineLayers
from masktrainer.networks import build_network, kernel_fan_ins, kernel_parameter_count
from masktrainer.optim import L2MomentumSGD, epoch_learning_rate
from masktrainer.splits import slot_machines_split

COUNTS = {  # CROSSCHECK.md C12
    "Conv8": 5_275_840,
    "SlotConv2": 3_317_952,
    "SlotConv4": 1_147_072,
    "SlotConv6": 1_474_752,
    "VGG19": 20_024_000,
}


def test_issue_command_lines_parse_with_the_originals_recipes():
    ep = parse_args(["p", "--traintype=EdgePopup", "--nettype=Conv4", "--keep_ratio=0.5",
                     "--initializer=signed_constant"])
    assert (ep.optimizer, ep.momentum, ep.weight_decay, ep.lr_schedule) == ("sgd", 0.9, 1e-4, "cosine")
    assert (ep.lr, ep.batchsize, ep.maxepochs, ep.masktype) == (0.1, 128, 100, None)
    assert ep.method == "edge_popup" and ep.architecture == "Conv4"
    sm = parse_args(["p", "--traintype=SlotMachine", "--nettype=LeNet", "--slots=8",
                     "--selection=greedy"])
    assert (sm.lr, sm.maxepochs, sm.weight_decay, sm.split, sm.eval_selection) == (
        0.1, 120, 0.0, "slot_machines", "argmax")
    prob = RunConfig(traintype="SlotMachine", nettype="Conv6", selection="probabilistic")
    assert (prob.lr, prob.maxepochs, prob.architecture) == (25.0, 180, "SlotConv6")
    assert RunConfig(traintype="SlotMachine", slots=16).lr == 0.01
    vgg = RunConfig(traintype="SlotMachine", nettype="VGG19")
    assert (vgg.weight_decay, vgg.lr_schedule, vgg.lr_milestones) == (1e-4, "multistep", "80")
    sp = RunConfig()  # the self-pruning defaults are unchanged
    assert (sp.optimizer, sp.lr, sp.batchsize, sp.maxepochs, sp.weight_decay) == (
        "adam", 1e-3, 25, 20, 0.0)


@pytest.mark.parametrize("args,message", [
    (["--traintype=EdgePopup", "--keep_ratio=0"], "keep_ratio"),
    (["--traintype=EdgePopup", "--keep_ratio=1.2"], "(0, 1]"),
    (["--keep_ratio=0.5"], "does not apply to --traintype=FreePruning"),
    (["--traintype=EdgePopup", "--initializer=he"], "initializer"),
    (["--traintype=EdgePopup", "--masktype=mask"], "masktype"),
    (["--traintype=EdgePopup", "--scale_fan", "--initializer=kaiming_uniform"], "scale_fan"),
    (["--traintype=EdgePopup", "--slots=4"], "--slots does not apply"),
    (["--traintype=SlotMachine", "--slots=1"], "K=1"),
    (["--traintype=SlotMachine", "--slots=0"], "slots"),
    (["--traintype=SlotMachine", "--eval_selection=sample"], "probabilistic"),
    (["--traintype=SlotMachine", "--keep_ratio=0.5"], "keep_ratio"),
    (["--traintype=SlotMachine", "--dataset=fashion_mnist", "--split=slot_machines"], "split"),
    (["--traintype=SlotMachine", "--finetune_from=/nonexistent/run"], "not a directory"),
    (["--traintype=SlotMachine", "--finetune_from=.", "--selection=greedy"], "finetune_from"),
    (["--optimizer=adam", "--momentum=0.9"], "momentum"),
    (["--weight_decay=1e-4"], "optimizer=sgd"),
    (["--lr_schedule=multistep"], "lr_milestones"),
    (["--nettype=Conv4", "--width_mult=2"], "width_mult"),
    (["--selection=greedy"], "does not apply"),
    (["--split=test", "--validation_size=100"], "does not apply to --split=test"),
])
def test_bad_method_flags_exit_2_with_one_line(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["p", f"--outputpath={out}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("masktrainer: error:") and message in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_finetune_from_a_folder_that_is_not_a_run_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["p", "--traintype=SlotMachine", f"--finetune_from={tmp_path}",
                 f"--outputpath={out}"]) == 2
    assert "not a finished run" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_of_the_new_architectures(name):
    for factory in (DenseReferenceLayers(), SlotMachineLayers(slots=2)):
        model = build_network(name, (32, 32, 3), 10, factory)
        assert kernel_parameter_count(model) == COUNTS[name]
    fans = kernel_fan_ins(name, (32, 32, 3), 10)
    assert fans[-1] == (512 if name == "VGG19" else 256)
    assert fans[0] == 27 and (name != "VGG19" or len(fans) == 17)


def test_slot_convs_use_valid_padding_and_vgg_has_non_affine_bn():
    model = build_network("SlotConv6", (32, 32, 3), 10, DenseReferenceLayers())
    assert model.get_layer("flatten").output.shape[-1] == 1024
    assert [model.get_layer(f"conv_{i}").padding for i in range(1, 7)] == ["valid"] * 4 + ["same"] * 2
    assert model.get_layer("dropout_1").rate == 0.5
    vgg = build_network("VGG19", (32, 32, 3), 10, EdgePopupLayers())
    bn = vgg.get_layer("bn_16")
    assert not bn.center and not bn.scale and bn.epsilon == 1e-5
    assert vgg.get_layer("flatten").output.shape[-1] == 512


def test_wide_architectures_scale_every_width():
    cfg = RunConfig(traintype="EdgePopup", nettype="Conv4Wide", width_mult=2.0)
    from masktrainer.networks import get_architecture

    arch = get_architecture(cfg.architecture, cfg.width_mult)
    assert arch.conv == (128, 128, "pool", 256, 256, "pool") and arch.dense == (512, 512)
    model = build_network(arch, (32, 32, 3), 10, EdgePopupLayers())
    assert model.get_layer("flatten").output.shape[-1] == 256 * 64


def test_l2_momentum_sgd_is_pytorch_sgd():
    var = tf.Variable([1.0, -2.0])
    opt = L2MomentumSGD(0.1, momentum=0.9, l2=0.01)
    p, buf = np.array([1.0, -2.0]), np.zeros(2)
    for step, g in enumerate([np.array([0.5, 0.1]), np.array([-0.2, 0.3]), np.array([0.0, 1.0])]):
        lr = 0.1 if step < 2 else 0.05
        opt.learning_rate.assign(lr)
        opt.apply_gradients([(tf.constant(g, tf.float32), var)])
        grad = g + 0.01 * p
        buf = 0.9 * buf + grad
        p = p - lr * buf
        np.testing.assert_allclose(var.numpy(), p, rtol=1e-6)


def test_learning_rate_schedules():
    cosine = RunConfig(traintype="EdgePopup", maxepochs=4)
    assert [epoch_learning_rate(cosine, e) for e in range(4)] == pytest.approx(
        [0.1 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)])
    step = RunConfig(traintype="SlotMachine", nettype="VGG19", maxepochs=100)
    assert epoch_learning_rate(step, 79) == pytest.approx(0.1)
    assert epoch_learning_rate(step, 80) == pytest.approx(0.01)
    with pytest.raises(ConfigError):
        RunConfig(optimizer="sgd", lr_schedule="multistep", lr_milestones="80,40")


def test_slot_machines_split_is_the_originals_permutation():
    train, val = slot_machines_split("mnist", 60_000)
    assert (len(train), len(val)) == (50_000, 10_000)
    assert list(train[:5]) == [35022, 53142, 22198, 57442, 2619]
    assert list(val[:3]) == [43532, 36910, 868]
    assert sorted(np.concatenate([train, val])) == list(range(60_000))
    train, val = slot_machines_split("cifar10", 50_000)
    assert (len(train), len(val)) == (45_000, 5_000) and list(val[:3]) == [9329, 44100, 23783]


def test_split_test_trains_on_every_image_and_validates_on_test():
    from masktrainer.trainer import load_data

    splits = load_data(RunConfig(traintype="LaPerm", nettype="F1", split="test"))
    assert len(splits.x_train) == 60_000
    np.testing.assert_array_equal(splits.x_val, splits.x_test)
    np.testing.assert_array_equal(splits.y_val, splits.y_test)
    assert float(splits.x_train.max()) == 1.0  # F1's notebook scaling x/255
