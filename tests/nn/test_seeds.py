"""Sampling at evaluation draws from a stream of its own: evaluating never changes training.

Slot Machines' probabilistic selection with ``--eval_selection sample`` (the original's) and
supermask sampling with ``--eval_mask sample`` sample a network at every evaluation forward
pass. With one generator for both, an epoch-0 evaluation (or any change of ``--eval_sets`` /
``--eval_every``) shifted every later training draw, so two runs the cross-check treats as the
same experiment trained differently.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.methods.slot_machines.layers import SlotDense, SlotScores, SlotValues
from masktrainer.methods.supermask_sampling.layers import SupermaskDense
from masktrainer.nn.initializers import FanInUniformScores, KaimingWeights
from masktrainer.nn.seeds import EVAL_SAMPLER

LAYERS = {
    "slot_machines": lambda sample: SlotDense(
        6, slots=4, selection="probabilistic", eval_selection="sample" if sample else "argmax",
        activation=None, values_initializer=SlotValues(seed=3), score_initializer=SlotScores(seed=4),
        sample_seed=5),
    "supermask_sampling": lambda sample: SupermaskDense(
        6, activation=None, eval_mask="sample" if sample else "expected",
        kernel_initializer=KaimingWeights(seed=3), score_initializer=FanInUniformScores(seed=4),
        sample_seed=5),
}


def _training_outputs(layer, evaluate_between: bool) -> list[np.ndarray]:
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 5)), tf.float32)
    outputs = []
    for _ in range(3):
        if evaluate_between:
            layer(x, training=False)
        outputs.append(layer(x, training=True).numpy())
    return outputs


@pytest.mark.parametrize("method", sorted(LAYERS))
def test_evaluation_samples_never_shift_the_training_draws(method):
    plain, evaluated = LAYERS[method](True), LAYERS[method](True)
    for a, b in zip(_training_outputs(plain, False), _training_outputs(evaluated, True)):
        np.testing.assert_array_equal(a, b)
    # evaluation does sample (two evaluation passes differ) and from another stream
    x = tf.ones((1, 5))
    assert not np.array_equal(evaluated(x, training=False), evaluated(x, training=False))
    assert evaluated.eval_seed_generator.state.path.startswith(f"{EVAL_SAMPLER}/")


@pytest.mark.parametrize("method", sorted(LAYERS))
def test_only_layers_that_sample_at_evaluation_hold_an_evaluation_sampler(method):
    assert LAYERS[method](False).eval_seed_generator is None
    assert LAYERS[method](True).eval_seed_generator is not None


def _model():
    inputs = keras.Input((5,))
    model = keras.Model(inputs, LAYERS["slot_machines"](True)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 5)), np.ones((4, 6)), verbose=0)
    return model


def _states(model):
    return {v.path: v.numpy().copy() for v in model.variables if "seed_generator_state" in v.path}


def test_checkpoints_keep_both_streams_and_read_those_written_before_the_split(tmp_path):
    from masktrainer.run.checkpoints import RunCheckpoint

    model = _model()
    model(np.ones((1, 5)), training=False)  # advance the evaluation stream too
    (tmp_path / "checkpoint").mkdir()
    checkpoint = RunCheckpoint(tmp_path, model)
    checkpoint.save(1)
    saved = _states(model)
    assert len(saved) == 2 and all(s[1] > 0 for s in saved.values())
    for variable in model.variables:
        if "seed_generator_state" in variable.path:
            variable.assign(variable + 9)
    point = json.loads((tmp_path / "checkpoint" / "resume.json").read_text())
    checkpoint.restore(point)
    for path, value in _states(model).items():
        np.testing.assert_array_equal(value, saved[path])

    # A checkpoint from before: the training states only, in the list ``rng``.
    old = tmp_path / "old"
    (old / "checkpoint").mkdir(parents=True)
    train_state = [v for v in model.variables if "seed_generator_state" in v.path
                   and not v.path.startswith(EVAL_SAMPLER)]
    assert len(train_state) == 1
    written = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                  rng=[v.value for v in train_state])
    prefix = written.save(str(old / "checkpoint" / "ckpt"))
    expected = train_state[0].numpy().copy()
    train_state[0].assign(train_state[0] + 9)
    resumed = RunCheckpoint(old, model)
    resumed.restore({"epoch": 1, "checkpoint": prefix.rsplit("/", 1)[-1]})
    np.testing.assert_array_equal(train_state[0].numpy(), expected)
