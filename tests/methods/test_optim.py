"""Optimisers and per-epoch learning-rate schedules."""

import math

import numpy as np
import pytest
import tensorflow as tf

from masktrainer.config import ConfigError, RunConfig
from masktrainer.methods import epoch_learning_rate
from masktrainer.methods.optim import L2MomentumSGD


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
