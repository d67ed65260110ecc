"""TFLite (builtin ops only): a model of every method converts and predicts as Keras does."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.methods.edge_popup.layers import sorted_top_k_mask, top_k_mask
from masktrainer.methods.slot_machines.layers import SlotDense, select_slot

METHODS = {method.key: method for method in methods.METHODS}
CASES = [(key, {}) for key in METHODS] + [
    ("slot_machines", {"slots": 8, "selection": "greedy"}),  # K = 8: agreed on 6 % before
    ("edge_popup", {"nettype": "Conv2", "dataset": "cifar10"}),
]


def _tflite_predict(model, x: np.ndarray) -> np.ndarray:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.parametrize("key,overrides", CASES, ids=lambda v: str(v) if v else "example")
def test_every_method_converts_to_tflite_and_predicts_as_keras(key, overrides):
    method = METHODS[key]
    cfg = RunConfig(**{"traintype": method.train_types[0], **method.recipe.example(), **overrides})
    shape = (28, 28, 1) if cfg.dataset == "mnist" else (32, 32, 3)
    runtime = method.runtime
    model = runtime.build_model(cfg, shape, 10, run_seed=1, prepared=runtime.prepare(cfg))
    assert max(int(np.prod(w.shape)) for w in model.weights) > 1024  # failed before
    x = np.random.RandomState(0).rand(16, *shape).astype(np.float32)
    expected = model.predict(x, verbose=0)
    got = _tflite_predict(model, x)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_the_export_mask_is_the_training_mask_bit_for_bit():
    rng = np.random.RandomState(0)
    magnitudes = np.abs(rng.randn(5000)).astype(np.float32)
    magnitudes[100:400] = 0.5  # ties at the threshold: the lower indices are kept
    for keep in (1, 250, 2500, 4999):
        exported = sorted_top_k_mask(tf.constant(magnitudes), keep).numpy()
        trained = top_k_mask(tf.constant(magnitudes), tf.constant(keep)).numpy()
        assert np.array_equal(exported, trained) and exported.sum() == keep


def test_the_slot_gather_is_the_one_hot_sum_bit_for_bit():
    layer = SlotDense(units=30, slots=8)
    layer.build((None, 40))
    scores = tf.convert_to_tensor(layer.score)
    onehot = select_slot(scores, layer.selected_slots())
    summed = tf.reduce_sum(tf.convert_to_tensor(layer.values) * onehot, axis=-1).numpy()
    assert np.array_equal(layer.get_effective_kernel().numpy(), summed)
    x = np.random.RandomState(1).rand(4, 40).astype(np.float32)
    # evaluation (gather) and a training step's forward pass (one-hot sum) agree; greedy
    # selection samples nothing
    layer.selection = "greedy"
    assert np.array_equal(layer(x, training=False).numpy(), layer(x, training=True).numpy())
