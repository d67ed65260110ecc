"""Forward values and straight-through gradients of the three mask functions."""

import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.self_pruning.masks import (
    binary_mask,
    get_mask_function,
    rescaled_mask,
    sign_mask,
)

SCORES = np.array([-2.0, -0.1, 0.0, 0.3, 5.0], np.float32)
UPSTREAM = np.array([0.5, -1.0, 2.0, 3.0, -4.0], np.float32)


def _value_and_grad(fn, scores=SCORES):
    s = tf.Variable(scores)
    with tf.GradientTape() as tape:
        out = fn(tf.convert_to_tensor(s))
        loss = tf.reduce_sum(out * UPSTREAM)
    return out.numpy(), tape.gradient(loss, s).numpy()


def test_binary_mask_forward_is_exactly_zero_one():
    out, grad = _value_and_grad(binary_mask)
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(grad, UPSTREAM)  # identity straight-through


def test_rescaled_mask_uses_n_over_one_plus_nnz():
    out, grad = _value_and_grad(rescaled_mask)
    scale = 5.0 / (1.0 + 2.0)
    np.testing.assert_allclose(out, [0, 0, 0, scale, scale], rtol=1e-6)
    np.testing.assert_array_equal(grad, UPSTREAM)  # scale invisible to the gradient


def test_rescaled_mask_all_kept_is_n_over_n_plus_one():
    out = rescaled_mask(tf.constant(np.full(9, 0.05, np.float32))).numpy()
    np.testing.assert_allclose(out, np.full(9, 9 / 10), rtol=1e-6)


def test_sign_mask_forward_and_gradient():
    out, grad = _value_and_grad(sign_mask)
    np.testing.assert_array_equal(out, [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(grad, UPSTREAM)


@pytest.mark.parametrize("name", ["mask", "mask_rs", "flip"])
def test_masks_work_under_xla(name):
    fn = get_mask_function(name)

    @tf.function(jit_compile=True)
    def step(s):
        with tf.GradientTape() as tape:
            tape.watch(s)
            loss = tf.reduce_sum(fn(s) * UPSTREAM)
        return tape.gradient(loss, s)

    np.testing.assert_array_equal(step(tf.constant(SCORES)).numpy(), UPSTREAM)


def test_unknown_mask_type_is_rejected():
    with pytest.raises(ValueError, match="unknown masktype"):
        get_mask_function("topk")
