"""Optimisers and per-epoch learning-rate schedules."""


import numpy as np
import tensorflow as tf

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


