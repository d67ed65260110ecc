"""EdgePopup / SlotMachine configuration: defaults, errors (exit 2), architectures, optimiser, split."""


import pytest

from masktrainer.cli import main, parse_args
from masktrainer.config import RunConfig


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
















@pytest.mark.parametrize("nettype, optimizer, lr, batch", [
    ("LeNet", "sgd", 0.1, 128),  # fc/fc_sgd_baseline.yml
    ("Conv4", "sgd", 0.01, 128),  # conv4/conv4_sgd_baseline.yml
    ("Conv6Wide", "sgd", 0.1, 128),  # densewide/conv6wide_hlrsgd_baseline.yml
    ("LeNet", "adam", 1.2e-3, 60),  # fc/fc_adam_baseline.yml
])
def test_the_dense_baselines_take_the_originals_recipes(nettype, optimizer, lr, batch):
    cfg = RunConfig(traintype="DenseBaseline", nettype=nettype, optimizer=optimizer)
    assert (cfg.lr, cfg.batchsize) == (lr, batch)
