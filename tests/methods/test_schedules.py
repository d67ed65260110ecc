"""The shared per-epoch learning-rate schedules (masktrainer.methods.schedules), directly and as a
method's configuration reaches them."""

import math

import pytest

from masktrainer.config import ConfigError, RunConfig
from masktrainer.methods import epoch_learning_rate
from masktrainer.methods.schedules import RESNET_QUIRKS_LR, parse_milestones, shared_learning_rate


def test_learning_rate_schedules():
    cosine = RunConfig(traintype="EdgePopup", maxepochs=4)
    assert [epoch_learning_rate(cosine, e) for e in range(4)] == pytest.approx(
        [0.1 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)])
    step = RunConfig(traintype="SlotMachine", nettype="VGG19", maxepochs=100)
    assert epoch_learning_rate(step, 79) == pytest.approx(0.1)
    assert epoch_learning_rate(step, 80) == pytest.approx(0.01)
    with pytest.raises(ConfigError):
        RunConfig(optimizer="sgd", lr_schedule="multistep", lr_milestones="80,40")


def test_cosine_restarts_restart_at_each_milestone():
    cfg = RunConfig(traintype="SlotMachine", lr=0.2, maxepochs=200, weight_decay=1e-4,
                    lr_schedule="cosine_restarts", lr_milestones="25,75")
    rates = [epoch_learning_rate(cfg, e) for e in range(200)]
    assert rates[0] == rates[25] == rates[75] == pytest.approx(0.2)  # the warm restarts
    assert rates[24] < rates[23] < 0.2 and rates[74] < rates[73]  # a cosine in each segment
    assert rates[50] == pytest.approx(0.1)  # half way through 25..75
    assert rates[137] == pytest.approx(0.1 * (1 + math.cos(math.pi * 62 / 125)))
    with pytest.raises(ConfigError, match="cosine_restarts needs --lr_milestones"):
        RunConfig(traintype="SlotMachine", lr_schedule="cosine_restarts")


def test_milestones_parse_and_bad_ones_are_one_line_config_errors():
    assert parse_milestones("80") == [80]
    assert parse_milestones("60,120") == [60, 120]
    for bad in ("x", "120,60", "0", "5,5", ""):
        with pytest.raises(ConfigError, match="--lr_milestones"):
            parse_milestones(bad)


def test_warmup_is_linear_then_the_cosine_spans_the_remaining_epochs():
    rates = [shared_learning_rate("cosine", 0.1, e, 6, warmup=2) for e in range(6)]
    assert rates[:3] == pytest.approx([0.05, 0.1, 0.1])
    assert rates[4] == pytest.approx(0.05)  # half way through epochs 2..6


def test_multistep_steps_by_a_tenth_and_resnet_quirks_start_from_adams_default():
    rates = [shared_learning_rate("multistep", 0.5, e, 6, milestones="2,4") for e in range(6)]
    assert rates == pytest.approx([0.5, 0.5, 0.05, 0.05, 0.005, 0.005])
    quirks = shared_learning_rate("multistep", 0.5, 0, 6, milestones="2", resnet_quirks=True)
    assert quirks == pytest.approx(RESNET_QUIRKS_LR)
    assert shared_learning_rate("constant", 0.3, 5, 6) == 0.3
    with pytest.raises(ValueError, match="unknown lr_schedule"):
        shared_learning_rate("linear", 0.1, 0, 6)
